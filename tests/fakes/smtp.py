"""A real SMTP server on loopback (aiosmtpd) that records what it accepts and refuses on cue.

It can speak STARTTLS or implicit TLS with a self-signed certificate made for the test, and
require a login; the client under test is given a context that trusts that certificate.
"""

from __future__ import annotations

import datetime
import email.policy
import ipaddress
import socket
import ssl
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class Recorder:
    """The server's handler: messages accepted, and scripted replies for the next commands."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.encrypted: list[bool] = []
        self.data_replies: list[str] = []  # answers to the next DATA commands, then 250
        self.rcpt_reply: str | None = None  # answer to every RCPT TO while set
        self.hang_up_after_data = False  # take the message, then drop the line unanswered
        self.data_attempts = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.data_attempts += 1
        if self.data_replies:
            return self.data_replies.pop(0)
        content = envelope.content.replace(b"\r\n", b"\n")  # as a mailbox stores it
        parsed = BytesParser(policy=email.policy.default).parsebytes(content)
        self.messages.append(parsed)  # type: ignore[arg-type]
        self.recipients.append(list(envelope.rcpt_tos))
        self.encrypted.append(server.transport.get_extra_info("ssl_object") is not None)
        if self.hang_up_after_data:
            server.transport.close()
        return "250 2.0.0 Message accepted for delivery"


def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeSmtp:
    """`async with FakeSmtp() as smtp:` serves on 127.0.0.1:`smtp.port` until the block ends."""

    def __init__(
        self,
        port: int | None = None,
        *,
        tls: str | None = None,  # None, "starttls" or "implicit"
        certs: Path | None = None,
        users: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.recorder = Recorder()
        self.users = users or {}
        self.logins: list[str] = []
        kwargs: dict[str, Any] = {}
        if tls:
            assert certs is not None, "TLS needs the certificate directory"
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            server_context.load_cert_chain(certs / "cert.pem", certs / "key.pem")
            key = "ssl_context" if tls == "implicit" else "tls_context"
            kwargs[key] = server_context
            if tls == "starttls":
                kwargs["require_starttls"] = True
        if self.users:
            kwargs |= {"authenticator": self._authenticate, "auth_required": True}
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, **kwargs)

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.users.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 235/535

    @property
    def messages(self) -> list[EmailMessage]:
        return self.recorder.messages

    def __enter__(self) -> FakeSmtp:
        self.controller.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.controller.stop()

    async def __aenter__(self) -> FakeSmtp:
        return self.__enter__()

    async def __aexit__(self, *exc: Any) -> None:
        self.__exit__(None, None, None)


def make_certificate(directory: Path) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1 in `directory`; a client context that trusts it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ssl.create_default_context(cafile=str(directory / "cert.pem"))
