"""Reading a Twilio webhook off a Sanic request: form-encoded, signed, from our account."""

from __future__ import annotations

from urllib.parse import parse_qs

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import Settings
from bot.sms.signature import is_signed, webhook_url
from bot.sms.simulator import SIMULATOR_ACCOUNT_SID

MAX_BODY_BYTES = 64 * 1024


def twilio_form(request: Request, settings: Settings) -> dict[str, str] | HTTPResponse:
    """The form of a genuine Twilio request, or the 4xx answer to give instead."""
    if len(request.body or b"") > MAX_BODY_BYTES:
        return response.text("request body too large", status=413)
    if not (request.content_type or "").startswith("application/x-www-form-urlencoded"):
        return response.text("expected a form-encoded Twilio webhook", status=400)
    form = _parse_form(request.body or b"")
    if form is None:
        return response.text("the form is not UTF-8", status=400)
    url = webhook_url(settings.public_url, request.path, request.query_string, request.url)
    token = settings.twilio_auth_token or ""
    if not token or not is_signed(token, url, form, request.headers.get("X-Twilio-Signature")):
        return response.text("invalid signature", status=403)
    if form.get("AccountSid") != (settings.twilio_account_sid or SIMULATOR_ACCOUNT_SID):
        return response.text("unknown account", status=403)
    # Checked as signed; then without NUL, which PostgreSQL cannot store and no text needs.
    return {key.replace("\x00", ""): value.replace("\x00", "") for key, value in form.items()}


def _parse_form(body: bytes) -> dict[str, str] | None:
    """The form with its empty fields: Twilio signs `Body=` and `FromCity=` too.

    Sanic's `request.form` drops blank values, which would fail the signature of a
    picture-only MMS or of any text from a number without a known city.
    """
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return None
    return {key: values[0] for key, values in fields.items()}
