"""Twilio's REST payloads for the fake: recorded templates, error codes, request checks."""

from __future__ import annotations

import json
import math
import re
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "twilio"
API_VERSION = "2010-04-01"
E164 = re.compile(r"\+[1-9]\d{6,14}")
MAX_BODY_CHARS = 1600
# The GSM-7 alphabet, kept apart from bot.sms.gsm on purpose: a fake that reuses the code
# under test cannot catch its mistakes.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"


def count_segments(body: str) -> int:
    """How many SMS segments Twilio bills for `body` (GSM-7 160/153, else UCS-2 70/67)."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in body):
        units, single, multi = sum(2 if c in GSM7_EXTENSION else 1 for c in body), 160, 153
    else:
        units, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / multi)


ERROR_MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21617: "The concatenated message body exceeds the 1600 character limit.",
}


def invalid_create(form: MultiDictProxy[Any]) -> web.Response | None:
    """Twilio's 400 for a create it cannot accept, checked in Twilio's order."""
    to = str(form.get("To", ""))
    body = str(form.get("Body", ""))
    if not to:
        return error_response(400, 21604, ERROR_MESSAGES[21604])
    if not E164.fullmatch(to):
        return error_response(400, 21211, f"{ERROR_MESSAGES[21211]}: {to}")
    if not (form.get("From") or form.get("MessagingServiceSid")):
        return error_response(400, 21603, ERROR_MESSAGES[21603])
    if not body and not form.getall("MediaUrl", []):
        return error_response(400, 21602, ERROR_MESSAGES[21602])
    if len(body) > MAX_BODY_CHARS:
        return error_response(400, 21617, ERROR_MESSAGES[21617])
    return None


def error_response(
    status: int, code: int, message: str, retry_after: float | None = None
) -> web.Response:
    payload = fixture("error.json") | {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    headers = twilio_headers()
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    return web.json_response(payload, status=status, headers=headers)


def twilio_headers() -> dict[str, str]:
    return {"Twilio-Request-Id": "RQ" + uuid.uuid4().hex}


def default_code(status: int) -> int:
    """Twilio's generic code for an HTTP status (20429 Too Many Requests, 20500 ...)."""
    return 20003 if status == 401 else 20000 + status


@cache
def _fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of a recorded payload under tests/fixtures/twilio/."""
    payload: dict[str, Any] = json.loads(_fixture_text(name))
    return payload
