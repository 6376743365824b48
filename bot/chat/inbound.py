"""A visitor's message as the widget posts it: checked, then stored before it is acknowledged."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.inbox import Stored
from bot.store import Database
from bot.store.models import Conversation, Customer, Message

CHANNEL = "chat"
VISITOR_NAME = "Web visitor"
MAX_BODY = 16_384  # bytes of JSON
MAX_TEXT = 4_000  # characters
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Control characters but tab and newline: PostgreSQL refuses NUL, and none is meant.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class BadChat(ValueError):
    """Not a message we can store (400); the text says what is wrong."""

    status = 400


class TooLarge(BadChat):
    """Over the size limit (413)."""

    status = 413


@dataclass(frozen=True)
class ChatText:
    sender_id: str  # chat-<hex>, from the visitor's token
    client_id: str  # the widget's id for this message: a retry sends the same one
    text: str

    @property
    def external_id(self) -> str:
        """Unique per visitor and message: a retry is a duplicate, another visitor's id is not."""
        return hashlib.sha256(f"{self.sender_id}:{self.client_id}".encode()).hexdigest()


def parse(body: bytes, sender_id: str) -> ChatText:
    """Read `{"text", "id"}`; raise BadChat (or TooLarge) naming what is wrong."""
    if len(body) > MAX_BODY:
        raise TooLarge(f"the request is over {MAX_BODY} bytes")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deep
        raise BadChat("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise BadChat('the body must be a JSON object: {"text": ..., "id": ...}')
    said, client_id = payload.get("text"), payload.get("id")
    if not isinstance(said, str):
        raise BadChat("text must be a string")
    said = _CONTROLS.sub("", said).strip()
    if not _is_utf8(said):
        raise BadChat("text is not valid Unicode (a lone surrogate escape)")
    if not said:
        raise BadChat("text is empty")
    if len(said) > MAX_TEXT:
        raise TooLarge(f"text is {len(said)} characters; at most {MAX_TEXT}")
    if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
        raise BadChat("id must be 8 to 64 letters, digits, '-' or '_'")
    return ChatText(sender_id, client_id, said)


def _is_utf8(said: str) -> bool:
    """False for text with a lone surrogate ("\\ud800" in JSON): no database can store it."""
    try:
        said.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def store(db: Database, chat: ChatText, clock: Clock) -> Stored:
    """Store the message in the visitor's thread (created on their first), in one transaction.

    A message whose id was stored before is a duplicate: the first one's id comes back.
    """
    with db.write() as session:
        _lock_sender(session, chat.sender_id)
        earlier = _stored_id(session, chat.external_id)
        conversation = visitor_thread(session, chat.sender_id, clock, reopen=earlier is None)
        if earlier is not None:
            return Stored(earlier, conversation.id, conversation.customer_id, duplicate=True)
        now = clock.now()
        message = Message(
            conversation_id=conversation.id,
            direction="in",
            author="customer",
            channel=CHANNEL,
            body=chat.text,
            external_id=chat.external_id,
            status="received",
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(message)
        except IntegrityError:  # stored by another process between the check and now
            earlier = _stored_id(session, chat.external_id)
            return Stored(earlier, conversation.id, conversation.customer_id, duplicate=True)
        conversation.last_message_at = now
        return Stored(message.id, conversation.id, conversation.customer_id)


def visitor_thread(
    session: Session, sender_id: str, clock: Clock, *, reopen: bool = True
) -> Conversation:
    """The visitor's chat thread; an anonymous customer and the thread on their first message.

    The thread may since have joined a known customer (bot.customers): it is found by its
    sender id, whoever it belongs to. A visitor's new message reopens a resolved thread.
    """
    conversation = session.execute(
        select(Conversation)
        .where(Conversation.sender_id == sender_id, Conversation.channel == CHANNEL)
        .order_by(Conversation.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if conversation is None:
        customer = Customer(name=VISITOR_NAME, created_at=clock.now())
        session.add(customer)
        session.flush()
        conversation = Conversation(
            customer_id=customer.id,
            channel=CHANNEL,
            sender_id=sender_id,
            status="open",
            created_at=clock.now(),
        )
        session.add(conversation)
        session.flush()
    elif reopen and conversation.status == "resolved":
        conversation.status, conversation.resolved_at = "open", None
    return conversation


@dataclass(frozen=True)
class Pending:
    """A stored message the assistant has not answered yet (replayed after a restart)."""

    message_id: int
    sender_id: str
    external_id: str
    text: str


def unanswered(db: Database, since: datetime) -> list[Pending]:
    """Visitors' messages stored since `since` and still waiting, oldest first."""
    with db.read() as session:
        rows = session.execute(
            select(Message.id, Conversation.sender_id, Message.external_id, Message.body)
            .join(Conversation, Message.conversation_id == Conversation.id)
            .where(
                Message.channel == CHANNEL,
                Message.direction == "in",
                Message.status == "received",
                Message.created_at > since,
                Conversation.sender_id.is_not(None),
            )
            .order_by(Message.id)
        ).all()
    return [Pending(m_id, sender, ext or "", body or "") for m_id, sender, ext, body in rows]


def _stored_id(session: Session, external_id: str) -> int | None:
    return session.scalar(
        select(Message.id).where(Message.channel == CHANNEL, Message.external_id == external_id)
    )


def _lock_sender(session: Session, sender_id: str) -> None:
    """On PostgreSQL, one transaction per visitor at a time, so a first message makes one
    thread however many arrive at once (SQLite writers are one at a time already)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(sender_id.encode()).digest()[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
