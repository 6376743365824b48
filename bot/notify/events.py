"""Shopify's order and fulfillment webhooks, read into the shipment news and consent Pigeon acts on.

Pure: no I/O, no clock. Payloads are untrusted JSON, so every reader checks the type it gets and
a handled topic either parses or raises UnexpectedPayload, whose message names fields only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot import phone
from bot.notify.shopify_json import numeric_id, parse_time, text
from bot.oms.base import SHIPMENT_STATUSES

ORDER_TOPICS = frozenset(
    {"orders/create", "orders/updated", "orders/fulfilled", "orders/cancelled"}
)
FULFILLMENT_TOPICS = frozenset({"fulfillments/create", "fulfillments/update"})
EVENT_TOPIC = "fulfillment_events/create"
# Since API 2025-01 order webhooks may omit the customer's consent; this topic carries it.
CONSENT_TOPIC = "customers/marketing_consent_update"
HANDLED_TOPICS: frozenset[str] = ORDER_TOPICS | FULFILLMENT_TOPICS | {EVENT_TOPIC, CONSENT_TOPIC}

# A fulfillment in one of these states will never move a parcel, so it carries no shipment news.
DEAD_FULFILLMENT_STATUSES = frozenset({"cancelled", "error", "failure"})
# SMS consent states that mean "stop"; "not_subscribed" and "pending" never granted anything.
REVOKED_STATES = frozenset({"unsubscribed", "redacted"})
_KNOWN_STATUSES = frozenset(SHIPMENT_STATUSES)


class UnexpectedPayload(ValueError):
    """JSON not of this topic's shape; the message names what was wrong, never customer data."""


@dataclass(frozen=True)
class ShipmentUpdate:
    order_id: str
    fulfillment_id: str
    status: str | None  # one of SHIPMENT_STATUSES; None: a fulfillment without carrier news yet
    happened_at: datetime  # UTC
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    estimated_delivery_at: datetime | None
    message: str | None
    location: str | None  # "City, PROVINCE"


@dataclass(frozen=True)
class CheckoutConsent:
    phone: str  # E.164
    consented_at: datetime | None
    opt_in_level: str | None
    collected_from: str | None


@dataclass(frozen=True)
class ShopifyEvent:
    topic: str
    order_id: str | None
    updates: tuple[ShipmentUpdate, ...]
    cancelled_at: datetime | None
    consents: tuple[CheckoutConsent, ...]
    revocations: tuple[str, ...]  # E.164 numbers whose SMS consent Shopify says is withdrawn


def shipment_status(raw: str | None) -> str | None:
    """Shopify's status in any case (GraphQL 'IN_TRANSIT', REST 'in_transit') as ours, else None."""
    if not isinstance(raw, str):
        return None
    key = raw.strip().lower().replace("-", "_").replace(" ", "_")
    return key if key in _KNOWN_STATUSES else None


def parse_webhook(topic: str, payload: object) -> ShopifyEvent | None:
    """None for a topic we acknowledge and ignore; UnexpectedPayload for a handled one misshapen."""
    name = topic.strip().lower() if isinstance(topic, str) else ""
    parser = _PARSERS.get(name)
    if parser is None:
        return None
    return parser(name, _object(payload, "payload"))


def _order_consent_only(topic: str, order: dict) -> ShopifyEvent:
    """orders/create and orders/updated: only the customer's SMS consent matters to us."""
    order_id = _required_id(order, "id", "payload")
    consents, revocations = _consent(order)
    return ShopifyEvent(topic, order_id, (), None, consents, revocations)


def _customer_consent(topic: str, customer: dict) -> ShopifyEvent:
    """customers/marketing_consent_update: a customer's SMS consent changed in Shopify."""
    _required_id(customer, "id", "payload")
    consents, revocations = _consent({"customer": customer})
    return ShopifyEvent(topic, None, (), None, consents, revocations)


def _order_cancelled(topic: str, order: dict) -> ShopifyEvent:
    """A cancelled order supersedes any shipment text still waiting for quiet hours to end."""
    order_id = _required_id(order, "id", "payload")
    cancelled_at = _first_time(order, ("cancelled_at",), "payload")
    if cancelled_at is None:
        raise UnexpectedPayload("payload.cancelled_at is missing")
    consents, revocations = _consent(order)
    return ShopifyEvent(topic, order_id, (), cancelled_at, consents, revocations)


def _order_fulfilled(topic: str, order: dict) -> ShopifyEvent:
    """Every live package of the order, each with its own shipment status."""
    order_id = _required_id(order, "id", "payload")
    fulfillments = order.get("fulfillments")
    if not isinstance(fulfillments, list):
        raise UnexpectedPayload("payload.fulfillments is missing or not a list")
    fallback = parse_time(order.get("updated_at"))
    updates = []
    for index, entry in enumerate(fulfillments):
        where = f"payload.fulfillments[{index}]"
        update = _fulfillment_update(_object(entry, where), order_id, fallback, where)
        if update is not None:
            updates.append(update)
    consents, revocations = _consent(order)
    return ShopifyEvent(topic, order_id, tuple(updates), None, consents, revocations)


def _fulfillment(topic: str, fulfillment: dict) -> ShopifyEvent:
    """fulfillments/create and /update: the package, its tracking and its shipment_status."""
    order_id = _required_id(fulfillment, "order_id", "payload")
    update = _fulfillment_update(fulfillment, order_id, None, "payload")
    return ShopifyEvent(topic, order_id, () if update is None else (update,), None, (), ())


def _fulfillment_event(topic: str, event: dict) -> ShopifyEvent:
    """A carrier scan: the freshest news, without tracking (that is on the fulfillment)."""
    order_id = _required_id(event, "order_id", "payload")
    fulfillment_id = _required_id(event, "fulfillment_id", "payload")
    if not isinstance(event.get("status"), str):
        raise UnexpectedPayload("payload.status is missing or not a string")
    happened_at = _first_time(event, ("happened_at", "created_at"), "payload")
    if happened_at is None:
        raise UnexpectedPayload("payload.happened_at is missing")
    status = shipment_status(event["status"])
    if status is None:  # a status newer than ours: nothing we know how to tell the customer
        return ShopifyEvent(topic, order_id, (), None, (), ())
    update = ShipmentUpdate(
        order_id=order_id,
        fulfillment_id=fulfillment_id,
        status=status,
        happened_at=happened_at,
        carrier=None,
        tracking_number=None,
        tracking_url=None,
        estimated_delivery_at=parse_time(event.get("estimated_delivery_at")),
        message=text(event.get("message")),
        location=_location(event),
    )
    return ShopifyEvent(topic, order_id, (update,), None, (), ())


def _fulfillment_update(
    fulfillment: dict, order_id: str, fallback: datetime | None, where: str
) -> ShipmentUpdate | None:
    """The news in one fulfillment object, or None when it was cancelled or failed."""
    fulfillment_id = _required_id(fulfillment, "id", where)
    if (text(fulfillment.get("status")) or "").lower() in DEAD_FULFILLMENT_STATUSES:
        return None
    happened_at = _first_time(fulfillment, ("updated_at", "created_at"), where) or fallback
    if happened_at is None:
        raise UnexpectedPayload(f"{where} has no updated_at or created_at")
    return ShipmentUpdate(
        order_id=order_id,
        fulfillment_id=fulfillment_id,
        status=shipment_status(fulfillment.get("shipment_status")),
        happened_at=happened_at,
        carrier=text(fulfillment.get("tracking_company")),
        tracking_number=_first_text(fulfillment, "tracking_numbers", "tracking_number"),
        tracking_url=_first_text(fulfillment, "tracking_urls", "tracking_url"),
        estimated_delivery_at=parse_time(fulfillment.get("estimated_delivery_at")),
        message=None,
        location=None,
    )


def _consent(order: dict) -> tuple[tuple[CheckoutConsent, ...], tuple[str, ...]]:
    """The customer's SMS consent as given at checkout, or its withdrawal; nothing when unsaid."""
    customer = order.get("customer")
    if customer is None:
        return (), ()
    customer = _object(customer, "payload.customer")
    consent = customer.get("sms_marketing_consent")
    if consent is None:
        return (), ()
    consent = _object(consent, "payload.customer.sms_marketing_consent")
    number = phone.normalize(text(customer.get("phone")))
    state = (text(consent.get("state")) or "").lower()
    if number is None:
        return (), ()
    if state in REVOKED_STATES:
        return (), (number,)
    if state != "subscribed":
        return (), ()
    granted = CheckoutConsent(
        phone=number,
        consented_at=parse_time(consent.get("consent_updated_at")),
        opt_in_level=text(consent.get("opt_in_level")),
        collected_from=text(consent.get("consent_collected_from")),
    )
    return (granted,), ()


def _object(value: object, where: str) -> dict:
    """The value when it is a JSON object; the payload's shape is wrong otherwise."""
    if not isinstance(value, dict):
        raise UnexpectedPayload(f"{where} is not a JSON object")
    return value


def _required_id(body: dict, field: str, where: str) -> str:
    """A Shopify id the event cannot do without, as a digit string."""
    digits = numeric_id(body.get(field))
    if digits is None:
        raise UnexpectedPayload(f"{where}.{field} is missing or not a numeric id")
    return digits


def _first_time(body: dict, fields: tuple[str, ...], where: str) -> datetime | None:
    """The first of `fields` that is set, in UTC; one that is set but unreadable is an error."""
    for field in fields:
        value = body.get(field)
        if value is None:
            continue
        moment = parse_time(value)
        if moment is None:
            raise UnexpectedPayload(f"{where}.{field} is not an ISO 8601 time with an offset")
        return moment
    return None


def _first_text(body: dict, many: str, one: str) -> str | None:
    """The first of a list field (tracking_numbers), else its single twin (tracking_number)."""
    values = body.get(many)
    if isinstance(values, list):
        for value in values:
            if found := text(value):
                return found
    return text(body.get(one))


def _location(event: dict) -> str | None:
    """Where the scan happened, as "City, PROVINCE", from whichever parts the carrier sent."""
    parts = [part for part in (text(event.get("city")), text(event.get("province"))) if part]
    return ", ".join(parts) or None


_PARSERS: dict[str, Callable[[str, dict], ShopifyEvent]] = {
    CONSENT_TOPIC: _customer_consent,
    "orders/create": _order_consent_only,
    "orders/updated": _order_consent_only,
    "orders/cancelled": _order_cancelled,
    "orders/fulfilled": _order_fulfilled,
    "fulfillments/create": _fulfillment,
    "fulfillments/update": _fulfillment,
    EVENT_TOPIC: _fulfillment_event,
}
