"""Which web pages may talk to the chat channel (CHAT_ORIGINS), as CORS headers."""

from __future__ import annotations

from collections.abc import Sequence

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type"
PREFLIGHT_MAX_AGE = "600"  # seconds a browser may reuse a preflight answer


def allows(origins: Sequence[str], origin: str | None) -> bool:
    """A request without an Origin is not from a browser page: CORS does not apply."""
    if not origin:
        return True
    return "*" in origins or origin.rstrip("/").lower() in {o.lower() for o in origins}


def headers(origins: Sequence[str], origin: str | None, *, preflight: bool) -> dict[str, str]:
    """The CORS headers for a response to `origin`; none for an origin that is not allowed.

    No cookies are used (the token travels in the Authorization header), so "*" needs no
    credentials flag.
    """
    if not origin or not allows(origins, origin):
        return {}
    found = {"Access-Control-Allow-Origin": "*" if "*" in origins else origin}
    if "*" not in origins:
        found["Vary"] = "Origin"
    if preflight:
        found |= {
            "Access-Control-Allow-Methods": ALLOWED_METHODS,
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        }
    return found
