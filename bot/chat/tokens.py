"""Visitor tokens: knowing one is being that visitor, so only its hash is ever shown.

A token is 32 random bytes and a 16-byte tag (HMAC-SHA256 with a key derived from
RASA_TOKEN), base64url without padding: the channel refuses a token it did not issue,
so no one picks a guessable one, and no table of tokens is needed. The thread's Rasa
sender id is `chat-` and the first 32 hex digits of the token's SHA-256.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
import secrets

log = logging.getLogger(__name__)

RANDOM_BYTES = 32
TAG_BYTES = 16
TOKEN_CHARS = 64  # base64url of 48 bytes, no padding
SENDER_PREFIX = "chat-"
_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_CHARS}}}")
_KEY_LABEL = b"pigeon chat visitor token v1"


def signing_key(rasa_token: str | None) -> bytes:
    """The key that signs tokens: changing RASA_TOKEN signs every visitor out.

    Without a RASA_TOKEN (tests, `rasa shell`) the key is random: tokens last as long
    as the process does.
    """
    if not rasa_token:
        log.warning("RASA_TOKEN is not set: chat visitors are signed out at every restart")
        return secrets.token_bytes(32)
    return hmac.new(rasa_token.encode(), _KEY_LABEL, hashlib.sha256).digest()


def issue(key: bytes) -> str:
    """A new visitor's token."""
    nonce = secrets.token_bytes(RANDOM_BYTES)
    return _b64(nonce + _tag(key, nonce))


def is_valid(key: bytes, token: str | None) -> bool:
    """True when `token` is one this key issued."""
    if not token or not _TOKEN.fullmatch(token):
        return False
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return False
    nonce, tag = raw[:RANDOM_BYTES], raw[RANDOM_BYTES:]
    return hmac.compare_digest(tag, _tag(key, nonce))


def sender_for(token: str) -> str:
    """The visitor's thread id in Rasa, the inbox and the logs; it does not reveal the token."""
    return SENDER_PREFIX + hashlib.sha256(token.encode()).hexdigest()[:32]


def is_chat_sender(sender_id: str | None) -> bool:
    return bool(sender_id) and re.fullmatch(r"chat-[0-9a-f]{32}", sender_id) is not None


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    scheme, _, value = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _tag(key: bytes, nonce: bytes) -> bytes:
    return hmac.new(key, nonce, hashlib.sha256).digest()[:TAG_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
