"""Shopify Admin GraphQL JSON to the order-system dataclasses.

Ids become the numeric strings webhooks use ("gid://shopify/Order/123" -> "123"), so a webhook's
`order_id` finds the order again. Statuses become our lower-case words.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from decimal import Decimal, InvalidOperation

from bot.notify.shopify_json import numeric_id, parse_time, text
from bot.oms.base import (
    SHIPMENT_STATUSES,
    Address,
    FulfilledItem,
    Fulfillment,
    LineItem,
    Order,
    OrderSystemError,
    Return,
    ReturnLine,
    TrackingEvent,
)
from bot.oms.tracking import carrier_name, tracking_url
from bot.phone import normalize

# A product tagged so is final sale: it cannot be returned (Shopify has no such flag).
FINAL_SALE_TAG = "final-sale"
CENT = Decimal("0.01")
# Statuses newer API versions may send, read as the nearest of ours.
_STATUS_ALIASES = {
    "PICKED_UP": "delivered",
    "NOT_DELIVERED": "failure",
    "READY_FOR_RECIPIENT_PICKUP": "ready_for_pickup",
    "BUYER_ACTION_REQUIRED": "attempted_delivery",
    "RETURNING_TO_SENDER": "failure",
}
_VOID_FULFILLMENTS = frozenset({"CANCELLED", "ERROR", "FAILURE"})


def gid(kind: str, local: str) -> str:
    """Shopify's global id for our numeric one: gid("Order", "123")."""
    return f"gid://shopify/{kind}/{local}"


def shipment_status(value: object) -> str | None:
    """FulfillmentEventStatus / FulfillmentDisplayStatus ("IN_TRANSIT") as ours ("in_transit")."""
    if not isinstance(value, str):
        return None
    status = value.strip().lower()
    return status if status in SHIPMENT_STATUSES else _STATUS_ALIASES.get(value.strip().upper())


def nodes(connection: object) -> list[dict]:
    """The objects of a connection, whether asked for as `nodes` or `edges { node }`."""
    if isinstance(connection, list):
        return [n for n in connection if isinstance(n, dict)]
    if not isinstance(connection, dict):
        return []
    if isinstance(connection.get("nodes"), list):
        return [n for n in connection["nodes"] if isinstance(n, dict)]
    edges = connection.get("edges") if isinstance(connection.get("edges"), list) else []
    return [e["node"] for e in edges if isinstance(e, dict) and isinstance(e.get("node"), dict)]


def local_id(node: dict, what: str) -> str:
    """The numeric id of `node`, or OrderSystemError naming what lacked one."""
    found = numeric_id(node.get("id")) if isinstance(node, dict) else None
    if found is None:
        raise OrderSystemError(f"Shopify sent {what} without a valid id")
    return found


def moment(node: dict, key: str, what: str) -> datetime:
    moment = parse_time(node.get(key))
    if moment is None:
        raise OrderSystemError(f"Shopify sent {what} without a valid {key}")
    return moment


def money(value: object, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise OrderSystemError(f"Shopify sent {what} with the price {value!r}") from None
    if not amount.is_finite():
        raise OrderSystemError(f"Shopify sent {what} with the price {value!r}")
    return amount.quantize(CENT)


def tag_list(value: object) -> list[str]:
    items = value if isinstance(value, list) else []
    return [t.strip() for t in items if isinstance(t, str) and t.strip()]


def is_final_sale(value: object) -> bool:
    return any(tag.lower() == FINAL_SALE_TAG for tag in tag_list(value))


def to_order(node: dict) -> Order:
    order_id = local_id(node, "an order")
    name = text(node.get("name")) or f"#{order_id}"
    lines = tuple(to_line_item(item) for item in nodes(node.get("lineItems")))
    shipments = (to_fulfillment(f) for f in nodes(node.get("fulfillments")))
    return Order(
        id=order_id,
        name=name,
        number=_number(name),
        email=text(node.get("email")),
        phone=_phone(node),
        customer_name=_customer_name(node),
        created_at=moment(node, "createdAt", f"order {name}"),
        financial_status=(text(node.get("displayFinancialStatus")) or "unknown").lower(),
        cancelled_at=parse_time(node.get("cancelledAt")),
        currency=text(node.get("currencyCode")) or "USD",
        shipping_address=_address(node.get("shippingAddress")),
        line_items=lines,
        fulfillments=tuple(sorted((f for f in shipments if f), key=lambda f: int(f.id))),
    )


def _number(name: str) -> int:
    """The order number in its name: "#1001" -> 1001 (stores may add a prefix or suffix)."""
    digits = re.findall(r"\d+", name)
    return int(digits[-1]) if digits else 0


def field(node: dict, key: str) -> dict:
    value = node.get(key)
    return value if isinstance(value, dict) else {}


def _phone(node: dict) -> str | None:
    """The order's number, else its customer's, else the shipping address's, in E.164."""
    customer = field(node, "customer")
    candidates = (
        node.get("phone"),
        field(customer, "defaultPhoneNumber").get("phoneNumber"),
        field(node, "shippingAddress").get("phone"),
    )
    for candidate in candidates:
        number = normalize(text(candidate))
        if number:
            return number
    return None


def _customer_name(node: dict) -> str | None:
    customer = field(node, "customer")
    parts = (text(customer.get("firstName")), text(customer.get("lastName")))
    full = " ".join(p for p in parts if p)
    return full or text(field(node, "shippingAddress").get("name"))


def _address(node: object) -> Address | None:
    if not isinstance(node, dict):
        return None
    address1, city, postcode = (text(node.get(k)) for k in ("address1", "city", "zip"))
    if not (address1 or city or postcode):
        return None
    return Address(
        name=text(node.get("name")),
        address1=address1,
        city=city,
        province_code=text(node.get("provinceCode")),
        zip=postcode,
        country_code=text(node.get("countryCodeV2")),
    )


def to_line_item(node: dict) -> LineItem:
    line_id = local_id(node, "a line item")
    price = field(field(node, "originalUnitPriceSet"), "shopMoney").get("amount")
    quantity = node.get("quantity")
    return LineItem(
        id=line_id,
        sku=text(node.get("sku")),
        title=text(node.get("title")) or "Item",
        variant_title=text(node.get("variantTitle")),
        quantity=quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else 0,
        unit_price=money(price, f"line item {line_id}"),
        final_sale=is_final_sale(field(node, "product").get("tags")),
    )


def to_fulfillment(node: dict) -> Fulfillment | None:
    """A shipment, or None for a cancelled or failed fulfillment (nothing is on its way)."""
    if text(node.get("status")) in _VOID_FULFILLMENTS:
        return None
    fulfillment_id = local_id(node, "a fulfillment")
    tracking = (nodes(node.get("trackingInfo")) or [{}])[0]
    carrier = text(tracking.get("company"))
    carrier = carrier_name(carrier) or carrier
    number = text(tracking.get("number"))
    events = _events(node.get("events"))
    shown = shipment_status(node.get("displayStatus"))
    return Fulfillment(
        id=fulfillment_id,
        status=shown or (events[-1].status if events else "confirmed"),
        carrier=carrier,
        tracking_number=number,
        tracking_url=text(tracking.get("url")) or tracking_url(carrier, number),
        created_at=moment(node, "createdAt", f"fulfillment {fulfillment_id}"),
        estimated_delivery_at=parse_time(node.get("estimatedDeliveryAt")),
        delivered_at=parse_time(node.get("deliveredAt")),
        items=_fulfilled_items(node.get("fulfillmentLineItems")),
        events=events,
    )


def _fulfilled_items(connection: object) -> tuple[FulfilledItem, ...]:
    units: Counter[str] = Counter()
    for part in nodes(connection):
        line_id = numeric_id(field(part, "lineItem").get("id"))
        quantity = part.get("quantity")
        if line_id and isinstance(quantity, int) and not isinstance(quantity, bool):
            units[line_id] += quantity
    return tuple(FulfilledItem(k, units[k]) for k in sorted(units, key=int))


def _events(connection: object) -> tuple[TrackingEvent, ...]:
    """Carrier scans oldest first (they are asked for newest first, to keep the latest)."""
    events = []
    for node in reversed(nodes(connection)):
        status, at = shipment_status(node.get("status")), parse_time(node.get("happenedAt"))
        if status is None or at is None:
            continue
        place = ", ".join(p for p in (text(node.get("city")), text(node.get("province"))) if p)
        events.append(TrackingEvent(status, at, text(node.get("message")), place or None))
    return tuple(sorted(events, key=lambda e: e.happened_at))


def to_return(node: dict, order_id: str) -> Return:
    return_id = local_id(node, "a return")
    units: Counter[str] = Counter()
    notes = []
    for part in nodes(node.get("returnLineItems")):
        line_id = numeric_id(field(field(part, "fulfillmentLineItem"), "lineItem").get("id"))
        quantity = part.get("quantity")
        if line_id and isinstance(quantity, int) and not isinstance(quantity, bool):
            units[line_id] += quantity
            note = part.get("customerNote")
            notes.append(note if isinstance(note, str) and note.strip() else None)
    return Return(
        id=return_id,
        order_id=numeric_id(field(node, "order").get("id")) or order_id,
        status=(text(node.get("status")) or "requested").lower(),
        reason=next((note for note in notes if note), None),
        lines=tuple(ReturnLine(k, units[k]) for k in sorted(units, key=int)),
        created_at=moment(node, "createdAt", f"return {return_id}"),
    )
