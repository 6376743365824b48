"""Shopify's news, recorded: the shipment's state, the texts it earns, and checkout consent.

Runs in one transaction per webhook. The shipment row is locked first, so two desks
handling two events of one fulfillment take turns, and the unique (fulfillment, kind)
constraint is the last word on duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import SendingWindow
from bot.consent import OPT_IN, consent_state, record_opt_in, record_opt_out
from bot.inbox import customer_for_phone
from bot.notify import policy
from bot.notify.events import CheckoutConsent, ShipmentUpdate, ShopifyEvent
from bot.oms.base import Fulfillment, Order
from bot.regions import region_code, zone_for_region
from bot.store.models import ConsentEvent, Customer, Notification, Shipment

WAITING = ("queued",)


@dataclass(frozen=True)
class Outcome:
    """What one shipment update led to, for the receipt's record and the logs."""

    fulfillment_id: str
    result: str  # queued, suppressed, stale, duplicate, skipped
    kind: str | None = None
    reason: str | None = None

    def __str__(self) -> str:
        text = f"{self.fulfillment_id}: {self.result}"
        if self.kind:
            text += f" {self.kind}"
        return f"{text} ({self.reason})" if self.reason else text


def record_event(
    session: Session,
    event: ShopifyEvent,
    order: Order | None,
    window: SendingWindow | None,
    clock: Clock,
) -> list[Outcome]:
    """Apply one webhook's news; returns what became of each shipment update."""
    for consent in event.consents:
        record_checkout_consent(session, consent, clock)
    for phone in event.revocations:
        record_checkout_revocation(session, phone, clock)
    if event.cancelled_at is not None and event.order_id:
        supersede_order(session, event.order_id, "the order was cancelled", clock)
    updates = sorted(event.updates, key=lambda u: u.happened_at)
    return [_record_update(session, u, order, window, clock) for u in updates]


def _record_update(
    session: Session,
    update_: ShipmentUpdate,
    order: Order | None,
    window: SendingWindow | None,
    clock: Clock,
) -> Outcome:
    fid = update_.fulfillment_id
    known = _lock_shipment(session, update_)
    if known is not None and policy.is_stale(update_.status, update_.happened_at, known):
        return Outcome(fid, "stale", reason=f"{update_.status or 'created'} after {known.status}")
    _move_shipment(session, update_, clock)
    kind = policy.kind_for(update_.status)
    if _recorded(session, fid, kind):
        return Outcome(fid, "duplicate", kind)
    if order is None or order.is_cancelled:
        why = "the order is cancelled" if order else "the order system does not know the order"
        return Outcome(fid, "skipped", kind, why)
    if not order.phone:
        return Outcome(fid, "skipped", kind, "the order has no phone number")
    return _add_notification(session, update_, kind, order, window, clock)


def needs_order(session: Session, event: ShopifyEvent) -> bool:
    """Whether any of the event's updates could still earn a notification.

    Most webhooks repeat news already recorded (Shopify tells it on three topics, and
    retries), and those need nothing from the order system. The answer can only go from
    True to False as news accumulates, so a False read here still holds when applied.
    """
    known: dict[str, policy.Known | None] = {}
    for update_ in sorted(event.updates, key=lambda u: u.happened_at):
        fid = update_.fulfillment_id
        if fid not in known:
            row = session.get(Shipment, fid)
            known[fid] = policy.Known(row.status, row.event_at) if row else None
        if policy.is_stale(update_.status, update_.happened_at, known[fid]):
            continue
        known[fid] = policy.Known(update_.status, update_.happened_at)
        if not _recorded(session, fid, policy.kind_for(update_.status)):
            return True
    return False


def _recorded(session: Session, fulfillment_id: str, kind: str) -> bool:
    """A fulfillment gets one notification of each kind, ever: is this one taken?"""
    exists = select(Notification.id).where(
        Notification.fulfillment_id == fulfillment_id, Notification.kind == kind
    )
    return session.execute(exists).first() is not None


def _lock_shipment(session: Session, update_: ShipmentUpdate) -> policy.Known | None:
    """The shipment's latest news, its row locked; a first event creates the row."""
    query = (
        select(Shipment).where(Shipment.fulfillment_id == update_.fulfillment_id).with_for_update()
    )
    row = session.execute(query).scalar_one_or_none()
    if row is not None:
        return policy.Known(row.status, row.event_at)
    try:
        with session.begin_nested():
            session.add(
                Shipment(
                    fulfillment_id=update_.fulfillment_id,
                    order_id=update_.order_id,
                    status=update_.status,
                    stage=policy.stage(update_.status),
                    event_at=update_.happened_at,
                )
            )
    except IntegrityError:  # another desk recorded this fulfillment first
        row = session.execute(query).scalar_one()
        return policy.Known(row.status, row.event_at)
    return None


def _move_shipment(session: Session, update_: ShipmentUpdate, clock: Clock) -> None:
    session.execute(
        update(Shipment)
        .where(Shipment.fulfillment_id == update_.fulfillment_id)
        .values(
            status=update_.status,
            stage=policy.stage(update_.status),
            event_at=update_.happened_at,
            updated_at=clock.now(),
        )
    )


def _supersede_older(session: Session, newer: Notification, clock: Clock) -> None:
    """Waiting texts of older news are out of date: "shipped", once out for delivery."""
    session.execute(
        update(Notification)
        .where(
            Notification.fulfillment_id == newer.fulfillment_id,
            Notification.id != newer.id,
            Notification.event_at < newer.event_at,
            Notification.status.in_(WAITING),
        )
        .values(status="superseded", reason=f"superseded by {newer.kind}", updated_at=clock.now())
    )


def supersede_order(session: Session, order_id: str, reason: str, clock: Clock) -> int:
    """Nothing waiting for this order goes out (it was cancelled)."""
    result = session.execute(
        update(Notification)
        .where(Notification.order_id == order_id, Notification.status.in_(WAITING))
        .values(status="superseded", reason=reason, updated_at=clock.now())
    )
    return result.rowcount or 0


def _add_notification(
    session: Session,
    update_: ShipmentUpdate,
    kind: str,
    order: Order,
    window: SendingWindow | None,
    clock: Clock,
) -> Outcome:
    fid = update_.fulfillment_id
    customer = _recipient(session, order)
    recipient = policy.Recipient(
        customer.phone, consent_state(session, customer.phone), customer.time_zone, customer.region
    )
    decision = policy.decide(kind, update_.happened_at, recipient, clock.now(), window)
    row = Notification(
        customer_id=customer.id,
        phone=customer.phone,
        order_id=order.id,
        order_name=order.name,
        fulfillment_id=fid,
        kind=kind,
        event_at=update_.happened_at,
        status=decision.status,
        reason=decision.reason,
        details=details(update_, order),
        due_at=decision.due_at,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # the same news on another topic, handled at the same moment
        return Outcome(fid, "duplicate", kind)
    if row.status == "queued":  # it takes over from any older text still waiting
        _supersede_older(session, row, clock)
    return Outcome(fid, decision.status, kind, decision.reason)


def _recipient(session: Session, order: Order) -> Customer:
    """The customer at the order's number, placed by its shipping address when there is one."""
    customer = customer_for_phone(session, order.phone)
    address = order.shipping_address
    region = region_code(address.province_code) if address else None
    zone = zone_for_region(region)
    if region and customer.region != region:
        customer.region = region
    if zone and customer.time_zone != zone:
        customer.time_zone = zone
    if order.customer_name and not customer.name:
        customer.name = order.customer_name
    if order.email and not customer.email:
        customer.email = order.email
    return customer


def details(update_: ShipmentUpdate, order: Order) -> dict[str, str | None]:
    """What the text will say, from the event and else from the order system's fulfillment."""
    shipment = _fulfillment(order, update_.fulfillment_id)
    eta = update_.estimated_delivery_at or (shipment.estimated_delivery_at if shipment else None)
    return {
        "status": update_.status,
        "carrier": update_.carrier or (shipment.carrier if shipment else None),
        "tracking_number": update_.tracking_number
        or (shipment.tracking_number if shipment else None),
        "tracking_url": update_.tracking_url or (shipment.tracking_url if shipment else None),
        "eta": eta.isoformat() if eta else None,
        "location": update_.location,
        "message": update_.message,
    }


def _fulfillment(order: Order, fulfillment_id: str) -> Fulfillment | None:
    return next((f for f in order.fulfillments if f.id == fulfillment_id), None)


# --- consent Shopify collected at checkout ---------------------------------------------


def record_checkout_consent(session: Session, consent: CheckoutConsent, clock: Clock) -> bool:
    """Record the SMS box ticked at checkout, unless the ledger already has newer word."""
    latest = _latest(session, consent.phone)
    if latest is not None and latest.action == OPT_IN:
        return False
    if latest is not None and (
        consent.consented_at is None or consent.consented_at <= latest.recorded_at
    ):
        return False  # an opt-out after (or without a date against) this consent stands
    evidence = f"Shopify checkout: {consent.opt_in_level or 'opt-in'}"
    if consent.collected_from:
        evidence += f", collected from {consent.collected_from}"
    if consent.consented_at:
        evidence += f", at {consent.consented_at.isoformat()}"
    record_opt_in(
        session,
        consent.phone,
        "checkout",
        disclosure="SMS consent box at the store's checkout (Shopify sms_marketing_consent)",
        detail=evidence,
        clock=clock,
    )
    return True


def record_checkout_revocation(session: Session, phone: str, clock: Clock) -> bool:
    """Shopify says the customer unsubscribed: revoke a consent that came from checkout."""
    latest = _latest(session, phone)
    if latest is None or latest.action != OPT_IN or latest.source != "checkout":
        return False
    record_opt_out(
        session, phone, "checkout", detail="Shopify: SMS consent unsubscribed", clock=clock
    )
    return True


def _latest(session: Session, phone: str) -> ConsentEvent | None:
    query = (
        select(ConsentEvent)
        .where(ConsentEvent.phone == phone)
        .order_by(ConsentEvent.id.desc())
        .limit(1)
    )
    return session.execute(query).scalar_one_or_none()
