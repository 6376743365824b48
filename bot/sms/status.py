"""Delivery status from Twilio's callbacks: forward only, whatever order they arrive in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.consent import record_opt_out
from bot.store.models import Message

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


def apply_status(
    session: Session, sid: str, status: str, error_code: str | None, clock: Clock
) -> bool:
    """Move the message with this Twilio SID forward; False when unknown or stale."""
    message = session.execute(
        select(Message).where(Message.channel == "sms", Message.external_id == sid)
    ).scalar_one_or_none()
    if message is None or status not in RANK:
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
