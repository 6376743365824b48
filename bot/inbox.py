"""Conversations and their messages: what the inbox shows, stored before anything answers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock, SystemClock
from bot.phone import time_zone_for
from bot.store.models import Conversation, Customer, Message


@dataclass(frozen=True)
class Stored:
    """Where an inbound message landed; `duplicate` when its provider id was seen before."""

    message_id: int | None
    conversation_id: int
    customer_id: int
    duplicate: bool = False


def customer_for_phone(session: Session, phone: str) -> Customer:
    """The customer texting from `phone`, created on first contact.

    The row is locked (on PostgreSQL) until the transaction ends, so two messages from
    one number arriving at once cannot create two threads.
    """
    query = select(Customer).where(Customer.phone == phone).with_for_update()
    customer = session.execute(query).scalar_one_or_none()
    if customer is not None:
        return customer
    try:
        with session.begin_nested():
            session.add(Customer(phone=phone, time_zone=time_zone_for(phone)))
    except IntegrityError:
        pass  # another transaction created it first
    return session.execute(query).scalar_one()


def thread_for(
    session: Session, customer: Customer, channel: str, clock: Clock, *, reopen: bool = True
) -> Conversation:
    """The customer's one thread on `channel`; a customer's new text reopens a resolved one."""
    conversation = session.execute(
        select(Conversation)
        .where(Conversation.customer_id == customer.id, Conversation.channel == channel)
        .order_by(Conversation.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if conversation is None:
        conversation = Conversation(
            customer_id=customer.id,
            channel=channel,
            sender_id=customer.phone if channel == "sms" else None,
            status="open",
            created_at=clock.now(),
        )
        session.add(conversation)
        session.flush()
    elif reopen and conversation.status == "resolved":
        conversation.status = "open"
        conversation.resolved_at = None
    return conversation


def record_inbound(
    session: Session,
    *,
    phone: str,
    channel: str,
    body: str,
    external_id: str | None = None,
    media: list[dict[str, str]] | None = None,
    clock: Clock | None = None,
) -> Stored:
    """Store a customer's message; a repeated provider id is refused by the database."""
    clock = clock or SystemClock()
    customer = customer_for_phone(session, phone)
    conversation = thread_for(session, customer, channel, clock)
    now = clock.now()
    message = Message(
        conversation_id=conversation.id,
        direction="in",
        author="customer",
        channel=channel,
        body=body,
        media=media or None,
        external_id=external_id,
        status="received",
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return Stored(None, conversation.id, customer.id, duplicate=True)
    conversation.last_message_at = now
    return Stored(message.id, conversation.id, customer.id)


def record_outbound(
    session: Session,
    conversation: Conversation,
    *,
    author: str,
    body: str,
    status: str = "queued",
    agent_id: int | None = None,
    clock: Clock | None = None,
) -> Message:
    """Add a message the store sends (assistant, agent or system) to a thread."""
    now = (clock or SystemClock()).now()
    message = Message(
        conversation_id=conversation.id,
        direction="out",
        author=author,
        agent_id=agent_id,
        channel=conversation.channel,
        body=body,
        status=status,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    conversation.last_message_at = now
    session.flush()
    return message
