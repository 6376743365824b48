"""When a shipment's news earns a text: plain rules, the clock passed in.

Shopify delivers webhooks at least once and in no particular order, and tells the same
news on several topics. So every event is placed on the shipment's lifecycle: news that
is older, or earlier in the lifecycle, than what is already known changes nothing; a
fulfillment gets at most one text of each kind, ever; and a text still waiting when a
text of later news is queued is superseded by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import SendingWindow
from bot.consent import ConsentState
from bot.sms.quiet_hours import next_allowed

SHIPPED = "shipped"
OUT_FOR_DELIVERY = "out_for_delivery"
DELIVERED = "delivered"
EXCEPTION = "exception"

# Where each carrier status sits in a package's life. Equal stages can follow each other
# either way (a delay while in transit, a failed attempt on the delivery day).
STAGES: dict[str | None, int] = {
    None: 0,  # a fulfillment with tracking but no carrier scan yet
    "label_printed": 0,
    "label_purchased": 0,
    "confirmed": 1,
    "carrier_picked_up": 2,
    "in_transit": 2,
    "delayed": 2,
    "out_for_delivery": 3,
    "attempted_delivery": 3,
    "ready_for_pickup": 4,
    "failure": 4,
    "delivered": 5,
}
KINDS: dict[str | None, str] = {
    None: SHIPPED,
    "label_printed": SHIPPED,
    "label_purchased": SHIPPED,
    "confirmed": SHIPPED,
    "carrier_picked_up": SHIPPED,
    "in_transit": SHIPPED,
    "out_for_delivery": OUT_FOR_DELIVERY,
    "delivered": DELIVERED,
    "attempted_delivery": EXCEPTION,
    "delayed": EXCEPTION,
    "failure": EXCEPTION,
    "ready_for_pickup": EXCEPTION,
}
# News this old is not worth a text any more ("out for delivery" the next morning is wrong).
MAX_AGE = {OUT_FOR_DELIVERY: timedelta(hours=12)}
DEFAULT_MAX_AGE = timedelta(hours=48)


def stage(status: str | None) -> int:
    return STAGES.get(status, 0)


def kind_for(status: str | None) -> str:
    """The kind of text a carrier status calls for."""
    return KINDS.get(status, SHIPPED)


@dataclass(frozen=True)
class Known:
    """The latest news already recorded for a fulfillment."""

    status: str | None
    event_at: datetime


def is_stale(status: str | None, happened_at: datetime, known: Known | None) -> bool:
    """Older than the latest news, or earlier in the lifecycle (in transit after delivered)."""
    if known is None:
        return False
    return happened_at < known.event_at or stage(status) < stage(known.status)


def supersedes(later_kind: str, later_event_at: datetime, kind: str, event_at: datetime) -> bool:
    """True when a text of newer news (queued or sent) makes a waiting one out of date."""
    return later_event_at > event_at and later_kind != kind


def is_expired(kind: str, event_at: datetime, now: datetime) -> bool:
    return now - event_at > MAX_AGE.get(kind, DEFAULT_MAX_AGE)


@dataclass(frozen=True)
class Decision:
    """What to do with a new notification: queue it (maybe for later) or record why not."""

    status: str  # queued or suppressed
    due_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Recipient:
    phone: str
    consent: ConsentState
    time_zone: str | None
    region: str | None  # state or province code, for the 8 pm states


def decide(
    kind: str,
    event_at: datetime,
    recipient: Recipient,
    now: datetime,
    window: SendingWindow | None,
) -> Decision:
    """Consent first, then freshness, then quiet hours in the recipient's local time."""
    if recipient.consent is ConsentState.OPTED_OUT:
        return Decision("suppressed", reason="the number opted out")
    if recipient.consent is not ConsentState.OPTED_IN:
        return Decision("suppressed", reason="no consent to shipping texts on record")
    if is_expired(kind, event_at, now):
        return Decision("suppressed", reason="news too old to text")
    opening = next_allowed(now, window, recipient.time_zone, recipient.region, recipient.phone)
    if opening is None:
        return Decision("queued", due_at=now)
    return Decision("queued", due_at=opening, reason="quiet hours: waiting for the window")
