"""The inbound webhook's body as fields and files: multipart/form-data or url-encoded.

Read here rather than by Sanic because each field arrives in its own charset (SendGrid
names them in `charsets`), and a file's bytes are only measured, never kept.
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass, field
from email.message import Message as MimeMessage
from email.parser import BytesHeaderParser
from urllib.parse import parse_qsl


class BadForm(ValueError):
    """The body is not a form we can read; the message says why."""


@dataclass(frozen=True)
class FilePart:
    """An uploaded file, noted but never kept: its field name, file name, type and size."""

    field: str
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class Form:
    fields: dict[str, bytes] = field(default_factory=dict)  # the first value of each name
    charsets: dict[str, str] = field(default_factory=dict)  # a part's own charset, if any
    files: tuple[FilePart, ...] = ()


_HEADERS = BytesHeaderParser(policy=email.policy.HTTP)


def is_form(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind in ("multipart/form-data", "application/x-www-form-urlencoded")


def read_form(content_type: str, body: bytes) -> Form:
    """Fields and files of `body`; BadForm when it is neither kind of form."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        # Latin-1 maps each byte to one character and back, so raw and %-escaped bytes
        # both come through as sent (parse_qsl on bytes would refuse any non-ASCII byte).
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
        fields: dict[str, bytes] = {}
        for name, value in pairs:
            fields.setdefault(
                name.encode("latin-1").decode("utf-8", "replace"), value.encode("latin-1")
            )
        return Form(fields)
    if kind != "multipart/form-data":
        raise BadForm("expected multipart/form-data (SendGrid Inbound Parse)")
    return _multipart(_boundary(content_type), body)


def _boundary(content_type: str) -> bytes:
    header = MimeMessage()
    header["Content-Type"] = content_type
    try:
        boundary = header.get_param("boundary")
    except UnicodeError:  # a header value that no HTTP request can carry
        raise BadForm("multipart/form-data without a boundary") from None
    if not isinstance(boundary, str) or not boundary or len(boundary) > 200:
        raise BadForm("multipart/form-data without a boundary")
    return boundary.encode("latin-1", "replace")


def _multipart(boundary: bytes, body: bytes) -> Form:
    delimiter = b"--" + boundary
    chunks = body.split(delimiter)
    if len(chunks) < 3:  # preamble, at least one part, and the closing "--"
        raise BadForm("multipart body has no parts")
    fields: dict[str, bytes] = {}
    charsets: dict[str, str] = {}
    files: list[FilePart] = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, sep, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise BadForm("a multipart part has no header end")
        content = content.removesuffix(b"\r\n")  # the CRLF belongs to the next delimiter
        part = _HEADERS.parsebytes(head + b"\r\n\r\n")
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue  # a part without a name carries no field
        filename = part.get_filename()
        if filename is not None:
            files.append(FilePart(name, filename, part.get_content_type(), len(content)))
        elif name not in fields:
            fields[name] = content
            if part.get_content_charset():
                charsets[name] = part.get_content_charset()
    return Form(fields, charsets, tuple(files))
