"""Hostile requests against the served desk: every answer of the inbox API and of the
webhooks is below 500, whatever the path id, query string, headers or body.

The webhooks are hit twice over: unsigned (refused at the door) and signed with the real
secrets, so what is past the signature check meets hostile input too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
import requests
from hypothesis import example, given
from hypothesis import strategies as st

from bot.clock import FixedClock
from bot.desk.app import STATUS_PATH
from bot.desk.shopify_webhooks import PATH as SHOPIFY_PATH
from bot.notify.events import HANDLED_TOPICS
from bot.notify.payloads import sign as shopify_sign
from bot.sms.signature import sign as twilio_sign
from bot.sms.status import RANK
from bot.sms.webhook import _parse_form
from bot.store import Database
from tests.hostile.served import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    SENT_SID,
    SHOPIFY_SECRET,
    TOKEN,
    seed,
    served_desk,
)
from tests.hostile.strategies import examples, hostile_text, json_values

TIMEOUT = 15.0
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Desk:
    base: str
    http: requests.Session
    ids: dict[str, int]

    def call(self, method: str, path: str, **kw) -> requests.Response:
        return self.http.request(method, self.base + path, timeout=TIMEOUT, **kw)


@pytest.fixture
def desk(db: Database, clock: FixedClock) -> Iterator[Desk]:
    ids = seed(db, clock)
    with served_desk(db, clock) as base, requests.Session() as http:
        yield Desk(base, http, ids)


def _segment(value: object) -> str:
    return quote(str(value), safe="", errors="surrogatepass")


def _query(params: dict[str, str]) -> str:
    return urlencode(params, errors="surrogatepass")


def _json(value: object) -> bytes:
    return json.dumps(value).encode()  # ASCII: a lone surrogate travels as "\ud800"


path_ids = (
    st.sampled_from([1, 2, 3, 0, -1])
    | st.integers(-(2**70), 2**70)
    | st.sampled_from(["abc", "1e3", "0x1", " 1", "%00", "1/..", "٣"])
    | hostile_text
)
query_keys = st.sampled_from(["status", "channel", "after"]) | hostile_text
queries = st.dictionaries(query_keys, hostile_text | st.integers(-(2**70), 2**70).map(str))
api_fields = st.sampled_from(["text", "agent", "sender_id", "reason", "summary"])
api_values = hostile_text | json_values | st.sampled_from([PHONE := "+12065550101", "x" * 5000])
bodies = (
    st.dictionaries(api_fields | hostile_text, api_values, max_size=4).map(_json)
    | json_values.map(_json)
    | st.binary(max_size=200)
    | st.sampled_from([b"[" * 5000, b"", b"null", b'{"text": "\\u0000"}'])
)
routes = st.sampled_from(
    [
        ("GET", "/api/conversations/{id}/messages"),
        ("POST", "/api/conversations/{id}/reply"),
        ("POST", "/api/conversations/{id}/note"),
        ("POST", "/api/conversations/{id}/assign"),
        ("POST", "/api/conversations/{id}/resolve"),
        ("POST", "/api/handoff"),
        ("GET", "/api/conversations"),
    ]
)


@given(routes, path_ids, queries, bodies)
@example(("GET", "/api/conversations/{id}/messages"), 2**70, {}, b"")
@example(("GET", "/api/conversations/{id}/messages"), 1, {"after": str(2**70)}, b"")
@example(("POST", "/api/conversations/{id}/reply"), 1, {}, b'{"text": "\\ud800"}')
@example(("POST", "/api/conversations/{id}/note"), 1, {}, b'{"text": "a\\u0000b"}')
@example(("POST", "/api/handoff"), 1, {}, b'{"sender_id": "\\u0000", "reason": "r"}')
@example(("POST", "/api/conversations/{id}/reply"), 1, {}, b"[" * 5000)
@examples(150)
def test_the_inbox_api_never_answers_a_server_error(
    desk: Desk, route: tuple[str, str], path_id: object, query: dict[str, str], body: bytes
) -> None:
    method, template = route
    path = template.format(id=_segment(path_id))
    if query:
        path += "?" + _query(query)
    headers = BEARER | {"Content-Type": "application/json"}
    answer = desk.call(method, path, data=body if method == "POST" else None, headers=headers)
    assert answer.status_code < 500, (answer.status_code, answer.text[:200])


# --- webhooks -------------------------------------------------------------------------------

header_text = st.text(
    # Latin-1 (what HTTP headers carry) but whitespace, which requests itself refuses.
    st.characters(min_codepoint=0x21, max_codepoint=0xFF).filter(lambda c: not c.isspace()),
    max_size=80,
)
header_names = st.sampled_from(
    ["Content-Type", "X-Twilio-Signature", "X-Shopify-Hmac-Sha256", "X-Shopify-Topic"]
    + ["X-Shopify-Webhook-Id", "X-Shopify-Shop-Domain", "Content-Encoding", "X-Anything"]
)
any_headers = st.dictionaries(header_names, header_text, max_size=5)
forms = st.dictionaries(
    st.sampled_from(["MessageSid", "MessageStatus", "ErrorCode", "SmsSid", "From", "To"])
    | hostile_text,
    hostile_text | st.sampled_from([SENT_SID, *RANK, "21610", "30003"]),
    max_size=6,
)


@given(
    st.sampled_from([STATUS_PATH, SHOPIFY_PATH]),
    any_headers,
    bodies | forms.map(_query).map(str.encode),
)
@example(SHOPIFY_PATH, {"X-Shopify-Hmac-Sha256": "\x80"}, b"{}")  # was a UnicodeEncodeError
@example(SHOPIFY_PATH, {"X-Shopify-Webhook-Id": "\xe9"}, b"{}")
@examples(100)
def test_unsigned_webhooks_are_refused_without_a_server_error(
    desk: Desk, path: str, headers: dict[str, str], body: bytes
) -> None:
    answer = desk.call("POST", path, data=body, headers=headers)
    assert answer.status_code < 500, (answer.status_code, answer.text[:200])
    assert answer.status_code >= 400  # nothing here is signed


@given(forms)
@example({"MessageSid": SENT_SID, "MessageStatus": "delivered", "ErrorCode": "\x00"})
@example({"MessageSid": "SM\x00", "MessageStatus": "sent"})
@example({"MessageSid": SENT_SID + "x" * 300, "MessageStatus": "queued"})
@examples(100)
def test_a_signed_status_callback_of_any_shape_is_not_a_server_error(
    desk: Desk, form: dict[str, str]
) -> None:
    body = _query({**form, "AccountSid": ACCOUNT_SID})
    url = desk.base + STATUS_PATH
    seen = _parse_form(body.encode()) or {}  # what the desk reads (and Twilio signs)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_sign(AUTH_TOKEN, url, seen),
    }
    answer = desk.call("POST", STATUS_PATH, data=body.encode(), headers=headers)
    assert answer.status_code < 500, (answer.status_code, answer.text[:200])


shopify_bodies = (
    json_values.map(_json)
    | st.binary(max_size=200)
    | st.sampled_from([b"[" * 5000, b'{"a":' * 3000, b"\xff\xfe", b""])
)


@given(
    shopify_bodies,
    st.sampled_from(sorted(HANDLED_TOPICS)) | header_text,
    header_text,
    st.none() | header_text,
)
@example(b"[" * 5000, "orders/create", "w1", None)
@example(b'{"a": "\\u0000"}', "orders/create", "w2", None)
@examples(100)
def test_a_signed_shopify_webhook_of_any_shape_is_not_a_server_error(
    desk: Desk, body: bytes, topic: str, webhook_id: str, shop: str | None
) -> None:
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": shopify_sign(body, SHOPIFY_SECRET),
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": webhook_id,
    }
    if shop is not None:
        headers["X-Shopify-Shop-Domain"] = shop
    answer = desk.call("POST", SHOPIFY_PATH, data=body, headers=headers)
    assert answer.status_code < 500, (answer.status_code, answer.text[:200])
