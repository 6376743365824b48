"""Hand-built order-system dataclasses: each test states the facts it depends on."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from bot.oms.base import (
    Address,
    FulfilledItem,
    Fulfillment,
    LineItem,
    Order,
    Product,
    ReturnableItem,
    StorePolicies,
    TrackingEvent,
    Variant,
)

NOW = datetime(2026, 6, 15, 17, 0, tzinfo=timezone.utc)  # a Monday
AVA = "+12065550101"
HOME = Address("Ava Chen", "1420 Pine St Apt 5", "Seattle", "WA", "98101", "US")


def ago(days: float = 0, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


def line(
    id: str = "1",
    title: str = "Trailhead Hoodie",
    variant: str | None = "M / Navy",
    quantity: int = 1,
    price: str = "68.00",
    final_sale: bool = False,
) -> LineItem:
    return LineItem(id, f"SKU-{id}", title, variant, quantity, Decimal(price), final_sale)


def shipment(
    status: str = "in_transit",
    *items: LineItem,
    id: str = "f1",
    carrier: str | None = "UPS",
    url: str | None = "https://www.ups.com/track?tracknum=1Z",
    shipped: datetime | None = None,
    eta: datetime | None = None,
    delivered: datetime | None = None,
    last_scan: datetime | None = None,
    message: str | None = None,
    location: str | None = "Nashville, TN",
) -> Fulfillment:
    shipped = shipped or ago(days=3)
    scan = TrackingEvent(status, last_scan or ago(hours=5), message, location)
    return Fulfillment(
        id=id,
        status=status,
        carrier=carrier,
        tracking_number="1Z" if carrier else None,
        tracking_url=url,
        created_at=shipped,
        estimated_delivery_at=eta,
        delivered_at=delivered,
        items=tuple(FulfilledItem(i.id, i.quantity) for i in items),
        events=(TrackingEvent("carrier_picked_up", shipped, None, "Asheville, NC"), scan),
    )


def order(
    number: int = 1001,
    *,
    lines: tuple[LineItem, ...] | None = None,
    shipments: tuple[Fulfillment, ...] = (),
    placed: datetime | None = None,
    cancelled: datetime | None = None,
    phone: str | None = AVA,
    email: str | None = "ava@example.com",
    address: Address | None = HOME,
) -> Order:
    return Order(
        id=str(number),
        name=f"#{number}",
        number=number,
        email=email,
        phone=phone,
        customer_name="Ava Chen",
        created_at=placed or ago(days=5),
        financial_status="paid",
        cancelled_at=cancelled,
        currency="USD",
        shipping_address=address,
        line_items=lines if lines is not None else (line(),),
        fulfillments=shipments,
    )


def shipped_order(
    number: int = 1001,
    status: str = "in_transit",
    *,
    placed: datetime | None = None,
    phone: str | None = AVA,
    **shipment_fields: object,
) -> Order:
    """An order whose one line went out in one package, now in `status`."""
    item = line()
    package = shipment(status, item, **shipment_fields)
    return order(number, lines=(item,), shipments=(package,), placed=placed, phone=phone)


def returnable(item: LineItem, delivered: datetime | None, quantity: int | None = None):
    return ReturnableItem(item, quantity or item.quantity, "f1", delivered)


def variant(
    size: str | None = "M",
    color: str | None = "Navy",
    stock: int = 5,
    price: str = "68.00",
    restock: date | None = None,
) -> Variant:
    title = " / ".join(x for x in (size, color) if x)
    return Variant(f"v-{title}", f"SKU-{title}", title, size, color, Decimal(price), stock, restock)


def product(*variants: Variant, title: str = "Trailhead Hoodie", final_sale: bool = False):
    return Product("p1", "trailhead-hoodie", title, "A hoodie.", "Hoodie", final_sale, variants)


def policies(**changes: object) -> StorePolicies:
    values: dict[str, object] = {
        "return_window_days": 30,
        "returns": "Return unworn items within 30 days of delivery.",
        "final_sale": "Final-sale items can't be returned.",
        "exchanges": "We exchange unworn items within 30 days.",
        "shipping_times": "Orders ship within 1-2 business days.",
        "shipping_countries": ("United States", "Canada"),
        "payment_methods": ("Visa", "PayPal", "Apple Pay"),
        "support_hours": "Monday to Friday, 9am to 6pm Eastern.",
    }
    return StorePolicies(**(values | changes))
