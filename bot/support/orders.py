"""Order status in plain words: which order to talk about, and what to say about it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.oms.base import EXCEPTION_STATUSES, Fulfillment, Order
from bot.support.wording import day, on_day, plural

PACKED = frozenset({"label_printed", "label_purchased", "confirmed"})
MOVING = frozenset({"carrier_picked_up", "in_transit"})


def is_open(order: Order) -> bool:
    """Not cancelled and not yet entirely delivered."""
    if order.is_cancelled:
        return False
    if order.fulfillment_status != "fulfilled":
        return True
    return any(f.status != "delivered" for f in order.fulfillments)


def pick_order(orders: Sequence[Order]) -> tuple[Order | None, int]:
    """The order to report on, and how many other open orders there are.

    The most recent open order; with none open, the most recent order.
    """
    newest_first = sorted(orders, key=lambda o: o.created_at, reverse=True)
    open_orders = [o for o in newest_first if is_open(o)]
    if open_orders:
        return open_orders[0], len(open_orders) - 1
    return (newest_first[0] if newest_first else None), 0


def latest_fulfillment(order: Order) -> Fulfillment | None:
    """The shipment whose news is freshest."""
    if not order.fulfillments:
        return None
    return max(order.fulfillments, key=_last_news)


def _last_news(f: Fulfillment) -> datetime:
    return f.events[-1].happened_at if f.events else f.created_at


def status_phrase(order: Order, now: datetime, tz: str | None = None) -> str:
    """'is on its way with UPS, arriving Thu, Jun 17' and the like, without personal data."""
    if order.is_cancelled:
        return f"was cancelled {_on(order.cancelled_at, now, tz)}"
    shipment = latest_fulfillment(order)
    if shipment is None:
        return "hasn't shipped yet. We'll text you the tracking link when it does"
    phrase = shipment_phrase(shipment, now, tz)
    if order.fulfillment_status == "partial":
        phrase += ". The rest of the order hasn't shipped yet"
    return phrase


def shipment_phrase(f: Fulfillment, now: datetime, tz: str | None = None) -> str:
    carrier = f.carrier or "the carrier"
    status = f.status
    if status == "delivered":
        return f"was delivered {_on(f.delivered_at or _last_news(f), now, tz)}"
    if status == "out_for_delivery":
        return f"is out for delivery with {carrier} today"
    if status == "ready_for_pickup":
        where = _last_location(f)
        return f"is ready for pickup{f' at {where}' if where else ''} ({carrier})"
    if status in EXCEPTION_STATUSES:
        return _exception_phrase(f, carrier)
    lead = "is packed and waiting for" if status in PACKED else "is on its way with"
    return f"{lead} {carrier}{_eta(f, now, tz)}"


def _exception_phrase(f: Fulfillment, carrier: str) -> str:
    words = {
        "attempted_delivery": f"{carrier} tried to deliver it but couldn't",
        "delayed": f"is delayed with {carrier}",
        "failure": f"couldn't be delivered by {carrier}",
    }[f.status]
    message = (f.events[-1].message or "").strip().rstrip(".") if f.events else ""
    return f"{words} ({message})" if message else words


def _eta(f: Fulfillment, now: datetime, tz: str | None) -> str:
    if f.estimated_delivery_at is None or f.estimated_delivery_at < now:
        return ""
    return f", arriving {day(f.estimated_delivery_at, now, tz)}"


def _on(when: datetime | None, now: datetime, tz: str | None) -> str:
    return on_day(when, now, tz) if when else ""


def _last_location(f: Fulfillment) -> str | None:
    return next((e.location for e in reversed(f.events) if e.location), None)


def status_reply(order: Order, others_open: int, now: datetime, tz: str | None = None) -> str:
    """The whole status text: order, status, tracking link, and a word about other orders."""
    text = f"Order {order.name} {status_phrase(order, now, tz)}."
    shipment = latest_fulfillment(order)
    if shipment and shipment.tracking_url and shipment.status != "delivered":
        text += f" Track it: {shipment.tracking_url}"
    if others_open:
        text += (
            f" You have {plural(others_open, 'other open order')}; text its number for an update."
        )
    return text


def pick_shipped(orders: Sequence[Order]) -> tuple[Order | None, int]:
    """For a delivery problem: the order a package went out for, else the usual choice."""
    shipped = [o for o in orders if o.fulfillments and not o.is_cancelled]
    return pick_order(shipped or orders)


def cancel_refusal(order: Order) -> str | None:
    """Why the order cannot be cancelled, or None when it can."""
    if order.is_cancelled:
        return f"Order {order.name} is already cancelled."
    if order.fulfillment_status != "unfulfilled":
        return (
            f"Order {order.name} has already shipped, so it can't be cancelled. "
            "Once it arrives you can return it within the return window."
        )
    return None


def pick_cancellable(orders: Sequence[Order]) -> tuple[Order | None, int]:
    """For cancelling or re-addressing: the newest order not yet shipped, if any."""
    waiting = [o for o in orders if not o.is_cancelled and o.fulfillment_status == "unfulfilled"]
    return pick_order(waiting or orders)
