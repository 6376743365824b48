"""Delivery problems: what went wrong, and whether a person must take it from here."""

from __future__ import annotations

import re
from datetime import datetime

from bot.oms.base import EXCEPTION_STATUSES, Order
from bot.support.orders import latest_fulfillment, status_phrase
from bot.support.wording import on_day

# Order matters: the first kind whose pattern matches the customer's words wins. Patterns
# match from the start of a word, so "student" is not "dent" and "chocolate" is not "late".
KINDS: tuple[tuple[str, str], ...] = (
    ("damaged", r"damag|broke|crush|torn|rip+ed|smash|wet|dent|defect|stain"),
    (
        "wrong_item",
        r"wrong|incorrect|not what i (?:ordered|bought)|different (?:size|colou?r|item)",
    ),
    ("missing_item", r"missing|only (?:got|received|came with)|incomplete|not all\b"),
    (
        "not_received",
        r"never (?:got|received|came|arrived)"
        r"|(?:didn'?t|did not|havent|haven'?t|not) (?:get|got|receive|recieve)"
        r"|not (?:here|there|received)|stolen|(?:says|marked|shows)(?: as)? delivered",
    ),
    (
        "late",
        r"late|delay|still (?:not|hasn'?t|waiting)|taking (?:so|too) long|where|stuck"
        r"|not moving|hasn'?t (?:moved|arrived|come)",
    ),
)
NEEDS_PERSON = frozenset({"damaged", "wrong_item", "missing_item", "not_received"})
LABELS = {
    "damaged": "arrived damaged",
    "wrong_item": "wrong item received",
    "missing_item": "item missing from the package",
    "not_received": "marked delivered but not received",
    "late": "late delivery",
    "other": "delivery problem",
}


def problem_kind(text: str | None) -> str:
    """damaged, wrong_item, missing_item, not_received, late or other."""
    lowered = (text or "").lower()
    for kind, pattern in KINDS:
        if re.search(rf"\b(?:{pattern})", lowered):
            return kind
    return "other"


def needs_person(kind: str, order: Order) -> bool:
    """Anything beyond a late parcel, or a carrier exception, goes to the team."""
    shipment = latest_fulfillment(order)
    return kind in NEEDS_PERSON or bool(shipment and shipment.status in EXCEPTION_STATUSES)


def tracking_reply(order: Order, now: datetime, tz: str | None = None) -> str:
    """The latest tracking news for the order, in one or two sentences."""
    text = f"Order {order.name} {status_phrase(order, now, tz)}."
    shipment = latest_fulfillment(order)
    if shipment and shipment.events:
        scan = shipment.events[-1]
        where = f" in {scan.location}" if scan.location else ""
        text += f" Last scan{where} {on_day(scan.happened_at, now, tz)}."
    if shipment and shipment.tracking_url:
        text += f" Track it: {shipment.tracking_url}"
    return text
