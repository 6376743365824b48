"""Due shipping alerts, re-checked and handed to the assistant to say.

A notification waits in its table until it is due. When it is, consent, supersession,
freshness and quiet hours are checked again (all may have changed overnight), and the
assistant is asked to tell the customer through Rasa's trigger_intent. If Rasa is down
the alert waits and is tried again; nothing is lost, and nothing is queued twice
(see bot.notify.deliver).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import SendingWindow
from bot.consent import ConsentState, consent_state
from bot.notify import policy
from bot.notify.wording import Alert
from bot.phone import mask
from bot.sms.quiet_hours import next_allowed
from bot.store import Database
from bot.store.models import Customer, Notification

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # a claim older than this was interrupted: try again
HINT_EVERY = timedelta(days=30)  # "Reply STOP to opt out" on the first text, then monthly
MAX_BACKOFF = 300.0


@dataclass(frozen=True)
class Claimed:
    """A due notification this worker now owns."""

    id: int
    phone: str
    alert: Alert
    attempts: int


def claim_due(db: Database, clock: Clock, window: SendingWindow | None) -> Claimed | None:
    """The next due alert that still should go now, marked sending; None when none is."""
    now = clock.now()
    with db.write() as session:
        while True:
            note = session.execute(
                select(Notification)
                .where(Notification.status == "queued", Notification.due_at <= now)
                .order_by(Notification.due_at, Notification.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).scalar_one_or_none()
            if note is None:
                return None
            if _still_due(session, note, now, window):
                note.status, note.claimed_at, note.attempts = "sending", now, note.attempts + 1
                return Claimed(note.id, note.phone, _alert(session, note, now), note.attempts)


def anything_due(db: Database, clock: Clock) -> bool:
    with db.read() as session:
        row = session.execute(
            select(Notification.id)
            .where(Notification.status == "queued", Notification.due_at <= clock.now())
            .limit(1)
        ).first()
    return row is not None


def _still_due(
    session: Session, note: Notification, now: datetime, window: SendingWindow | None
) -> bool:
    """Check again at send time; a note that should not go now is updated to say why."""
    state = consent_state(session, note.phone)
    if state is not ConsentState.OPTED_IN:
        why = "the number opted out" if state is ConsentState.OPTED_OUT else "no consent"
        return _close(note, "suppressed", why, now)
    later = _latest_other(session, note)
    if later and policy.supersedes(later.kind, later.event_at, note.kind, note.event_at):
        return _close(note, "superseded", f"superseded by {later.kind}", now)
    if policy.is_expired(note.kind, note.event_at, now):
        return _close(note, "expired", "news too old to text by the time it could go", now)
    customer = session.get(Customer, note.customer_id)
    opening = next_allowed(now, window, customer.time_zone, customer.region, note.phone)
    if opening is not None:
        note.due_at, note.reason, note.updated_at = opening, "quiet hours: waiting", now
        return False
    return True


def _latest_other(session: Session, note: Notification) -> Notification | None:
    """The fulfillment's newest other text that is going or has gone out."""
    return session.execute(
        select(Notification)
        .where(
            Notification.fulfillment_id == note.fulfillment_id,
            Notification.id != note.id,
            Notification.status.in_(("queued", "sending", "sent")),
        )
        .order_by(Notification.event_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _close(note: Notification, status: str, reason: str, now: datetime) -> bool:
    note.status, note.reason, note.updated_at = status, reason, now
    log.info("alert %s %s: %s", note.id, status, reason)
    return False


def _alert(session: Session, note: Notification, now: datetime) -> Alert:
    details = note.details or {}
    eta = details.get("eta")
    customer = session.get(Customer, note.customer_id)
    return Alert(
        order_name=note.order_name or f"#{note.order_id}",
        kind=note.kind,
        status=details.get("status"),
        carrier=details.get("carrier"),
        tracking_url=details.get("tracking_url"),
        eta=datetime.fromisoformat(eta) if eta else None,
        happened_at=note.event_at,
        location=details.get("location"),
        message=details.get("message"),
        opt_out_hint=_needs_hint(session, note.phone, now),
        time_zone=customer.time_zone if customer else None,
    )


def _needs_hint(session: Session, phone: str, now: datetime) -> bool:
    """True unless a text to this number ended with the opt-out line in the last 30 days."""
    recent = session.execute(
        select(Notification.id)
        .where(
            Notification.phone == phone,
            Notification.status == "sent",
            Notification.opt_out_hint.is_(True),
            Notification.updated_at >= now - HINT_EVERY,
        )
        .limit(1)
    ).first()
    return recent is None


def retry_later(db: Database, claim: Claimed, error: str, clock: Clock) -> datetime:
    """The assistant could not take it: queue it again after a backoff with jitter."""
    ceiling = min(MAX_BACKOFF, 2.0**claim.attempts)
    due = clock.now() + timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311
    with db.write() as session:
        session.execute(
            update(Notification)
            .where(Notification.id == claim.id, Notification.status == "sending")
            .values(status="queued", due_at=due, last_error=error[:500], updated_at=clock.now())
        )
    log.warning(
        "alert %s to %s not handed over (%s); again at %s",
        claim.id,
        mask(claim.phone),
        error[:120],
        due.isoformat(timespec="seconds"),
    )
    return due


def recover_interrupted(db: Database, clock: Clock) -> int:
    """Alerts left 'sending' by a crash go back to the queue (queueing twice is prevented)."""
    cutoff = clock.now() - LEASE
    with db.write() as session:
        result = session.execute(
            update(Notification)
            .where(Notification.status == "sending", Notification.claimed_at < cutoff)
            .values(status="queued", due_at=clock.now(), reason="interrupted: tried again")
        )
    return result.rowcount or 0


def status_of(db: Database, notification_id: int) -> tuple[str, int | None]:
    with db.read() as session:
        note = session.get(Notification, notification_id)
        return note.status, note.message_id
