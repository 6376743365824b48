"""Who may post inbound email: whoever knows EMAIL_INBOUND_SECRET, in the URL or by basic auth."""

from __future__ import annotations

import base64
import binascii
import hmac


class Refused(Exception):
    """The webhook is not authenticated; `status` is the HTTP answer (401 or 403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check(expected: str | None, url_secret: str | None, authorization: str | None) -> None:
    """Pass when the URL's secret, or basic auth's password, is EMAIL_INBOUND_SECRET.

    An unset secret refuses everything: an open inbound webhook would let anyone write
    to the inbox as any customer.
    """
    if not expected:
        raise Refused(403, "inbound email is off: EMAIL_INBOUND_SECRET is not set")
    if url_secret is not None:
        if not _same(url_secret, expected):
            raise Refused(403, "wrong inbound email secret")
        return
    password = _basic_password(authorization)
    if password is None:
        raise Refused(401, "inbound email needs the secret in the URL or as basic auth")
    if not _same(password, expected):
        raise Refused(403, "wrong inbound email secret")


def _basic_password(authorization: str | None) -> str | None:
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] if ":" in decoded else None


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
