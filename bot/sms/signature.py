"""Twilio's request signature: the only proof a webhook came from Twilio."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator, compare


def webhook_url(public_url: str | None, path: str, query: str, request_url: str) -> str:
    """The URL Twilio called: PUBLIC_URL + path behind a proxy, else the request's own URL."""
    if not public_url:
        return request_url
    return public_url.rstrip("/") + path + (f"?{query}" if query else "")


def is_signed(auth_token: str, url: str, params: Mapping[str, str], signature: str | None) -> bool:
    """True when `signature` is Twilio's HMAC of this URL and form with `auth_token`."""
    if not signature:
        return False
    validator, form = RequestValidator(auth_token), dict(params)
    # Twilio signs the URL it called, as called: one HMAC settles a genuine request. The
    # SDK's full check (the URL with and without its port) runs only when that one fails.
    if compare(validator.compute_signature(url, form), signature):
        return True
    return validator.validate(url, form, signature)


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The signature Twilio would send; the simulator signs its webhooks this way."""
    return RequestValidator(auth_token).compute_signature(url, dict(params))
