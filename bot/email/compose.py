"""The store's email: a text and an HTML part, the signature, and headers that keep the thread.

Everything that came from a customer or the assistant is escaped before it goes into the
HTML part; only links the text itself spells out (http and https) become anchors.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from bot.config import Settings

MAX_REFERENCES = 20  # older ids are dropped from References, as RFC 5322 allows
MAX_QUOTE = 2000  # characters of the customer's message quoted under a reply
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|ref|rif|vs)\s*(\[\d+\]|\(\d+\))?\s*:\s*)+", re.I)
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_LINE_BREAKS = re.compile(r"[\r\n\t]+")

_STYLE_QUOTE = "margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex;color:#555"


@dataclass(frozen=True)
class Quote:
    """The customer's message a reply answers, shown under it."""

    author: str  # "Ava Chen <ava@example.com>" or just the address
    sent_at: datetime
    text: str


def reply_subject(subject: str | None, fallback: str) -> str:
    """`Re: <subject>`, never `Re: Re: ...`; the fallback when the customer wrote none."""
    bare = _REPLY_PREFIX.sub("", _LINE_BREAKS.sub(" ", subject or "")).strip()
    return f"Re: {bare[:250]}" if bare else fallback


def thread_ids(parent: dict | None) -> tuple[str | None, list[str]]:
    """In-Reply-To and References for a reply to the email described by `parent` (email_meta)."""
    if not parent or not parent.get("message_id"):
        return None, []
    chain = list(parent.get("references") or [])
    if not chain and parent.get("in_reply_to"):
        chain = [parent["in_reply_to"]]
    chain.append(parent["message_id"])
    unique = list(dict.fromkeys(chain))
    return parent["message_id"], unique[-MAX_REFERENCES:]


def sender_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2].strip().lower() or "localhost"


def new_message_id(sender: str) -> str:
    """A unique Message-ID on the From address's domain: <...@example.com>."""
    return make_msgid(domain=sender_domain(sender))


def signature(settings: Settings) -> list[str]:
    return [
        f"{settings.store_name} customer support",
        f"{settings.support_email} · {settings.support_hours}",
    ]


def render_text(settings: Settings, body: str, quote: Quote | None) -> str:
    """The text/plain part: the body, "-- " and the signature, then the quoted message."""
    lines = [body.strip(), "", "-- ", *signature(settings)]
    if quote is not None:
        lines += ["", f"On {_when(quote.sent_at)}, {quote.author} wrote:"]
        lines += [f"> {line}".rstrip() for line in _quoted(quote.text).split("\n")]
    return "\n".join(lines) + "\n"


def render_html(settings: Settings, body: str, quote: Quote | None) -> str:
    """The text/html part: the same words, escaped, in paragraphs."""
    name, hours = (html.escape(settings.store_name), html.escape(settings.support_hours))
    support = html.escape(settings.support_email, quote=True)
    parts = [
        '<!DOCTYPE html><html><body style="font-family:sans-serif;line-height:1.4">',
        _paragraphs(body),
        f'<p style="color:#555">-- <br>{name} customer support<br>'
        f'<a href="mailto:{support}">{support}</a> · {hours}</p>',
    ]
    if quote is not None:
        author = html.escape(f"On {_when(quote.sent_at)}, {quote.author} wrote:")
        parts.append(
            f'<div>{author}<blockquote style="{_STYLE_QUOTE}">'
            f"{_paragraphs(_quoted(quote.text))}</blockquote></div>"
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html_body: str | None,
    headers: dict[str, str] | None,
    date: datetime,
) -> EmailMessage:
    """The message as it goes out by SMTP: multipart/alternative, text first."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = _LINE_BREAKS.sub(" ", subject)
    message["Date"] = format_datetime(date)
    for name, value in (headers or {}).items():
        if value:
            message[name] = _LINE_BREAKS.sub(" ", value)
    message.set_content(text)
    if html_body:
        message.add_alternative(html_body, subtype="html")
    return message


def _paragraphs(text: str) -> str:
    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    return "\n".join(
        "<p>" + "<br>\n".join(_linked(line) for line in block.split("\n")) + "</p>"
        for block in blocks
    )


def _linked(line: str) -> str:
    """`line` escaped, with its http(s) URLs as links."""
    out, last = [], 0
    for match in _URL.finditer(line):
        url = html.escape(match.group(), quote=True)
        out += [html.escape(line[last : match.start()]), f'<a href="{url}">{url}</a>']
        last = match.end()
    out.append(html.escape(line[last:]))
    return "".join(out)


def _quoted(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_QUOTE else text[:MAX_QUOTE].rstrip() + " [...]"


def _when(moment: datetime) -> str:
    return f"{moment:%a, %b} {moment.day}, {moment:%Y} at {moment:%H:%M %Z}".strip()
