"""Shopify webhook bodies -> ShopifyEvent, from recorded fixtures and from hostile JSON."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.notify.events import (
    HANDLED_TOPICS,
    CheckoutConsent,
    ShipmentUpdate,
    ShopifyEvent,
    UnexpectedPayload,
    parse_webhook,
    shipment_status,
)
from bot.oms.base import SHIPMENT_STATUSES

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "shopify" / "webhooks"
TOPIC_FILES = {
    "orders/create": "orders_create.json",
    "orders/updated": "orders_updated.json",
    "orders/fulfilled": "orders_fulfilled.json",
    "orders/cancelled": "orders_cancelled.json",
    "fulfillments/create": "fulfillments_create.json",
    "fulfillments/update": "fulfillments_update.json",
    "fulfillment_events/create": "fulfillment_events_create.json",
    "customers/marketing_consent_update": "customers_marketing_consent_update.json",
}
ORDER = "5830000001042"
MAYA = "+12065550143"
# What a customer's data looks like in the fixtures: none of it may leak into an error message.
PERSONAL = ("Maya", "Okafor", "maya.okafor", "555-0143", "5550143", "Alder", "Luis", "Ferreira")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def load(topic: str) -> dict[str, Any]:
    return json.loads((FIXTURES / TOPIC_FILES[topic]).read_text())


UPS = ShipmentUpdate(
    order_id=ORDER,
    fulfillment_id="4710000000501",
    status="in_transit",
    happened_at=utc(2026, 6, 14, 10, 18, 9),
    carrier="UPS",
    tracking_number="1Z9X4E270312345678",
    tracking_url="https://www.ups.com/track?tracknum=1Z9X4E270312345678",
    estimated_delivery_at=None,
    message=None,
    location=None,
)
USPS = ShipmentUpdate(
    order_id=ORDER,
    fulfillment_id="4710000000503",
    status=None,
    happened_at=utc(2026, 6, 13, 15, 41, 30),
    carrier="USPS",
    tracking_number="9400111899562537123456",
    tracking_url="https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899562537123456",
    estimated_delivery_at=None,
    message=None,
    location=None,
)
CHECKOUT = CheckoutConsent(MAYA, utc(2026, 6, 12, 13, 13, 58), "single_opt_in", "SHOPIFY")
EXPECTED = {
    "customers/marketing_consent_update": ShopifyEvent(
        "customers/marketing_consent_update", None, (), None, (CHECKOUT,), ()
    ),
    "orders/create": ShopifyEvent("orders/create", ORDER, (), None, (CHECKOUT,), ()),
    "orders/updated": ShopifyEvent("orders/updated", ORDER, (), None, (), (MAYA,)),
    "orders/fulfilled": ShopifyEvent("orders/fulfilled", ORDER, (UPS, USPS), None, (CHECKOUT,), ()),
    "orders/cancelled": ShopifyEvent(
        "orders/cancelled", "5830000001043", (), utc(2026, 6, 14, 19, 22, 40), (), ()
    ),
    "fulfillments/create": ShopifyEvent("fulfillments/create", ORDER, (USPS,), None, (), ()),
    "fulfillments/update": ShopifyEvent(
        "fulfillments/update",
        ORDER,
        (
            ShipmentUpdate(
                **{
                    **UPS.__dict__,
                    "status": "out_for_delivery",
                    "happened_at": utc(2026, 6, 15, 11, 55, 21),
                }
            ),
        ),
        None,
        (),
        (),
    ),
    "fulfillment_events/create": ShopifyEvent(
        "fulfillment_events/create",
        ORDER,
        (
            ShipmentUpdate(
                order_id=ORDER,
                fulfillment_id="4710000000501",
                status="attempted_delivery",
                happened_at=utc(2026, 6, 15, 17, 42),
                carrier=None,
                tracking_number=None,
                tracking_url=None,
                estimated_delivery_at=utc(2026, 6, 17, 0, 0),
                message="Delivery attempted, no access",
                location="Seattle, WA",
            ),
        ),
        None,
        (),
        (),
    ),
}


@pytest.mark.parametrize("topic", sorted(TOPIC_FILES))
def test_each_fixture_parses_to_the_exact_event(topic: str) -> None:
    assert parse_webhook(topic, load(topic)) == EXPECTED[topic]


def test_handled_topics_are_those_with_fixtures() -> None:
    assert frozenset(TOPIC_FILES) == HANDLED_TOPICS


def test_topic_names_are_matched_without_case_or_padding() -> None:
    event = parse_webhook(" Orders/Fulfilled\n", load("orders/fulfilled"))
    assert event == EXPECTED["orders/fulfilled"]


@pytest.mark.parametrize(
    "topic",
    ["orders/paid", "products/update", "customers/update", "fulfillment_events/delete", "", "x"],
)
@pytest.mark.parametrize("payload", [None, [], "garbage", {"id": "not-a-number"}, {}])
def test_other_topics_are_ignored_whatever_the_body(topic: str, payload: object) -> None:
    assert parse_webhook(topic, payload) is None


# --- statuses ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", SHIPMENT_STATUSES)
def test_every_shipment_status_is_known_in_rest_and_graphql_spelling(status: str) -> None:
    assert shipment_status(status) == status
    assert shipment_status(status.upper()) == status
    assert shipment_status(f"  {status.title()} ") == status


@pytest.mark.parametrize(
    "raw", [None, "", "  ", "picked_up", "PICKED_UP", "shipped", "success", "deliverd", 3, True, []]
)
def test_unknown_or_empty_statuses_are_none(raw: object) -> None:
    assert shipment_status(raw) is None  # type: ignore[arg-type]


def test_graphql_status_in_an_event_is_normalised() -> None:
    event = load("fulfillment_events/create") | {"status": "OUT_FOR_DELIVERY"}
    (update,) = parse_webhook("fulfillment_events/create", event).updates
    assert update.status == "out_for_delivery"


def test_an_event_status_we_do_not_know_gives_no_update() -> None:
    event = load("fulfillment_events/create") | {"status": "picked_up"}
    parsed = parse_webhook("fulfillment_events/create", event)
    assert parsed == ShopifyEvent("fulfillment_events/create", ORDER, (), None, (), ())


def test_an_unknown_shipment_status_on_a_fulfillment_reads_as_no_news() -> None:
    body = load("fulfillments/update") | {"shipment_status": "held_at_customs"}
    (update,) = parse_webhook("fulfillments/update", body).updates
    assert update.status is None


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-06-15T10:00:00-04:00", utc(2026, 6, 15, 14, 0)),
        ("2026-06-15T10:00:00+05:30", utc(2026, 6, 15, 4, 30)),
        ("2026-06-15T23:30:00-07:00", utc(2026, 6, 16, 6, 30)),
        ("2026-06-15T14:00:00Z", utc(2026, 6, 15, 14, 0)),
        ("2026-06-15T14:00:00.250Z", datetime(2026, 6, 15, 14, 0, 0, 250000, timezone.utc)),
        ("2026-06-15T14:00:00.123456789+00:00", utc(2026, 6, 15, 14, 0, 0, 123456)),
        ("2026-06-15 10:00:00-0400", utc(2026, 6, 15, 14, 0)),
    ],
)
def test_event_times_with_offsets_come_out_in_utc(raw: str, expected: datetime) -> None:
    body = load("fulfillment_events/create") | {"happened_at": raw, "estimated_delivery_at": raw}
    (update,) = parse_webhook("fulfillment_events/create", body).updates
    assert update.happened_at == expected
    assert update.happened_at.utcoffset().total_seconds() == 0
    assert update.estimated_delivery_at == expected


@pytest.mark.parametrize(
    "raw",
    [
        "soon",
        "2026-06-15",
        "2026-06-15T10:00:00",
        "2026-13-01T00:00:00Z",
        "2026-06-15T10:00Z+1",
        17,
    ],
)
def test_a_bad_optional_time_is_dropped(raw: object) -> None:
    body = load("fulfillment_events/create") | {"estimated_delivery_at": raw}
    (update,) = parse_webhook("fulfillment_events/create", body).updates
    assert update.estimated_delivery_at is None
    assert update.happened_at == utc(2026, 6, 15, 17, 42)


@pytest.mark.parametrize("raw", ["yesterday", "2026-06-15T10:00:00", "", 1718459000, ["x"]])
def test_a_bad_required_time_is_an_unexpected_payload(raw: object) -> None:
    with pytest.raises(UnexpectedPayload, match="happened_at"):
        parse_webhook(
            "fulfillment_events/create", load("fulfillment_events/create") | {"happened_at": raw}
        )


def test_an_event_without_happened_at_falls_back_to_created_at() -> None:
    body = load("fulfillment_events/create")
    del body["happened_at"]
    (update,) = parse_webhook("fulfillment_events/create", body).updates
    assert update.happened_at == utc(2026, 6, 15, 17, 44, 3)


def test_a_fulfillment_without_updated_at_uses_created_at() -> None:
    body = load("fulfillments/update") | {"updated_at": None}
    (update,) = parse_webhook("fulfillments/update", body).updates
    assert update.happened_at == utc(2026, 6, 13, 15, 2, 44)


def test_an_undated_fulfillment_in_an_order_takes_the_orders_updated_at() -> None:
    order = load("orders/fulfilled")
    for field in ("updated_at", "created_at"):
        del order["fulfillments"][0][field]
    first = parse_webhook("orders/fulfilled", order).updates[0]
    assert first.happened_at == utc(2026, 6, 14, 10, 18, 12)


def test_an_undated_fulfillment_in_an_undated_order_is_unexpected() -> None:
    order = load("orders/fulfilled") | {"updated_at": "not a time"}
    for field in ("updated_at", "created_at"):
        del order["fulfillments"][0][field]
    with pytest.raises(UnexpectedPayload, match=r"fulfillments\[0\]"):
        parse_webhook("orders/fulfilled", order)


# --- ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_id", "fulfillment_id"),
    [
        (5830000001042, 4710000000501),
        ("5830000001042", "4710000000501"),
        (" 5830000001042 ", "0004710000000501"),
        ("gid://shopify/Order/5830000001042", "gid://shopify/Fulfillment/4710000000501"),
    ],
)
def test_ids_may_be_ints_strings_or_gids(order_id: object, fulfillment_id: object) -> None:
    body = load("fulfillment_events/create") | {
        "order_id": order_id,
        "fulfillment_id": fulfillment_id,
    }
    parsed = parse_webhook("fulfillment_events/create", body)
    assert parsed.order_id == ORDER
    assert parsed.updates[0].fulfillment_id == "4710000000501"


def test_demo_store_ids_are_order_numbers() -> None:
    body = load("fulfillments/update") | {"id": 7, "order_id": "1001"}
    (update,) = parse_webhook("fulfillments/update", body).updates
    assert (update.order_id, update.fulfillment_id) == ("1001", "7")


# --- consent ----------------------------------------------------------------------------------


def with_consent(topic: str, consent: object, phone: object = MAYA) -> dict[str, Any]:
    body = load(topic)
    body["customer"]["phone"] = phone
    body["customer"]["sms_marketing_consent"] = consent
    return body


def consent(state: str, **fields: object) -> dict[str, object]:
    return {
        "state": state,
        "opt_in_level": "confirmed_opt_in",
        "consent_updated_at": "2026-06-12T09:13:58-04:00",
        "consent_collected_from": "OTHER",
    } | fields


@pytest.mark.parametrize(
    "topic", ["orders/create", "orders/updated", "orders/fulfilled", "orders/cancelled"]
)
def test_subscribed_at_checkout_is_a_consent_on_every_order_topic(topic: str) -> None:
    parsed = parse_webhook(topic, with_consent(topic, consent("subscribed")))
    assert parsed.consents == (
        CheckoutConsent(MAYA, utc(2026, 6, 12, 13, 13, 58), "confirmed_opt_in", "OTHER"),
    )
    assert parsed.revocations == ()


@pytest.mark.parametrize("state", ["unsubscribed", "redacted", "UNSUBSCRIBED"])
def test_withdrawn_consent_is_a_revocation_and_nothing_else(state: str) -> None:
    parsed = parse_webhook("orders/updated", with_consent("orders/updated", consent(state)))
    assert (parsed.consents, parsed.revocations) == ((), (MAYA,))


@pytest.mark.parametrize("state", ["not_subscribed", "pending", "", "maybe", None, 1])
def test_other_consent_states_record_nothing(state: object) -> None:
    parsed = parse_webhook("orders/create", with_consent("orders/create", consent(state)))
    assert (parsed.consents, parsed.revocations) == ((), ())


def test_the_consent_phone_is_normalised_to_e164() -> None:
    body = with_consent("orders/create", consent("subscribed"), phone="(206) 555-0143")
    assert parse_webhook("orders/create", body).consents[0].phone == MAYA


@pytest.mark.parametrize("phone", [None, "", "call me", "12", 2065550143])
def test_consent_without_a_usable_phone_is_skipped(phone: object) -> None:
    for state in ("subscribed", "unsubscribed"):
        body = with_consent("orders/create", consent(state), phone=phone)
        parsed = parse_webhook("orders/create", body)
        assert (parsed.consents, parsed.revocations) == ((), ())


def test_consent_details_that_are_unreadable_become_none() -> None:
    details = consent("subscribed", consent_updated_at="last week", opt_in_level=None)
    (granted,) = parse_webhook("orders/create", with_consent("orders/create", details)).consents
    assert granted == CheckoutConsent(MAYA, None, None, "OTHER")


def test_no_customer_or_no_consent_means_no_consent_news() -> None:
    no_customer = load("orders/fulfilled") | {"customer": None}
    without_key = load("orders/fulfilled")
    del without_key["customer"]["sms_marketing_consent"]  # webhooks since 2025-01 may omit it
    for body in (no_customer, without_key, with_consent("orders/fulfilled", None)):
        parsed = parse_webhook("orders/fulfilled", body)
        assert (parsed.consents, parsed.revocations) == ((), ())
        assert parsed.updates == (UPS, USPS)


def test_the_order_phone_is_not_taken_as_consent() -> None:
    body = with_consent("orders/create", consent("subscribed"), phone=None) | {"phone": MAYA}
    assert parse_webhook("orders/create", body).consents == ()


# --- fulfillments -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["cancelled", "error", "failure", "CANCELLED"])
def test_a_cancelled_or_failed_fulfillment_gives_no_update(status: str) -> None:
    parsed = parse_webhook("fulfillments/update", load("fulfillments/update") | {"status": status})
    assert parsed == ShopifyEvent("fulfillments/update", ORDER, (), None, (), ())


def test_the_cancelled_fulfillment_in_the_order_fixture_is_skipped() -> None:
    order = load("orders/fulfilled")
    assert order["fulfillments"][1]["status"] == "cancelled"
    ids = [u.fulfillment_id for u in parse_webhook("orders/fulfilled", order).updates]
    assert ids == ["4710000000501", "4710000000503"]


def test_an_order_without_fulfillments_has_no_updates() -> None:
    parsed = parse_webhook("orders/fulfilled", load("orders/fulfilled") | {"fulfillments": []})
    assert parsed.updates == ()
    assert parsed.consents == (CHECKOUT,)


def test_orders_updated_reads_consent_only_even_with_fulfillments() -> None:
    body = load("orders/updated")
    assert len(body["fulfillments"]) == 3
    assert parse_webhook("orders/updated", body).updates == ()


@pytest.mark.parametrize(
    ("fields", "number", "url"),
    [
        ({"tracking_numbers": [], "tracking_number": "1ZONLY"}, "1ZONLY", UPS.tracking_url),
        (
            {"tracking_numbers": ["", "1ZSECOND"], "tracking_number": "1ZOLD"},
            "1ZSECOND",
            UPS.tracking_url,
        ),
        ({"tracking_numbers": "1ZSTR", "tracking_number": None}, None, UPS.tracking_url),
        (
            {"tracking_urls": [], "tracking_url": "https://u.example/1"},
            UPS.tracking_number,
            "https://u.example/1",
        ),
        ({"tracking_urls": None, "tracking_url": None}, UPS.tracking_number, None),
    ],
)
def test_tracking_is_the_first_of_the_list_else_the_single_field(
    fields: dict[str, object], number: str | None, url: str | None
) -> None:
    (update,) = parse_webhook("fulfillments/update", load("fulfillments/update") | fields).updates
    assert (update.tracking_number, update.tracking_url) == (number, url)


def test_an_estimated_delivery_on_a_fulfillment_is_read_when_present() -> None:
    body = load("fulfillments/update") | {"estimated_delivery_at": "2026-06-16T20:00:00-04:00"}
    (update,) = parse_webhook("fulfillments/update", body).updates
    assert update.estimated_delivery_at == utc(2026, 6, 17, 0, 0)


@pytest.mark.parametrize(
    ("city", "province", "location"),
    [
        ("Seattle", "WA", "Seattle, WA"),
        ("Seattle", None, "Seattle"),
        (None, "WA", "WA"),
        ("", " ", None),
    ],
)
def test_event_location_joins_the_parts_present(
    city: str | None, province: str | None, location: str | None
) -> None:
    body = load("fulfillment_events/create") | {"city": city, "province": province}
    assert parse_webhook("fulfillment_events/create", body).updates[0].location == location


# --- malformed payloads -----------------------------------------------------------------------


def without(topic: str, *path: str | int) -> dict[str, Any]:
    body = load(topic)
    target = body
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return body


def replaced(topic: str, value: object, *path: str | int) -> dict[str, Any]:
    body = load(topic)
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return body


MALFORMED = [
    *[(topic, [], "payload") for topic in TOPIC_FILES],
    *[(topic, "x", "payload") for topic in TOPIC_FILES],
    *[(topic, None, "payload") for topic in TOPIC_FILES],
    *[(topic, 42, "payload") for topic in TOPIC_FILES],
    *[
        (topic, without(topic, "id"), "payload.id")
        for topic in TOPIC_FILES
        if topic.startswith("orders/")
    ],
    ("orders/create", replaced("orders/create", "#1042", "id"), "payload.id"),
    ("orders/updated", replaced("orders/updated", True, "id"), "payload.id"),
    ("orders/updated", replaced("orders/updated", "order-1042", "customer"), "payload.customer"),
    (
        "orders/create",
        replaced("orders/create", ["subscribed"], "customer", "sms_marketing_consent"),
        "sms_marketing_consent",
    ),
    ("orders/fulfilled", replaced("orders/fulfilled", -5, "id"), "payload.id"),
    ("orders/fulfilled", replaced("orders/fulfilled", 0, "id"), "payload.id"),
    ("orders/fulfilled", replaced("orders/fulfilled", 2**63, "id"), "payload.id"),
    ("orders/fulfilled", replaced("orders/fulfilled", "1e5", "id"), "payload.id"),
    ("orders/fulfilled", replaced("orders/fulfilled", "gid://shopify/Order/", "id"), "payload.id"),
    ("orders/fulfilled", replaced("orders/fulfilled", {"0": {}}, "fulfillments"), "fulfillments"),
    ("orders/fulfilled", without("orders/fulfilled", "fulfillments"), "fulfillments"),
    (
        "orders/fulfilled",
        replaced("orders/fulfilled", "UPS", "fulfillments", 0),
        r"fulfillments\[0\]",
    ),
    (
        "orders/fulfilled",
        replaced("orders/fulfilled", None, "fulfillments", 2, "id"),
        r"fulfillments\[2\]\.id",
    ),
    (
        "orders/fulfilled",
        replaced("orders/fulfilled", "Tuesday", "fulfillments", 0, "updated_at"),
        "updated_at",
    ),
    ("orders/cancelled", without("orders/cancelled", "cancelled_at"), "cancelled_at"),
    ("orders/cancelled", replaced("orders/cancelled", None, "cancelled_at"), "cancelled_at"),
    (
        "orders/cancelled",
        replaced("orders/cancelled", "2026-06-14", "cancelled_at"),
        "cancelled_at",
    ),
    ("fulfillments/create", without("fulfillments/create", "order_id"), "order_id"),
    ("fulfillments/create", replaced("fulfillments/create", "abc", "id"), "payload.id"),
    ("fulfillments/update", replaced("fulfillments/update", 12.5, "order_id"), "order_id"),
    ("fulfillments/update", replaced("fulfillments/update", "soon", "updated_at"), "updated_at"),
    (
        "fulfillments/update",
        replaced("fulfillments/update", None, "updated_at") | {"created_at": None},
        "updated_at or created_at",
    ),
    ("fulfillment_events/create", without("fulfillment_events/create", "order_id"), "order_id"),
    (
        "fulfillment_events/create",
        without("fulfillment_events/create", "fulfillment_id"),
        "fulfillment_id",
    ),
    (
        "fulfillment_events/create",
        replaced("fulfillment_events/create", "gid://shopify/Order/x", "order_id"),
        "order_id",
    ),
    ("fulfillment_events/create", replaced("fulfillment_events/create", None, "status"), "status"),
    (
        "fulfillment_events/create",
        replaced("fulfillment_events/create", ["delivered"], "status"),
        "status",
    ),
    (
        "fulfillment_events/create",
        replaced("fulfillment_events/create", None, "happened_at") | {"created_at": None},
        "happened_at",
    ),
]


@pytest.mark.parametrize(
    ("topic", "payload", "where"),
    MALFORMED,
    ids=[f"{index}-{topic}-{where}" for index, (topic, _, where) in enumerate(MALFORMED)],
)
def test_malformed_payloads_are_unexpected_and_say_where(
    topic: str, payload: object, where: str
) -> None:
    with pytest.raises(UnexpectedPayload, match=where) as caught:
        parse_webhook(topic, payload)
    assert not any(part in str(caught.value) for part in PERSONAL)


# --- sweep: every field of every fixture, replaced by each kind of wrong value ----------------

WRONG_VALUES: tuple[object, ...] = (None, [], {}, "x", 12, True, -1, 1.5, "2026-02-30T00:00:00Z")


def paths(value: object, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every key and list index in a JSON value, parents before children."""
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in children:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def check_valid(event: ShopifyEvent, topic: str) -> None:
    """What any parse result must hold, whatever the input was."""
    assert event.topic == topic
    assert event.order_id is None or event.order_id.isdigit()
    for update in event.updates:
        assert update.status is None or update.status in SHIPMENT_STATUSES
        assert update.order_id.isdigit()
        assert update.fulfillment_id.isdigit()
        assert update.happened_at.utcoffset().total_seconds() == 0
        for optional in (
            update.carrier,
            update.tracking_number,
            update.tracking_url,
            update.message,
        ):
            assert optional is None or (
                isinstance(optional, str) and optional.strip() == optional != ""
            )
    for number in (*event.revocations, *(granted.phone for granted in event.consents)):
        assert number.startswith("+")
        assert number[1:].isdigit()


@contextmanager
def swapped(body: dict[str, Any], path: tuple[str | int, ...], value: object) -> Iterator[None]:
    """`body` with the value at `path` replaced (or deleted, for REMOVED) until the block ends."""
    target: Any = body
    for step in path[:-1]:
        target = target[step]
    key = path[-1]
    saved = target[key]
    if value is REMOVED:
        del target[key]
    else:
        target[key] = value
    try:
        yield
    finally:
        target[key] = saved


REMOVED = object()


@pytest.mark.parametrize("topic", sorted(TOPIC_FILES))
def test_sweep_each_field_replaced_or_removed_parses_or_is_unexpected(topic: str) -> None:
    body = load(topic)
    pristine = copy.deepcopy(body)
    parsed, messages = 0, []
    for path in list(paths(body)):
        removals = () if isinstance(path[-1], int) else (REMOVED,)
        for wrong in (*WRONG_VALUES, *removals):
            with swapped(body, path, wrong):
                try:
                    event = parse_webhook(topic, body)
                except UnexpectedPayload as error:
                    messages.append(str(error))
                    continue
            assert event is not None
            check_valid(event, topic)
            parsed += 1
    assert body == pristine  # the parser never writes to its input
    assert parsed > 0
    assert messages
    assert [m for m in messages if any(part in m for part in PERSONAL)] == []
