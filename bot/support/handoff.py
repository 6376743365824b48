"""Handing a conversation to a person: the summary an agent reads, and the inbox state."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.inbox import customer_for_phone
from bot.phone import normalize
from bot.store import Database
from bot.store.models import Conversation, Customer

SUMMARY_LIMIT = 600
DESK_TIMEOUT = 5  # seconds: the customer is waiting for the "a person will text you" reply
log = logging.getLogger(__name__)


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


def waits_for_agent(session: Session, sender_id: str) -> bool:
    """True while the sender's thread is pending: a person, not the assistant, answers."""
    status = session.scalar(
        select(Conversation.status)
        .where(Conversation.sender_id == sender_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    return status == "pending"


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


def hand_over(
    settings: Settings, db: Database, sender_id: str, reason: str, summary: str, clock: Clock
) -> None:
    """Tell the desk (its handoff endpoint) that a person should take this conversation.

    Without a desk to call (no DESK_URL or token, as in tests and `rasa shell`), or when it
    does not answer, the handoff is recorded in the inbox directly: it is never lost.
    """
    if settings.desk_url and settings.desk_api_token:
        try:
            answer = requests.post(
                f"{settings.desk_url.rstrip('/')}/api/handoff",
                json={"sender_id": sender_id, "reason": reason, "summary": summary},
                headers={"Authorization": f"Bearer {settings.desk_api_token}"},
                timeout=DESK_TIMEOUT,
            )
            if answer.status_code == 201:
                return
            log.warning("the desk refused a handoff (%s); recording it here", answer.status_code)
        except requests.RequestException as exc:
            log.warning("the desk is unreachable (%s); recording the handoff here", exc)
    with db.write() as session:
        request_handoff(session, sender_id, reason, summary, clock)
