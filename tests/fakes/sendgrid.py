"""SendGrid Inbound Parse requests, built as SendGrid posts them (multipart/form-data).

Fields and their order follow SendGrid's documented payload: `headers` (the raw header
block), `dkim`, `to`, `from`, `text`, `html`, `sender_ip`, `spam_report`, `envelope`,
`attachments`, `subject`, `spam_score`, `attachment-info`, `charsets`, `SPF`, and one
file part per attachment (`attachment1`, ...). Each text field is encoded in the charset
`charsets` names for it.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

_ids = itertools.count(1)


@dataclass
class InboundEmailForm:
    sender: str = "Ava Chen <ava@example.com>"
    to: str = "Pigeon Supply Co. <support@example.com>"
    subject: str = "Where is my order?"
    text: str | None = "Hi, where is my order #1001?\n\nThanks,\nAva\n"
    html: str | None = None
    message_id: str | None = field(default_factory=lambda: f"<msg{next(_ids)}@mail.example.com>")
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    extra_headers: dict[str, str] = field(default_factory=dict)
    charsets: dict[str, str] = field(default_factory=dict)
    attachments: Sequence[tuple[str, str, bytes]] = ()  # (filename, content type, content)
    envelope_from: str | None = "ava@example.com"
    extra_fields: dict[str, str] = field(default_factory=dict)

    def headers(self) -> str:
        lines = [
            "Received: from mail.example.com by mx.sendgrid.net with ESMTP",
            "Date: Mon, 15 Jun 2026 16:58:00 +0000",
            f"From: {self.sender}",
            f"To: {self.to}",
            f"Subject: {self.subject}",
        ]
        if self.message_id:
            lines.append(f"Message-ID: {self.message_id}")
        if self.in_reply_to:
            lines.append(f"In-Reply-To: {self.in_reply_to}")
        if self.references:
            lines.append("References: " + "\n ".join(self.references))  # folded, as clients do
        lines += [f"{k}: {v}" for k, v in self.extra_headers.items()]
        lines.append('Content-Type: multipart/alternative; boundary="000000000000abc"')
        return "\n".join(lines) + "\n"

    def fields(self) -> list[tuple[str, str]]:
        info = {
            f"attachment{n}": {"filename": name, "name": name, "type": kind}
            for n, (name, kind, _) in enumerate(self.attachments, 1)
        }
        envelope = {"to": ["support@example.com"], "from": self.envelope_from}
        pairs = [
            ("headers", self.headers()),
            ("dkim", "{@example.com : pass}"),
            ("to", self.to),
            ("from", self.sender),
            ("text", self.text),
            ("html", self.html),
            ("sender_ip", "203.0.113.5"),
            ("envelope", json.dumps(envelope) if self.envelope_from is not None else None),
            ("attachments", str(len(self.attachments))),
            ("subject", self.subject),
            ("spam_score", "0.1"),
            ("attachment-info", json.dumps(info) if info else None),
            ("charsets", json.dumps(self.charsets_for_all())),
            ("SPF", "pass"),
            *self.extra_fields.items(),
        ]
        return [(k, v) for k, v in pairs if v is not None]

    def charsets_for_all(self) -> dict[str, str]:
        names = ("to", "from", "subject", "text", "html")
        return {name: self.charsets.get(name, "UTF-8") for name in names}

    def encode(self) -> tuple[str, bytes]:
        """(Content-Type, body) of the multipart/form-data request."""
        boundary = f"xYzZY{uuid.uuid4().hex}"
        charsets = self.charsets_for_all()
        out = bytearray()
        for name, value in self.fields():
            out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            out += value.encode(charsets.get(name, "utf-8")) + b"\r\n"
        for n, (filename, kind, content) in enumerate(self.attachments, 1):
            out += (
                f"--{boundary}\r\nContent-Disposition: form-data; "
                f'name="attachment{n}"; filename="{filename}"\r\n'
                f"Content-Type: {kind}\r\n\r\n"
            ).encode()
            out += content + b"\r\n"
        out += f"--{boundary}--\r\n".encode()
        return f"multipart/form-data; boundary={boundary}", bytes(out)
