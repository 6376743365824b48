"""The email seam: SMTP (stdlib smtplib) when SMTP_URL is set, else the inbox keeps the email.

Both are synchronous; the sender runs them on a worker thread. Errors come back as ours:
transient (try again later) or permanent (the server refused this email for good).
"""

from __future__ import annotations

import ipaddress
import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from bot.config import Settings
from bot.customers import mask_email
from bot.errors import PigeonError

log = logging.getLogger(__name__)

TIMEOUT = 30.0  # seconds for each SMTP command (connect, each reply, the data)


class EmailSendError(PigeonError):
    """An email did not go out; `code` is the SMTP reply code when the server gave one."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientEmailError(EmailSendError):
    """Worth another try later; `maybe_sent` when the server may have the email already."""

    def __init__(self, message: str, code: int | None = None, *, maybe_sent: bool = False):
        super().__init__(message, code)
        self.maybe_sent = maybe_sent


class PermanentEmailError(EmailSendError):
    """The server refused this email for good (an SMTP 5xx): sending it again cannot help."""


class EmailTransport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand `message` over, or raise an EmailSendError."""


class KeptInInbox:
    """No SMTP_URL: the email is kept in the inbox, as the embedded default."""

    def send(self, message: EmailMessage) -> None:
        log.info(
            "SMTP_URL is not set: the email to %s is kept in the inbox; nothing left this machine",
            mask_email(str(message["To"])),
        )


class SmtpTransport:
    """smtp:// (STARTTLS when the server offers it) or smtps:// (TLS from the start)."""

    def __init__(
        self, url: str, timeout: float = TIMEOUT, context: ssl.SSLContext | None = None
    ) -> None:
        parts = urlsplit(url)
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password or "")
        self.timeout = timeout
        self.context = context or ssl.create_default_context()  # certificates are verified

    def send(self, message: EmailMessage) -> None:
        client: _Smtp | _SmtpSsl | None = None
        try:
            client = self._connect()
            self._hello(client)
            refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (None, b""))
            raise _by_code(code, f"recipient refused: {_text(reply)}") from None
        except smtplib.SMTPAuthenticationError as exc:  # the operator's to fix: retried till then
            raise TransientEmailError(
                f"SMTP login failed ({exc.smtp_code}): check SMTP_URL", exc.smtp_code
            ) from None
        except smtplib.SMTPResponseException as exc:
            reason = f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}"
            raise _by_code(exc.smtp_code, reason) from None
        except (smtplib.SMTPException, OSError) as exc:  # disconnected, refused, timed out, TLS
            started = bool(client and client.data_started)
            raise TransientEmailError(
                f"{type(exc).__name__} talking to {self.host}:{self.port}: {exc}",
                maybe_sent=started,
            ) from None
        finally:
            _close(client)
        if refused:
            raise PermanentEmailError(f"recipient refused: {refused}")

    def _connect(self) -> _Smtp | _SmtpSsl:
        if self.implicit_tls:
            return _SmtpSsl(self.host, self.port, timeout=self.timeout, context=self.context)
        return _Smtp(self.host, self.port, timeout=self.timeout)

    def _hello(self, client: smtplib.SMTP) -> None:
        client.ehlo()
        encrypted = self.implicit_tls
        if not encrypted and client.has_extn("starttls"):
            client.starttls(context=self.context)
            client.ehlo()
            encrypted = True
        if self.user:
            if not encrypted and not _is_loopback(self.host):
                raise TransientEmailError(
                    f"{self.host} offers no STARTTLS: the SMTP password is not sent in the clear"
                )
            client.login(self.user, self.password)


class _TracksData:
    """Remembers whether DATA began: a connection lost after that may have delivered."""

    data_started = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_started = True
        return super().data(msg)  # type: ignore[misc]


class _Smtp(_TracksData, smtplib.SMTP):
    pass


class _SmtpSsl(_TracksData, smtplib.SMTP_SSL):
    pass


def transport_for(settings: Settings) -> EmailTransport:
    """SMTP when SMTP_URL is set; else the email stays in the inbox."""
    return SmtpTransport(settings.smtp_url) if settings.smtp_url else KeptInInbox()


def _by_code(code: int | None, message: str) -> EmailSendError:
    if code is not None and 500 <= code < 600:
        return PermanentEmailError(message, code)
    return TransientEmailError(message, code)


def _close(client: smtplib.SMTP | None) -> None:
    """QUIT politely; an error here cannot undo an email already accepted."""
    if client is None:
        return
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _text(reply: bytes | str) -> str:
    raw = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(raw.split())[:300]
