"""Handing a conversation to a person: the summary an agent reads, and the inbox state."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock, SystemClock
from bot.inbox import customer_for_phone
from bot.phone import normalize
from bot.store.models import Conversation, Customer

SUMMARY_LIMIT = 600


def summarize(
    reason: str,
    customer_lines: Sequence[str],
    order_ref: str | None = None,
    detail: str | None = None,
) -> str:
    """One paragraph an agent can read at a glance: why, which order, what was said.

    The detail (a new address) comes before the quotes, so a long message cannot cut it off.
    """
    parts = [f"Reason: {reason}."]
    if order_ref:
        parts.append(f"Order: {order_ref}.")
    if detail and detail.strip():
        parts.append(f"{detail.strip().rstrip('.')}.")
    said = [line.strip() for line in customer_lines if line and line.strip()]
    if said:
        quoted = " / ".join(f'"{line}"' for line in said[-4:])
        parts.append(f"Customer said: {quoted}")
    summary = " ".join(parts)
    return summary if len(summary) <= SUMMARY_LIMIT else summary[: SUMMARY_LIMIT - 3] + "..."


def thread_for_sender(session: Session, sender_id: str, clock: Clock) -> Conversation:
    """The inbox thread behind an assistant conversation, created if the inbox lacks it."""
    query = (
        select(Conversation)
        .where(Conversation.sender_id == sender_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    conversation = session.execute(query).scalar_one_or_none()
    if conversation is not None:
        return conversation
    phone = normalize(sender_id) if sender_id.startswith("+") else None
    customer = customer_for_phone(session, phone) if phone else Customer(name=sender_id)
    session.add(customer)
    session.flush()
    conversation = Conversation(
        customer_id=customer.id,
        channel="sms" if phone else "chat",
        sender_id=sender_id,
        status="open",
        created_at=clock.now(),
    )
    session.add(conversation)
    session.flush()
    return conversation


def request_handoff(
    session: Session, sender_id: str, reason: str, summary: str, clock: Clock | None = None
) -> Conversation:
    """Mark the thread pending for an agent, with the reason and summary they will see."""
    clock = clock or SystemClock()
    conversation = thread_for_sender(session, sender_id, clock)
    conversation.status = "pending"
    conversation.handoff_reason = reason
    conversation.handoff_summary = summary
    conversation.resolved_at = None
    conversation.updated_at = clock.now()
    return conversation
