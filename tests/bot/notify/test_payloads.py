"""The webhook builder: REST bodies that parse back to what was built, and signed headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.notify.events import CheckoutConsent, ShipmentUpdate, ShopifyEvent, parse_webhook
from bot.notify.payloads import (
    fulfillment_event_payload,
    fulfillment_payload,
    order_payload,
    sign,
    webhook_headers,
)
from bot.oms.base import (
    SHIPMENT_STATUSES,
    Address,
    FulfilledItem,
    Fulfillment,
    LineItem,
    Order,
    TrackingEvent,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "shopify" / "webhooks"
SHOPIFY_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
# The headers REFERENCE.md ("Shopify webhooks") says every delivery carries.
SHOPIFY_HEADERS = (
    "X-Shopify-Topic",
    "X-Shopify-Hmac-Sha256",
    "X-Shopify-Shop-Domain",
    "X-Shopify-Webhook-Id",
    "X-Shopify-Event-Id",
    "X-Shopify-Triggered-At",
    "X-Shopify-API-Version",
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def wire(body: dict) -> Any:
    """What the desk gets: the body as bytes on the wire, read back by json.loads."""
    return json.loads(json.dumps(body).encode("utf-8"))


MAYA = "+12065550143"
HOODIE = LineItem("711", "PSC-HOOD-NVY-M", "Trailhead Hoodie", "M / Navy", 1, Decimal("68"), False)
CAP = LineItem("712", "PSC-CAP-OLV", "Ridgeline Cap", "Olive", 2, Decimal("24.00"), False)
UPS = Fulfillment(
    id="4710000000501",
    status="in_transit",
    carrier="UPS",
    tracking_number="1Z9X4E270312345678",
    tracking_url="https://www.ups.com/track?tracknum=1Z9X4E270312345678",
    created_at=utc(2026, 6, 13, 15, 2, 44),
    estimated_delivery_at=utc(2026, 6, 17, 0, 0),
    delivered_at=None,
    items=(FulfilledItem("711", 1),),
    events=(
        TrackingEvent("carrier_picked_up", utc(2026, 6, 13, 20, 0), None, "Asheville, NC"),
        TrackingEvent("in_transit", utc(2026, 6, 14, 10, 18, 9), None, "Portland, OR"),
    ),
)
USPS = Fulfillment(
    id="4710000000503",
    status="label_printed",
    carrier="USPS",
    tracking_number=None,
    tracking_url=None,
    created_at=utc(2026, 6, 13, 15, 41, 30, 987654),
    estimated_delivery_at=None,
    delivered_at=None,
    items=(FulfilledItem("712", 1),),
    events=(),
)
ORDER = Order(
    id="1042",
    name="#1042",
    number=1042,
    email="maya.okafor@example.com",
    phone=MAYA,
    customer_name="Maya Okafor",
    created_at=utc(2026, 6, 12, 13, 14, 7),
    financial_status="paid",
    cancelled_at=None,
    currency="USD",
    shipping_address=Address("Maya Okafor", "2214 Alder Ave", "Seattle", "WA", "98122", "US"),
    line_items=(HOODIE, CAP),
    fulfillments=(UPS, USPS),
)


def update(fulfillment: Fulfillment, status: str | None, happened_at: datetime) -> ShipmentUpdate:
    return ShipmentUpdate(
        order_id="1042",
        fulfillment_id=fulfillment.id,
        status=status,
        happened_at=happened_at,
        carrier=fulfillment.carrier,
        tracking_number=fulfillment.tracking_number,
        tracking_url=fulfillment.tracking_url,
        estimated_delivery_at=None,
        message=None,
        location=None,
    )


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", SHIPMENT_STATUSES)
def test_a_fulfillment_event_round_trips(status: str) -> None:
    body = fulfillment_event_payload(
        ORDER,
        UPS,
        status,
        utc(2026, 6, 15, 17, 42),
        event_id=27310000000881,
        message="Delivery attempted, no access",
        location=("Seattle", "WA"),
        estimated_delivery_at=utc(2026, 6, 17, 0, 0),
    )
    expected = ShipmentUpdate(
        order_id="1042",
        fulfillment_id="4710000000501",
        status=status,
        happened_at=utc(2026, 6, 15, 17, 42),
        carrier=None,
        tracking_number=None,
        tracking_url=None,
        estimated_delivery_at=utc(2026, 6, 17, 0, 0),
        message="Delivery attempted, no access",
        location="Seattle, WA",
    )
    parsed = parse_webhook("fulfillment_events/create", wire(body))
    assert parsed == ShopifyEvent("fulfillment_events/create", "1042", (expected,), None, (), ())


def test_a_bare_fulfillment_event_has_no_message_place_or_estimate() -> None:
    body = fulfillment_event_payload(ORDER, UPS, "delivered", utc(2026, 6, 16, 19, 3), event_id=9)
    (parsed,) = parse_webhook("fulfillment_events/create", wire(body)).updates
    assert (parsed.message, parsed.location, parsed.estimated_delivery_at) == (None, None, None)
    assert (body["city"], body["province"], body["country"]) == (None, None, None)


@pytest.mark.parametrize("topic", ["fulfillments/create", "fulfillments/update"])
def test_a_new_fulfillment_round_trips_without_carrier_news(topic: str) -> None:
    parsed = parse_webhook(topic, wire(fulfillment_payload(ORDER, UPS)))
    assert parsed == ShopifyEvent(
        topic, "1042", (update(UPS, None, utc(2026, 6, 14, 10, 18, 9)),), None, (), ()
    )


def test_an_updated_fulfillment_carries_its_status_and_time() -> None:
    body = fulfillment_payload(
        ORDER, UPS, status="out_for_delivery", updated_at=utc(2026, 6, 15, 11, 55, 21)
    )
    (parsed,) = parse_webhook("fulfillments/update", wire(body)).updates
    assert parsed == update(UPS, "out_for_delivery", utc(2026, 6, 15, 11, 55, 21))


def test_a_fulfilled_order_round_trips_every_package_and_the_checkout_consent() -> None:
    body = order_payload(ORDER, consent_phone=MAYA, consent_at=utc(2026, 6, 12, 13, 13, 58))
    assert parse_webhook("orders/fulfilled", wire(body)) == ShopifyEvent(
        "orders/fulfilled",
        "1042",
        (
            update(UPS, "in_transit", utc(2026, 6, 14, 10, 18, 9)),
            update(USPS, "label_printed", utc(2026, 6, 13, 15, 41, 30)),  # whole seconds
        ),
        None,
        (CheckoutConsent(MAYA, utc(2026, 6, 12, 13, 13, 58), "single_opt_in", "SHOPIFY"),),
        (),
    )


def test_consent_defaults_to_the_order_time_and_any_phone_format() -> None:
    body = order_payload(ORDER, consent_phone="(206) 555-0143")
    (consent,) = parse_webhook("orders/create", wire(body)).consents
    assert consent == CheckoutConsent(MAYA, ORDER.created_at, "single_opt_in", "SHOPIFY")


def test_without_a_consent_phone_the_customer_is_not_subscribed() -> None:
    body = wire(order_payload(ORDER))
    assert body["customer"]["sms_marketing_consent"]["state"] == "not_subscribed"
    for topic in ("orders/create", "orders/updated", "orders/fulfilled"):
        parsed = parse_webhook(topic, body)
        assert (parsed.consents, parsed.revocations) == ((), ())


def test_an_order_without_a_phone_has_null_sms_consent() -> None:
    body = wire(order_payload(replace(ORDER, phone=None)))
    assert body["customer"]["sms_marketing_consent"] is None
    assert parse_webhook("orders/updated", body).consents == ()


def test_an_order_without_any_contact_has_no_customer() -> None:
    guest = replace(ORDER, email=None, phone=None, customer_name=None)
    body = wire(order_payload(guest))
    assert body["customer"] is None
    assert parse_webhook("orders/fulfilled", body).order_id == "1042"


def test_a_cancelled_order_round_trips() -> None:
    unshipped = replace(ORDER, fulfillments=())
    body = order_payload(unshipped, cancelled_at=utc(2026, 6, 14, 19, 22, 40))
    parsed = parse_webhook("orders/cancelled", wire(body))
    assert parsed == ShopifyEvent(
        "orders/cancelled", "1042", (), utc(2026, 6, 14, 19, 22, 40), (), ()
    )
    assert body["cancel_reason"] == "customer"


def test_an_order_already_cancelled_says_so_without_being_told() -> None:
    cancelled = replace(ORDER, fulfillments=(), cancelled_at=utc(2026, 6, 14, 19, 22, 40))
    assert parse_webhook("orders/cancelled", wire(order_payload(cancelled))).cancelled_at == (
        utc(2026, 6, 14, 19, 22, 40)
    )


# --- realistic shapes -------------------------------------------------------------------------


def test_ids_are_ints_as_shopify_sends_them() -> None:
    body = wire(order_payload(ORDER, consent_phone=MAYA))
    ids = [body["id"], body["customer"]["id"], *(line["id"] for line in body["line_items"])]
    ids += [f["id"] for f in body["fulfillments"]] + [f["order_id"] for f in body["fulfillments"]]
    assert all(type(value) is int for value in ids)
    assert (body["id"], body["fulfillments"][0]["id"]) == (1042, 4710000000501)
    assert body["admin_graphql_api_id"] == "gid://shopify/Order/1042"


def test_gid_ids_in_our_dataclasses_become_numeric_ids() -> None:
    shopify_order = replace(ORDER, id="gid://shopify/Order/5830000001042")
    body = fulfillment_event_payload(shopify_order, UPS, "in_transit", utc(2026, 6, 15), event_id=1)
    assert body["order_id"] == 5830000001042


@pytest.mark.parametrize(
    "broken", [replace(ORDER, id="A-1042"), replace(ORDER, fulfillments=(replace(UPS, id="f1"),))]
)
def test_ids_shopify_could_not_have_sent_are_refused(broken: Order) -> None:
    with pytest.raises(ValueError, match="not a numeric Shopify id"):
        order_payload(broken)


def test_times_are_whole_seconds_in_the_shops_zone() -> None:
    body = order_payload(ORDER)
    assert body["created_at"] == "2026-06-12T09:14:07-04:00"
    assert body["fulfillments"][1]["created_at"] == "2026-06-13T11:41:30-04:00"
    assert body["updated_at"] == "2026-06-14T06:18:09-04:00"  # the newest scan
    winter = fulfillment_event_payload(ORDER, UPS, "delivered", utc(2026, 12, 1, 15), event_id=2)
    assert winter["happened_at"] == "2026-12-01T10:00:00-05:00"
    stamps = [body["created_at"], body["processed_at"], body["customer"]["created_at"]]
    assert all(SHOPIFY_TIME.fullmatch(stamp) for stamp in stamps)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        fulfillment_event_payload(ORDER, UPS, "delivered", datetime(2026, 6, 15, 12), event_id=3)


def test_money_and_fulfillment_status_read_like_shopify() -> None:
    body = order_payload(replace(ORDER, fulfillments=(UPS,)))
    assert (body["total_price"], body["fulfillment_status"]) == ("116.00", "partial")
    statuses = [line["fulfillment_status"] for line in body["line_items"]]
    assert statuses == ["fulfilled", None]
    assert body["line_items"][0]["price_set"]["shop_money"] == {
        "amount": "68.00",
        "currency_code": "USD",
    }
    assert order_payload(replace(ORDER, fulfillments=()))["fulfillment_status"] is None


def test_fulfillment_names_number_the_packages() -> None:
    body = order_payload(ORDER)
    assert [f["name"] for f in body["fulfillments"]] == ["#1042.1", "#1042.2"]
    assert fulfillment_payload(ORDER, USPS)["name"] == "#1042.2"


def test_tracking_lists_and_single_fields_agree() -> None:
    ups, usps = fulfillment_payload(ORDER, UPS), fulfillment_payload(ORDER, USPS)
    assert ups["tracking_numbers"] == [ups["tracking_number"]] == ["1Z9X4E270312345678"]
    assert ups["tracking_urls"] == [UPS.tracking_url]
    assert (usps["tracking_numbers"], usps["tracking_number"], usps["tracking_urls"]) == (
        [],
        None,
        [],
    )


@pytest.mark.parametrize(
    ("built", "recorded"),
    [
        (
            lambda: fulfillment_event_payload(
                ORDER, UPS, "in_transit", utc(2026, 6, 15), event_id=1
            ),
            lambda: fixture("fulfillment_events_create.json"),
        ),
        (lambda: fulfillment_payload(ORDER, UPS), lambda: fixture("fulfillments_create.json")),
        (lambda: order_payload(ORDER), lambda: fixture("orders_fulfilled.json")),
        (
            lambda: order_payload(ORDER, consent_phone=MAYA)["customer"],
            lambda: fixture("orders_fulfilled.json")["customer"],
        ),
        (
            lambda: order_payload(ORDER)["customer"]["sms_marketing_consent"],
            lambda: fixture("orders_create.json")["customer"]["sms_marketing_consent"],
        ),
        (
            lambda: order_payload(ORDER)["line_items"][0],
            lambda: fixture("orders_fulfilled.json")["line_items"][0],
        ),
        (
            lambda: order_payload(ORDER)["fulfillments"][0],
            lambda: fixture("orders_fulfilled.json")["fulfillments"][0],
        ),
        (
            lambda: order_payload(ORDER)["shipping_address"],
            lambda: fixture("orders_fulfilled.json")["shipping_address"],
        ),
    ],
    ids=["event", "fulfillment", "order", "customer", "consent", "line", "package", "address"],
)
def test_built_field_names_are_the_ones_real_webhooks_use(built: Any, recorded: Any) -> None:
    assert set(built()) - set(recorded()) == set()


# --- signing and headers ----------------------------------------------------------------------


def test_sign_matches_published_and_precomputed_vectors() -> None:
    # The published HMAC-SHA256 test value for this key and text (hex f7bc83f4...3cd8).
    fox = b"The quick brown fox jumps over the lazy dog"
    assert sign(fox, "key") == "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="
    # Computed with `openssl dgst -sha256 -hmac pigeon-test-secret -binary | base64`.
    body = b'{"id":5830000001042,"fulfillment_status":"fulfilled"}'
    assert sign(body, "pigeon-test-secret") == "hu/M/O59I3iFQsgKfiNWnfSJXxiM6KVwq9zkcRBS+A8="


def test_sign_is_base64_hmac_sha256_of_the_raw_body() -> None:
    body = json.dumps(order_payload(ORDER)).encode("utf-8")
    expected = hmac.new(b"s3cret-\xc3\xa9", body, hashlib.sha256).digest()
    assert base64.b64decode(sign(body, "s3cret-é")) == expected
    assert sign(body, "another") != sign(body, "s3cret-é")
    assert sign(body + b" ", "s3cret-é") != sign(body, "s3cret-é")


def headers(**changes: Any) -> dict[str, str]:
    arguments: dict[str, Any] = {
        "webhook_id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "triggered_at": datetime(2026, 6, 15, 17, 42, 3, 781200, timezone.utc),
    } | changes
    return webhook_headers("orders/fulfilled", b'{"id":1042}', "pigeon-test-secret", **arguments)


def test_headers_carry_everything_shopify_sends() -> None:
    sent = headers()
    assert set(SHOPIFY_HEADERS) | {"Content-Type"} == set(sent)
    assert all(isinstance(value, str) and value for value in sent.values())
    assert sent["Content-Type"] == "application/json"
    assert sent["X-Shopify-Topic"] == "orders/fulfilled"
    assert sent["X-Shopify-Shop-Domain"] == "pigeon-demo.myshopify.com"
    assert sent["X-Shopify-API-Version"] == "2026-10"
    assert sent["X-Shopify-Webhook-Id"] == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert sent["X-Shopify-Triggered-At"] == "2026-06-15T17:42:03.781200000Z"


def test_the_hmac_header_verifies_against_the_body() -> None:
    mac = hmac.new(b"pigeon-test-secret", b'{"id":1042}', hashlib.sha256).digest()
    received = base64.b64decode(headers()["X-Shopify-Hmac-Sha256"])
    assert hmac.compare_digest(received, mac)


def test_the_event_id_is_a_uuid_shared_by_retries_unless_given() -> None:
    first, retry, other = headers(), headers(), headers(webhook_id="another-delivery")
    event_id = first["X-Shopify-Event-Id"]
    assert str(uuid.UUID(event_id)) == event_id
    assert event_id == retry["X-Shopify-Event-Id"] != other["X-Shopify-Event-Id"]
    assert event_id != first["X-Shopify-Webhook-Id"]
    assert headers(event_id="evt-7")["X-Shopify-Event-Id"] == "evt-7"


def test_header_options_are_passed_through() -> None:
    sent = headers(shop_domain="acme.myshopify.com", api_version="2025-10")
    assert (sent["X-Shopify-Shop-Domain"], sent["X-Shopify-API-Version"]) == (
        "acme.myshopify.com",
        "2025-10",
    )
    eastern = datetime(2026, 6, 15, 9, 42, 3, tzinfo=timezone(timedelta(hours=-4)))
    assert (
        headers(triggered_at=eastern)["X-Shopify-Triggered-At"] == "2026-06-15T13:42:03.000000000Z"
    )


def test_a_naive_trigger_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        headers(triggered_at=datetime(2026, 6, 15, 17, 42))
