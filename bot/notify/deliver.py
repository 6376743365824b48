"""A shipping alert's text into the outbox: once per notification, whoever composes it.

The assistant composes alerts (the SMS output channel calls `queue_alert`); when it
cannot (its conversation is paused for an agent) the desk composes the same response
itself. Either way the notification row is locked and linked to its message in the same
transaction, so a retried trigger never queues a second text.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot.clock import Clock
from bot.inbox import customer_for_phone, thread_for
from bot.outbox import enqueue
from bot.phone import mask, normalize
from bot.store import Database
from bot.store.models import Notification, OutboxItem

log = logging.getLogger(__name__)

SENDABLE = ("queued", "sending")


def queue_alert(
    db: Database, notification_id: int, phone: str, body: str, clock: Clock, *, hint: bool
) -> OutboxItem | None:
    """Queue the alert's text as a proactive SMS; None when it was already queued or dropped."""
    number = normalize(phone)
    with db.write() as session:
        note = session.execute(
            select(Notification).where(Notification.id == notification_id).with_for_update()
        ).scalar_one_or_none()
        if note is None or note.message_id is not None or note.status not in SENDABLE:
            return None
        if number is None or note.phone != number:  # never another customer's order news
            log.warning("alert %s is not for %s: dropped", notification_id, mask(number))
            return None
        customer = customer_for_phone(session, number)
        conversation = thread_for(session, customer, "sms", clock, reopen=False)
        item = enqueue(session, conversation, body, "proactive", to_phone=number, clock=clock)
        note.message_id, note.status, note.opt_out_hint = item.message_id, "sent", hint
        note.last_error, note.updated_at = None, clock.now()
        return item
