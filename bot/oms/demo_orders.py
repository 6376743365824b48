"""data/demo/orders.yml, checked against the customers and the catalogue."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.oms.base import SHIPMENT_STATUSES
from bot.oms.demo_yaml import Node
from bot.oms.tracking import carrier_name, tracking_url

FINANCIAL_STATUSES = ("pending", "authorized", "paid", "partially_refunded", "refunded", "voided")


@dataclass(frozen=True)
class ItemData:
    sku: str
    quantity: int


@dataclass(frozen=True)
class EventData:
    status: str  # one of SHIPMENT_STATUSES
    at: datetime
    message: str | None
    location: str | None


@dataclass(frozen=True)
class ShipmentData:
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    shipped_at: datetime
    estimated_delivery_at: datetime | None
    items: tuple[ItemData, ...]
    events: tuple[EventData, ...]  # oldest first, at least one

    @property
    def status(self) -> str:
        return self.events[-1].status

    @property
    def delivered_at(self) -> datetime | None:
        return self.events[-1].at if self.status == "delivered" else None


@dataclass(frozen=True)
class OrderData:
    number: int
    email: str  # the customer's, lower case
    placed_at: datetime
    financial_status: str
    cancelled_at: datetime | None
    cancel_reason: str | None
    items: tuple[ItemData, ...]
    shipments: tuple[ShipmentData, ...]


def parse_orders(
    root: Node, now: datetime, skus: Collection[str], emails: Collection[str]
) -> tuple[OrderData, ...]:
    """Every order; SKUs and customers must exist and shipments cannot exceed what was ordered."""
    orders = []
    numbers: set[int] = set()
    for node in root.fields(("orders",))["orders"].items():
        order = _order(node, now, skus, emails)
        if order.number in numbers:
            raise node.child("number", None).fail(f"order number {order.number} appears twice")
        numbers.add(order.number)
        orders.append(order)
    return tuple(orders)


def _order(node: Node, now: datetime, skus: Collection[str], emails: Collection[str]) -> OrderData:
    optional = ("payment", "cancelled", "cancel_reason", "shipments")
    f = node.fields(("number", "customer", "placed", "items"), optional)
    email = f["customer"].text().lower()
    if email not in emails:
        raise f["customer"].fail(f"no customer in customers.yml has the email {email!r}")
    items = _items(f["items"], skus)
    cancelled_at = f["cancelled"].when(now) if "cancelled" in f else None
    payment = f.get("payment")
    shipments = _shipments(f["shipments"], now, items) if "shipments" in f else ()
    if cancelled_at is not None and shipments:
        raise f["cancelled"].fail("a cancelled order cannot have shipments")
    return OrderData(
        number=f["number"].integer(minimum=1),
        email=email,
        placed_at=f["placed"].when(now),
        financial_status=payment.choice(FINANCIAL_STATUSES, "payment") if payment else "paid",
        cancelled_at=cancelled_at,
        cancel_reason=f["cancel_reason"].text() if "cancel_reason" in f else None,
        items=items,
        shipments=shipments,
    )


def _items(node: Node, skus: Collection[str]) -> tuple[ItemData, ...]:
    items: list[ItemData] = []
    for item_node in node.items():
        f = item_node.fields(("sku",), ("quantity",))
        sku = f["sku"].text()
        if sku not in skus:
            raise f["sku"].fail(f"unknown SKU {sku!r}")
        if any(item.sku == sku for item in items):
            raise f["sku"].fail(f"SKU {sku!r} is listed twice; give it a quantity instead")
        quantity = f["quantity"].integer(minimum=1) if "quantity" in f else 1
        items.append(ItemData(sku, quantity))
    return tuple(items)


def _shipments(node: Node, now: datetime, ordered: Sequence[ItemData]) -> tuple[ShipmentData, ...]:
    remaining = {item.sku: item.quantity for item in ordered}
    shipments = []
    for shipment_node in node.items():
        shipment = _shipment(shipment_node, now, remaining)
        for item in shipment.items:
            remaining[item.sku] -= item.quantity
        shipments.append(shipment)
    return tuple(shipments)


def _shipment(node: Node, now: datetime, remaining: dict[str, int]) -> ShipmentData:
    optional = ("carrier", "tracking_number", "tracking_url", "estimated_delivery", "items")
    f = node.fields(("shipped", "events"), optional)
    carrier = f["carrier"].text() if "carrier" in f else None
    carrier = carrier_name(carrier) or carrier
    number = f["tracking_number"].text() if "tracking_number" in f else None
    url = f["tracking_url"].text() if "tracking_url" in f else tracking_url(carrier, number)
    items = _shipped_items(f["items"], remaining) if "items" in f else _all_of(remaining)
    if not items:
        raise node.fail("nothing is left to ship: every ordered unit is in an earlier shipment")
    eta = f["estimated_delivery"].when(now) if "estimated_delivery" in f else None
    return ShipmentData(carrier, number, url, f["shipped"].when(now), eta, items, _events(f, now))


def _all_of(remaining: dict[str, int]) -> tuple[ItemData, ...]:
    return tuple(ItemData(sku, left) for sku, left in remaining.items() if left > 0)


def _shipped_items(node: Node, remaining: dict[str, int]) -> tuple[ItemData, ...]:
    items = []
    left = dict(remaining)
    for item_node in node.items():
        f = item_node.fields(("sku",), ("quantity",))
        sku = f["sku"].text()
        if sku not in left:
            raise f["sku"].fail(f"SKU {sku!r} is not one of this order's items")
        quantity = f["quantity"].integer(minimum=1) if "quantity" in f else left[sku]
        if not 0 < quantity <= left[sku]:
            raise item_node.fail(f"ships {quantity} of {sku!r} but only {left[sku]} are left")
        left[sku] -= quantity
        items.append(ItemData(sku, quantity))
    return tuple(items)


def _events(f: dict[str, Node], now: datetime) -> tuple[EventData, ...]:
    events: list[EventData] = []
    for node in f["events"].items():
        e = node.fields(("status", "at"), ("message", "location"))
        status = e["status"].choice(SHIPMENT_STATUSES, "status")
        at = e["at"].when(now)
        if events and at < events[-1].at:
            raise e["at"].fail("events must be listed oldest first")
        message = e["message"].text() if "message" in e else None
        location = e["location"].text() if "location" in e else None
        events.append(EventData(status, at, message, location))
    return tuple(events)
