"""Queueing an email in a thread: the store's reply, threaded on the customer's last email.

The message and its outbox row are written in the caller's transaction; the desk's
EmailSender sends the row later (bot.email.sender), so nothing here waits on SMTP.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import Settings
from bot.customers import normalize_email
from bot.email.compose import (
    Quote,
    new_message_id,
    render_html,
    render_text,
    reply_subject,
    thread_ids,
)
from bot.errors import PigeonError
from bot.inbox import record_outbound
from bot.store.models import Conversation, Customer, EmailOutboxItem, Message

AUTO_SUBMITTED = "auto-replied"  # on the assistant's emails (RFC 3834): autoresponders skip them


class EmailError(PigeonError, ValueError):
    """An email that cannot be queued; the message says why, in words fit for an agent."""


class NoEmailAddress(EmailError):
    """The conversation's customer has no email address to write to."""


def external_id(message_id: str) -> str:
    """How an email's Message-ID is kept in messages.external_id (it fits 64 characters)."""
    return hashlib.sha256(message_id.encode()).hexdigest()


def queue_email(
    session: Session,
    settings: Settings,
    conversation: Conversation,
    *,
    author: str,
    body: str,
    agent_id: int | None = None,
    clock: Clock,
    reply_to: int | None = None,
) -> Message:
    """Queue `body` by email to the thread's customer; returns the new Message ("queued").

    It threads on the customer's email `reply_to` (a message id), else on their latest
    email in the conversation. Raises EmailError: NoEmailAddress when there is no address
    to write to, EmailError itself for an empty body.
    """
    if not body.strip():
        raise EmailError("an email needs some text")
    to = recipient(session, conversation)
    parent = _parent(session, conversation, reply_to)
    meta = (parent.email_meta or {}) if parent is not None else {}
    subject = reply_subject(meta.get("subject"), f"Your message to {settings.store_name}")
    own_id = new_message_id(settings.email_sender)
    in_reply_to, references = thread_ids(meta)
    quote = _quote(session, parent, to)
    message = record_outbound(
        session, conversation, author=author, body=body, agent_id=agent_id, clock=clock
    )
    message.channel = "email"
    message.external_id = external_id(own_id)
    message.email_meta = {
        "message_id": own_id,
        "subject": subject,
        "in_reply_to": in_reply_to,
        "references": references,
        "attachments": [],
    }
    now = clock.now()
    session.add(
        EmailOutboxItem(
            message_id=message.id,
            to_address=to,
            subject=subject,
            body_text=render_text(settings, body, quote),
            body_html=render_html(settings, body, quote),
            headers=_headers(own_id, in_reply_to, references, author),
            status="queued",
            due_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()
    return message


def _headers(
    own_id: str, in_reply_to: str | None, references: list[str], author: str
) -> dict[str, str]:
    """The headers kept with the outbox row; From, To, Subject and Date are added at send."""
    headers = {"Message-ID": own_id}
    if in_reply_to:
        headers |= {"In-Reply-To": in_reply_to, "References": " ".join(references)}
    if author == "assistant":
        headers["Auto-Submitted"] = AUTO_SUBMITTED
    return headers


def recipient(session: Session, conversation: Conversation) -> str:
    """Where the thread's emails go: the address it was written from, else the customer's."""
    if conversation.channel == "email":
        address = normalize_email(conversation.sender_id)
        if address:
            return address
    customer = session.get(Customer, conversation.customer_id)
    address = normalize_email(customer.email if customer else None)
    if address is None:
        raise NoEmailAddress(
            f"conversation {conversation.id}: the customer has no email address to write to"
        )
    return address


def _parent(session: Session, conversation: Conversation, reply_to: int | None) -> Message | None:
    query = select(Message).where(
        Message.conversation_id == conversation.id,
        Message.channel == "email",
        Message.direction == "in",
    )
    if reply_to is not None:
        query = query.where(Message.id == reply_to)
    return session.execute(query.order_by(Message.id.desc()).limit(1)).scalar_one_or_none()


def _quote(session: Session, parent: Message | None, address: str) -> Quote | None:
    if parent is None or not parent.body.strip():
        return None
    conversation = session.get(Conversation, parent.conversation_id)
    customer = session.get(Customer, conversation.customer_id)
    author = f"{customer.name} <{address}>" if customer and customer.name else address
    return Quote(author, parent.created_at, parent.body)
