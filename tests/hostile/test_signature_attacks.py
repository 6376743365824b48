"""Every way to forge a webhook, against every signed door, in one table.

Twilio signs the full URL and the sorted form with the auth token (HMAC-SHA1, base64);
Shopify signs the raw body with the app secret (HMAC-SHA256, base64). Each attack below
is refused (401/403) and leaves NOTHING behind: no receipt, no message, no status change,
no consent change, nothing queued. The genuine request of each door is accepted and
stored, so the same checks would see a forgery that got through.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.consent import history
from bot.desk.app import STATUS_PATH
from bot.desk.shopify_webhooks import PATH as SHOPIFY_PATH
from bot.notify.payloads import webhook_headers
from bot.sms.signature import sign as twilio_sign
from bot.store import Database
from bot.store.models import Message, OutboxItem, WebhookReceipt
from tests.fakes.twilio import inbound_sms
from tests.hostile.served import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PHONE,
    SENT_SID,
    SHOPIFY_SECRET,
    STORE,
    SmsChannel,
    seed,
    served_desk,
    served_sms_channel,
)

SHOP = "pigeon-demo.myshopify.com"
TIMEOUT = 15.0


@dataclass(frozen=True)
class Request:
    """What is sent: the URL posted to, the form, and the headers (the signature among them)."""

    url: str
    form: dict[str, str]
    headers: dict[str, str]


def _twilio_request(url: str, form: dict[str, str]) -> Request:
    return Request(url, form, {"X-Twilio-Signature": twilio_sign(AUTH_TOKEN, url, form)})


def _resigned(request: Request, *, url: str | None = None, token: str = AUTH_TOKEN) -> Request:
    """The request as sent, signed for another URL or with another token."""
    signature = twilio_sign(token, url or request.url, request.form)
    return replace(request, headers={"X-Twilio-Signature": signature})


def _elsewhere(url: str, **parts: str) -> str:
    return urlsplit(url)._replace(**parts).geturl()


def _hex_signature(request: Request) -> str:
    data = request.url + "".join(k + v for k, v in sorted(request.form.items()))
    return hmac.new(AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).hexdigest()


def _first_field(request: Request) -> str:
    return "Body" if "Body" in request.form else "MessageStatus"


def _tampered(request: Request) -> dict[str, str]:
    """The change that would do harm if accepted: a forged STOP, a forged delivery."""
    return {"Body": "STOP"} if "Body" in request.form else {"MessageStatus": "delivered"}


Attack = Callable[[Request], Request]
TWILIO_ATTACKS: dict[str, Attack] = {
    "wrong-token": lambda r: _resigned(r, token="0" * 32),
    "one-field-tampered": lambda r: replace(r, form=r.form | _tampered(r)),
    "one-field-added": lambda r: replace(r, form=r.form | {"Smuggled": "1"}),
    "one-field-dropped": lambda r: replace(
        r, form={k: v for k, v in r.form.items() if k != _first_field(r)}
    ),
    "replayed-on-another-path": lambda r: _resigned(
        r, url=_elsewhere(r.url, path="/webhooks/other")
    ),
    "replayed-from-another-host": lambda r: _resigned(
        r, url=_elsewhere(r.url, netloc="attacker.example.com")
    ),
    "replayed-with-another-scheme": lambda r: _resigned(r, url=_elsewhere(r.url, scheme="https")),
    "signed-with-a-query-sent-without": lambda r: _resigned(r, url=r.url + "?x=1"),
    "sent-with-a-query-signed-without": lambda r: replace(r, url=r.url + "?x=1"),
    "empty-signature": lambda r: replace(r, headers={"X-Twilio-Signature": ""}),
    "missing-header": lambda r: replace(r, headers={}),
    "hex-not-base64": lambda r: replace(r, headers={"X-Twilio-Signature": _hex_signature(r)}),
    "base64-without-padding": lambda r: replace(
        r, headers={"X-Twilio-Signature": r.headers["X-Twilio-Signature"].rstrip("=")}
    ),
    "base64-with-case-swapped": lambda r: replace(
        r, headers={"X-Twilio-Signature": r.headers["X-Twilio-Signature"].swapcase()}
    ),
    "foreign-account-signed-right": lambda r: _twilio_request(
        r.url, r.form | {"AccountSid": "AC" + "f" * 32}
    ),
}


def _post_form(http: requests.Session, request: Request) -> int:
    answer = http.post(request.url, data=request.form, headers=request.headers, timeout=TIMEOUT)
    return answer.status_code


def _count(db: Database, model, *where) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


# --- Twilio: the SMS channel's inbound webhook (Rasa server) ----------------------------


@pytest.fixture
def sms_channel(db: Database, clock: FixedClock) -> Iterator[SmsChannel]:
    with served_sms_channel(db, clock) as channel:
        yield channel


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def _inbound(url: str) -> Request:
    form = inbound_sms(ACCOUNT_SID, PHONE, STORE, "hi", message_sid="SM" + uuid.uuid4().hex)
    return _twilio_request(url, form)


def _consent_events(db: Database) -> int:
    with db.read() as session:
        return len(history(session, PHONE))


def test_the_genuine_inbound_text_is_stored(
    db: Database, sms_channel: SmsChannel, http: requests.Session
) -> None:
    assert _post_form(http, _inbound(sms_channel.url)) == 200
    assert _count(db, WebhookReceipt) == 1
    sms_channel.idle()
    assert [turn.text for turn in sms_channel.turns] == ["hi"]


@pytest.mark.parametrize("attack", list(TWILIO_ATTACKS))
def test_a_forged_inbound_text_is_refused_and_leaves_nothing(
    db: Database, sms_channel: SmsChannel, http: requests.Session, attack: str
) -> None:
    forged = TWILIO_ATTACKS[attack](_inbound(sms_channel.url))
    assert _post_form(http, forged) == 403
    sms_channel.idle()
    assert _count(db, WebhookReceipt) == 0
    assert _count(db, Message) == 0
    assert _count(db, OutboxItem) == 0
    assert _consent_events(db) == 0
    assert sms_channel.turns == []


# --- Twilio: the desk's status callback ---------------------------------------------------


@dataclass
class Desk:
    base: str
    http: requests.Session
    db: Database
    sent_message: int


@pytest.fixture
def desk(db: Database, clock: FixedClock) -> Iterator[Desk]:
    ids = seed(db, clock)
    with served_desk(db, clock, shopify_shop=SHOP) as base, requests.Session() as http:
        yield Desk(base, http, db, ids["sent"])


def _callback(url: str) -> Request:
    form = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": SENT_SID,
        "SmsSid": SENT_SID,
        "MessageStatus": "failed",
        "ErrorCode": "21610",  # the recipient opted out: a forged one would silence them
        "From": STORE,
        "To": PHONE,
    }
    return _twilio_request(url, form)


def _status(db: Database, message_id: int) -> tuple[str | None, str | None]:
    with db.read() as session:
        message = session.get(Message, message_id)
        return message.status, message.error_code


def test_the_genuine_status_callback_is_applied(desk: Desk) -> None:
    assert _post_form(desk.http, _callback(desk.base + STATUS_PATH)) == 204
    assert _status(desk.db, desk.sent_message) == ("failed", "21610")
    assert _consent_events(desk.db) == 1


@pytest.mark.parametrize("attack", list(TWILIO_ATTACKS))
def test_a_forged_status_callback_is_refused_and_changes_nothing(desk: Desk, attack: str) -> None:
    forged = TWILIO_ATTACKS[attack](_callback(desk.base + STATUS_PATH))
    assert _post_form(desk.http, forged) == 403
    assert _status(desk.db, desk.sent_message) == ("queued", None)
    assert _consent_events(desk.db) == 0
    assert _count(desk.db, WebhookReceipt) == 0


# --- Shopify: the desk's webhook ----------------------------------------------------------

ORDER = b'{"id": 1001, "name": "#1001", "customer": {"id": 7, "phone": "+12065550101"}}'


@dataclass(frozen=True)
class Delivery:
    body: bytes
    headers: dict[str, str]


def _delivery(body: bytes = ORDER) -> Delivery:
    headers = webhook_headers("orders/updated", body, SHOPIFY_SECRET, webhook_id=uuid.uuid4().hex)
    return Delivery(body, headers | {"X-Shopify-Shop-Domain": SHOP})


def _with_hmac(delivery: Delivery, signature: str | None) -> Delivery:
    headers = {k: v for k, v in delivery.headers.items() if k != "X-Shopify-Hmac-Sha256"}
    if signature is not None:
        headers["X-Shopify-Hmac-Sha256"] = signature
    return replace(delivery, headers=headers)


def _digest(body: bytes, secret: str = SHOPIFY_SECRET, algorithm=hashlib.sha256) -> bytes:
    return hmac.new(secret.encode(), body, algorithm).digest()


def _hmac_of(delivery: Delivery) -> str:
    return delivery.headers["X-Shopify-Hmac-Sha256"]


SHOPIFY_ATTACKS: dict[str, Callable[[Delivery], Delivery]] = {
    "wrong-secret": lambda d: _with_hmac(
        d, base64.b64encode(_digest(d.body, "shpss_" + "0" * 32)).decode()
    ),
    "one-byte-tampered": lambda d: replace(d, body=d.body.replace(b"1001", b"1002")),
    "one-field-added": lambda d: replace(d, body=d.body[:-1] + b', "note": "x"}'),
    "trailing-newline-added": lambda d: replace(d, body=d.body + b"\n"),
    "signature-of-another-body": lambda d: _with_hmac(d, _hmac_of(_delivery(b"{}"))),
    "replayed-for-another-shop": lambda d: replace(
        d, headers=d.headers | {"X-Shopify-Shop-Domain": "attacker.myshopify.com"}
    ),
    "empty-signature": lambda d: _with_hmac(d, ""),
    "missing-header": lambda d: _with_hmac(d, None),
    "hex-not-base64": lambda d: _with_hmac(d, _digest(d.body).hex()),
    "base64-without-padding": lambda d: _with_hmac(d, _hmac_of(d).rstrip("=")),
    "base64-with-case-swapped": lambda d: _with_hmac(d, _hmac_of(d).swapcase()),
    "sha1-not-sha256": lambda d: _with_hmac(
        d, base64.b64encode(_digest(d.body, algorithm=hashlib.sha1)).decode()
    ),
}


def _deliver(desk: Desk, delivery: Delivery) -> int:
    answer = desk.http.post(
        desk.base + SHOPIFY_PATH, data=delivery.body, headers=delivery.headers, timeout=TIMEOUT
    )
    return answer.status_code


def _shopify_receipts(db: Database) -> int:
    return _count(db, WebhookReceipt, WebhookReceipt.source == "shopify")


def test_the_genuine_shopify_webhook_is_stored(desk: Desk) -> None:
    assert _deliver(desk, _delivery()) == 200
    assert _shopify_receipts(desk.db) == 1


@pytest.mark.parametrize("attack", list(SHOPIFY_ATTACKS))
def test_a_forged_shopify_webhook_is_refused_and_stores_nothing(desk: Desk, attack: str) -> None:
    forged = SHOPIFY_ATTACKS[attack](_delivery())
    assert _deliver(desk, forged) == 401
    assert _shopify_receipts(desk.db) == 0
