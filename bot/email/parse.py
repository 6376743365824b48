"""An inbound email as SendGrid Inbound Parse posts it, read into a frozen dataclass.

SendGrid posts `from`, `to`, `subject`, `text`, `html` and the raw `headers`, with
`envelope`, `charsets`, `attachments`, `attachment-info`, `SPF`, `dkim` and others that
may come or not; unknown fields are ignored. With "POST the raw, full MIME message" on,
the whole message comes as `email` instead, and is read with the same stdlib parser.
"""

from __future__ import annotations

import email.policy
import hashlib
import json
import re
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.message import EmailMessage, Message
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses

from bot.customers import normalize_email
from bot.email.form import FilePart, Form
from bot.email.html_text import html_to_text

MAX_ATTACHMENTS = 50  # noted per email; a flood of parts is summarised by the count
_MSG_ID = re.compile(r"<[^<>\s]{1,500}>")
_HEADERS = HeaderParser(policy=email.policy.compat32)


class BadInbound(ValueError):
    """The form is not an inbound email we can store; the message says which field."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int  # bytes as received; the content itself is never kept

    def as_json(self) -> dict[str, str | int]:
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size}


@dataclass(frozen=True)
class InboundEmail:
    from_address: str  # normalised: ava@example.com
    from_name: str | None
    to: str
    subject: str
    text: str  # the plain-text part as sent (or the HTML part's text), history included
    message_id: str  # <id@host>; made from the content when the sender gave none
    in_reply_to: str | None
    references: tuple[str, ...]
    auto_submitted: str | None = None  # the Auto-Submitted header, lower-case
    precedence: str | None = None  # the Precedence header, lower-case
    autoreply_header: bool = False  # X-Autoreply / X-Autorespond present
    envelope_from: str | None = None  # None: unknown; "": a bounce's empty return path
    attachments: tuple[Attachment, ...] = ()


def parse(form: Form) -> InboundEmail:
    """Read the fields SendGrid posts; BadInbound when `from` is missing or not an address."""
    charsets = _charsets(form)

    def field(name: str) -> str:
        return _decode(form, name, charsets.get(name))

    raw_mime = form.fields.get("email")
    if raw_mime and not (form.fields.get("text") or form.fields.get("html")):
        return _from_mime(raw_mime, field("envelope"))
    headers = _HEADERS.parsestr(field("headers"), headersonly=True)
    text = field("text") or html_to_text(field("html"))
    attachments = _attachments(form.files, field("attachment-info"))
    return _build(
        field("from"), field("to"), field("subject"), text, headers, field("envelope"), attachments
    )


def _build(
    sender: str,
    to: str,
    subject: str,
    text: str,
    headers: Message,
    envelope: str,
    attachments: tuple[Attachment, ...],
) -> InboundEmail:
    name, address = _sender(sender or headers.get("From", ""))
    message_id = _first_id(headers.get("Message-ID")) or _made_up_id(sender, subject, text, headers)
    return InboundEmail(
        from_address=address,
        from_name=name,
        to=to.strip(),
        subject=subject.strip() or _header_text(headers.get("Subject")),
        text=text,
        message_id=message_id,
        in_reply_to=_first_id(headers.get("In-Reply-To")),
        references=tuple(_MSG_ID.findall(headers.get("References") or ""))[-50:],
        auto_submitted=_lower(headers.get("Auto-Submitted")),
        precedence=_lower(headers.get("Precedence")),
        autoreply_header=bool(headers.get("X-Autoreply") or headers.get("X-Autorespond")),
        envelope_from=_envelope_from(envelope),
        attachments=attachments,
    )


def _sender(raw: str) -> tuple[str | None, str]:
    """The display name and normalised address of a From value such as `Ava <ava@x.com>`."""
    if not raw.strip():
        raise BadInbound("from is missing")
    try:
        header = email.policy.default.header_factory("from", raw)
        found = [(a.display_name, a.addr_spec) for a in header.addresses]
    except (HeaderParseError, ValueError, IndexError, AttributeError):
        found = getaddresses([raw])
    name, address = found[0] if found else ("", "")
    normal = normalize_email(address)
    if normal is None or normal != address.strip().casefold():
        raise BadInbound("from is not an email address")
    return (name.strip() or None), normal


def _charsets(form: Form) -> dict[str, str]:
    raw = form.fields.get("charsets")
    try:
        value = json.loads(raw.decode("utf-8", "replace")) if raw else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _decode(form: Form, name: str, charset: str | None) -> str:
    raw = form.fields.get(name)
    if raw is None:
        return ""
    try:
        return raw.decode(charset or form.charsets.get(name) or "utf-8", "replace")
    except LookupError:  # a charset Python does not know
        return raw.decode("utf-8", "replace")


def _header_text(value: str | None) -> str:
    """A header's text with RFC 2047 encoded words decoded (=?utf-8?q?...?=)."""
    if not value:
        return ""
    header = email.policy.default.header_factory("subject", str(value))
    return str(header).strip()


def _first_id(value: str | None) -> str | None:
    ids = _MSG_ID.findall(value or "")
    if ids:
        return ids[0]
    bare = (value or "").strip()
    return f"<{bare}>" if bare and " " not in bare and len(bare) <= 500 else None


def _made_up_id(sender: str, subject: str, text: str, headers: Message) -> str:
    """A stable id for an email without a Message-ID, so a repeated webhook is still one."""
    digest = hashlib.sha256(
        "\0".join((sender, subject, headers.get("Date") or "", text)).encode()
    ).hexdigest()
    return f"<{digest[:40]}@no-message-id.invalid>"


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value and value.strip() else None


def _envelope_from(raw: str) -> str | None:
    try:
        envelope = json.loads(raw) if raw else None
    except ValueError:
        return None
    if not isinstance(envelope, dict) or "from" not in envelope:
        return None
    return str(envelope.get("from") or "").strip()


def _attachments(files: tuple[FilePart, ...], info_json: str) -> tuple[Attachment, ...]:
    try:
        info = json.loads(info_json) if info_json else {}
    except ValueError:
        info = {}
    info = info if isinstance(info, dict) else {}
    noted = []
    for part in files[:MAX_ATTACHMENTS]:
        meta = info.get(part.field) if isinstance(info.get(part.field), dict) else {}
        name = str(meta.get("filename") or part.filename)
        kind = str(meta.get("type") or part.content_type)
        noted.append(Attachment(_safe_name(name), kind[:100], part.size))
    return tuple(noted)


def _safe_name(name: str) -> str:
    """A file name to show: no directories, no control characters, not too long."""
    base = re.split(r"[\\/]", name)[-1]
    return re.sub(r"[\x00-\x1f\x7f]", "", base)[:255] or "attachment"


def _from_mime(raw: bytes, envelope: str) -> InboundEmail:
    """The raw-MIME mode: the same fields, read from the message itself."""
    message = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    text = _content(text_part) or html_to_text(_content(html_part))
    attachments = tuple(
        Attachment(
            _safe_name(part.get_filename() or "attachment"),
            part.get_content_type(),
            len(part.get_payload(decode=True) or b""),
        )
        for part in list(message.iter_attachments())[:MAX_ATTACHMENTS]
    )
    # As text: on bytes, compat32 hands back a non-ASCII header as a Header object, not a str.
    headers = _HEADERS.parsestr(raw.decode("utf-8", "replace"), headersonly=True)
    to, subject, sender = (_decoded(message, headers, name) for name in ("To", "Subject", "From"))
    return _build(sender, to, subject, text, headers, envelope, attachments)


def _decoded(message: EmailMessage, headers: Message, name: str) -> str:
    """A header decoded by the default policy, or as written where that parser trips on it
    (it raises IndexError on "From: <")."""
    try:
        return str(message.get(name) or "")
    except (HeaderParseError, IndexError, ValueError):
        return str(headers.get(name) or "")


def _content(part: EmailMessage | None) -> str:
    if part is None:
        return ""
    try:
        return part.get_content()
    except (LookupError, ValueError):
        return (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
