"""The durable outbox: every text the store sends is queued here first, then dispatched."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.clock import Clock, SystemClock
from bot.inbox import record_outbound
from bot.store.models import Conversation, Message, OutboxItem

# Lower goes first. Twilio queues a sender's texts in order, so a live customer's reply
# must not wait behind a burst of shipping alerts.
PRIORITY = {"compliance": 0, "reply": 1, "agent": 2, "proactive": 3}
AUTHOR = {"compliance": "system", "reply": "assistant", "agent": "agent", "proactive": "assistant"}


def enqueue(
    session: Session,
    conversation: Conversation,
    body: str,
    purpose: str,
    *,
    to_phone: str,
    media_urls: list[str] | None = None,
    due_at: datetime | None = None,
    agent_id: int | None = None,
    clock: Clock | None = None,
) -> OutboxItem:
    """Queue a text in the thread and the outbox, in the caller's transaction."""
    if purpose not in PRIORITY:
        raise ValueError(f"unknown outbox purpose {purpose!r}")
    clock = clock or SystemClock()
    message = record_outbound(
        session, conversation, author=AUTHOR[purpose], body=body, agent_id=agent_id, clock=clock
    )
    if media_urls:
        message.media = [{"url": url} for url in media_urls]
    now = clock.now()
    item = OutboxItem(
        message_id=message.id,
        to_phone=to_phone,
        body=body,
        media_urls=media_urls or None,
        purpose=purpose,
        priority=PRIORITY[purpose],
        status="queued",
        due_at=due_at or now,
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    session.flush()
    return item


def cancel_queued(
    session: Session, phone: str, reason: str, *, keep_compliance: bool = True
) -> int:
    """Cancel texts still waiting for `phone` (after an opt-out); returns how many."""
    query = select(OutboxItem).where(OutboxItem.to_phone == phone, OutboxItem.status == "queued")
    if keep_compliance:
        query = query.where(OutboxItem.purpose != "compliance")
    items = list(session.execute(query).scalars())
    for item in items:
        item.status, item.last_error = "cancelled", reason
    if items:
        session.execute(
            update(Message)
            .where(Message.id.in_([i.message_id for i in items]))
            .values(status="cancelled", error_message=reason)
        )
    return len(items)
