"""Carrier news for the demo store, as Shopify records it before sending its webhook.

`python -m bot simulate-shipment` plays Shopify for the demo: it records the scan here,
so the assistant's answers agree with the alert, then sends the signed webhook.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.clock import Clock
from bot.oms.base import SHIPMENT_STATUSES, OrderSystemError
from bot.oms.ids import parse_id
from bot.oms.tracking import tracking_url
from bot.store import Database
from bot.store.demo_tables import (
    DemoFulfillment,
    DemoFulfillmentItem,
    DemoOrder,
    DemoTrackingEvent,
)

DEMO_CARRIER = "UPS"


def record_scan(
    db: Database,
    number: str | int,
    status: str,
    clock: Clock,
    *,
    message: str | None = None,
    location: str | None = None,
) -> tuple[str, str]:
    """Add a carrier scan to the order's latest shipment (shipping it first if needed).

    Returns the order id and the fulfillment id the webhook will name.
    """
    if status not in SHIPMENT_STATUSES:
        raise OrderSystemError(f"unknown shipment status {status!r}: one of {SHIPMENT_STATUSES}")
    order_id = parse_id(number, allow_hash=True)
    now = clock.now()
    with db.write() as session:
        order = session.scalars(
            select(DemoOrder)
            .where(DemoOrder.id == order_id)
            .options(selectinload(DemoOrder.fulfillments), selectinload(DemoOrder.line_items))
        ).first()
        if order is None:
            raise OrderSystemError(f"the demo store has no order {number}")
        if order.cancelled_at is not None:
            raise OrderSystemError(f"order {order.name} is cancelled: it will not ship")
        fulfillment = order.fulfillments[-1] if order.fulfillments else _ship(session, order, now)
        session.add(
            DemoTrackingEvent(
                fulfillment_id=fulfillment.id,
                status=status,
                happened_at=now,
                message=message,
                location=location,
            )
        )
        fulfillment.shipment_status = status
        if status == "delivered":
            fulfillment.delivered_at = now
        return str(order.id), str(fulfillment.id)


def _ship(session, order: DemoOrder, now) -> DemoFulfillment:
    """A first package with every item, as a merchant's "fulfill" button makes it."""
    number = f"1ZPSC{order.id:010d}"
    fulfillment = DemoFulfillment(
        order_id=order.id,
        shipment_status="confirmed",
        carrier=DEMO_CARRIER,
        tracking_number=number,
        tracking_url=tracking_url(DEMO_CARRIER, number),
        created_at=now,
    )
    fulfillment.items = [
        DemoFulfillmentItem(line_item_id=line.id, quantity=line.quantity)
        for line in order.line_items
    ]
    session.add(fulfillment)
    session.flush()
    return fulfillment
