"""The assistant's turns on stored emails: one reply per email, and what is left after a restart.

A turn's reply and the email's "handled" mark are written in one transaction: a crash
between them would otherwise answer the email again when it is replayed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select

from bot.clock import Clock
from bot.config import Settings
from bot.customers import mask_email
from bot.email.inbound import Turn, for_assistant
from bot.email.outbound import queue_email
from bot.store import Database
from bot.store.models import Conversation, Message

log = logging.getLogger(__name__)

# An autoresponder that sets none of the usual headers would answer every answer: after
# this many assistant emails to one thread in an hour, the next email waits for a person.
MAX_REPLIES_PER_HOUR = 6


def with_choices(text: str, titles: Sequence[str]) -> str:
    """Buttons do not exist in email: their titles become a list to answer with."""
    choices = [f"- {t}" for t in titles if t]
    return "\n".join([text, "", "You can reply with one of:", *choices]) if choices else text


def finish_turn(
    db: Database,
    settings: Settings,
    clock: Clock,
    turn: Turn,
    texts: Sequence[str],
    error: str | None = None,
) -> Message | None:
    """Queue the turn's one reply (none when the assistant said nothing) and mark the email.

    With `error` the email is marked failed, visibly, and nothing is sent.
    """
    body = "\n\n".join(t.strip() for t in texts if t and t.strip())
    with db.write() as session:
        message = session.get(Message, turn.message_id)
        reply = None
        if body and error is None and _replied_lately(session, turn, clock) >= MAX_REPLIES_PER_HOUR:
            log.warning(
                "email from %s not answered: %d automatic replies in the last hour",
                mask_email(turn.sender_id),
                MAX_REPLIES_PER_HOUR,
            )
            message.status = "held"
            message.error_message = "not answered: too many automatic replies in an hour (a loop?)"
            return None
        if body and error is None:
            conversation = session.get(Conversation, turn.conversation_id)
            reply = queue_email(
                session,
                settings,
                conversation,
                author="assistant",
                body=body,
                clock=clock,
                reply_to=turn.message_id,
            )
        message.status = "failed" if error else "handled"
        message.error_message = error
        return reply


def _replied_lately(session, turn: Turn, clock: Clock) -> int:
    """Assistant emails to this thread in the last hour."""
    return session.execute(
        select(func.count()).where(
            Message.conversation_id == turn.conversation_id,
            Message.channel == "email",
            Message.author == "assistant",
            Message.created_at > clock.now() - timedelta(hours=1),
        )
    ).scalar_one()


def queue_unprompted(
    db: Database, settings: Settings, clock: Clock, sender_id: str, text: str
) -> Message | None:
    """An email the assistant sends outside a turn (Rasa's trigger_intent), to `sender_id`'s
    email thread; None when there is no such thread."""
    with db.write() as session:
        conversation = session.execute(
            select(Conversation)
            .where(Conversation.channel == "email", Conversation.sender_id == sender_id)
            .order_by(Conversation.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if conversation is None or not text.strip():
            log.warning("no email thread for %s: message dropped", mask_email(sender_id))
            return None
        return queue_email(
            session, settings, conversation, author="assistant", body=text, clock=clock
        )


def mark_failed(db: Database, message_id: int, error: str) -> None:
    """The turn could not finish (the reply could not be queued): say so on the email."""
    with db.write() as session:
        message = session.get(Message, message_id)
        message.status, message.error_message = "failed", error


def is_unanswered(db: Database, message_id: int) -> bool:
    """True while a stored email still waits for the assistant."""
    with db.read() as session:
        status = session.execute(
            select(Message.status).where(Message.id == message_id)
        ).scalar_one_or_none()
    return status == "received"


def unanswered(db: Database, clock: Clock, window: timedelta) -> list[Turn]:
    """Emails stored in the last `window` that the assistant never finished (a restart)."""
    since = clock.now() - window
    with db.read() as session:
        rows = session.execute(
            select(Message, Conversation)
            .join(Conversation, Message.conversation_id == Conversation.id)
            .where(
                Message.channel == "email",
                Message.direction == "in",
                Message.status == "received",
                Message.created_at > since,
            )
            .order_by(Message.id)
        ).all()
    turns = []
    for message, conversation in rows:
        meta = message.email_meta or {}
        text = for_assistant(message.body, meta.get("subject") or "")
        if conversation.sender_id and text:
            email_id = meta.get("message_id") or ""
            turns.append(Turn(message.id, conversation.id, conversation.sender_id, text, email_id))
    return turns
