"""Delivery status from Twilio's callbacks: forward only, whatever order they arrive in."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.consent import record_opt_out
from bot.store.db import Database
from bot.store.models import Message, WebhookReceipt

# Later in a message's life ranks higher; a callback never moves a message back.
RANK = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "delivered": 6,
    "read": 7,
}
OPTED_OUT_CODE = "21610"
HELD = "twilio_status"  # webhook_receipts.source of callbacks that came before their SID


def apply_status(
    session: Session, sid: str, status: str, error_code: str | None, clock: Clock
) -> bool:
    """Move the message with this Twilio SID forward; False when unknown or stale."""
    if status not in RANK:
        return False
    message = session.execute(
        select(Message).where(Message.channel == "sms", Message.external_id == sid)
    ).scalar_one_or_none()
    if message is None:  # Twilio can call back before the dispatcher has saved the SID
        _hold(session, sid, status, error_code, clock)
        return False
    if error_code == OPTED_OUT_CODE:
        phone = message.conversation.customer.phone
        if phone:
            record_opt_out(
                session, phone, "carrier", detail="Twilio 21610 (status callback)", clock=clock
            )
    if RANK[status] <= RANK.get(message.status or "", 0):
        return False
    message.status = status
    message.updated_at = clock.now()
    if error_code:
        message.error_code = error_code
    return True


def _hold(session: Session, sid: str, status: str, error_code: str | None, clock: Clock) -> None:
    payload = json.dumps({"sid": sid, "status": status, "error_code": error_code})
    receipt = WebhookReceipt(
        source=HELD,
        external_id=f"{sid}:{status}"[:128],
        topic=status,
        payload=payload,
        received_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(receipt)
    except IntegrityError:
        pass  # the same callback again


def record_status(
    db: Database, sid: str, status: str, error_code: str | None, clock: Clock
) -> bool:
    """Apply one callback; if it had to be held, try the held ones again once committed.

    The callback and the dispatcher's "sent" can commit at the same moment, each
    missing the other. Both sides apply held callbacks after their own commit, so
    whichever commits second sees the other's row; see `apply_held`.
    """
    with db.write() as session:
        applied = apply_status(session, sid, status, error_code, clock)
    if not applied:  # held, or stale (then nothing is held)
        applied = apply_held_now(db, sid, clock) > 0
    return applied


def apply_held_now(db: Database, sid: str, clock: Clock) -> int:
    """`apply_held` in a transaction of its own, taken only when a callback is held."""
    with db.read() as session:
        held = session.execute(_held(sid).limit(1)).first()
    if held is None:
        return 0
    with db.write() as session:
        return apply_held(session, sid, clock)


def _held(sid: str):
    return select(WebhookReceipt).where(
        WebhookReceipt.source == HELD,
        WebhookReceipt.external_id.startswith(f"{sid}:"),
        WebhookReceipt.processed_at.is_(None),
    )


def apply_held(session: Session, sid: str, clock: Clock) -> int:
    """Apply callbacks that arrived before `sid` was recorded; returns how many.

    Call it in a transaction of its own, after the one that recorded the SID or
    held a callback committed. The message row is locked first, so two callers
    never apply the same held callback twice.
    """
    message = session.execute(
        select(Message.id)
        .where(Message.channel == "sms", Message.external_id == sid)
        .with_for_update()
    ).first()
    if message is None:
        return 0
    held = session.execute(_held(sid)).scalars()
    count = 0
    for receipt in held:
        data = json.loads(receipt.payload)
        apply_status(session, sid, data["status"], data["error_code"], clock)
        receipt.status, receipt.processed_at = "processed", clock.now()
        count += 1
    return count
