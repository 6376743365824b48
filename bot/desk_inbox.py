"""The agents' inbox: conversation lists, whole-customer threads, replies, notes, resolve.

Every function takes the caller's session (one transaction per request) and returns plain
data, so the JSON API and the pages show the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import Settings
from bot.consent import consent_state, history
from bot.errors import PigeonError
from bot.inbox import record_outbound
from bot.outbox import enqueue
from bot.store.models import (
    CHANNELS,
    CONVERSATION_STATUSES,
    Agent,
    Conversation,
    ConversationRead,
    Customer,
    Message,
)

NOTE_CHANNEL = "note"  # internal notes: shown to agents, never sent
MAX_REPLY = 1600  # characters: Twilio's limit for one message
REPLY_LIMITS = {"sms": MAX_REPLY, "chat": 4000, "email": 20000}
MAX_NOTE = 4000
LIST_LIMIT = 200
MAX_ID = 2**31 - 1  # ids are INTEGER columns: 32 bits on PostgreSQL; larger ones match nothing


class InboxError(PigeonError, ValueError):
    """A request the inbox cannot carry out; the message says why (a 4xx)."""


class NotFound(InboxError):
    """No such conversation (or agent)."""


@dataclass(frozen=True)
class ConversationRow:
    id: int
    status: str
    channel: str
    phone: str | None
    email: str | None
    name: str | None
    assignee: str | None  # the agent's email
    handoff_reason: str | None
    handoff_summary: str | None
    last_message_at: datetime | None
    unread: bool

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "status": self.status,
            "channel": self.channel,
            "customer": {"phone": self.phone, "email": self.email, "name": self.name},
            "assignee": self.assignee,
            "handoff_reason": self.handoff_reason,
            "last_message_at": _iso(self.last_message_at),
        }


@dataclass(frozen=True)
class MessageRow:
    id: int
    direction: str
    author: str
    agent: str | None
    body: str
    channel: str
    status: str | None
    error_code: str | None
    error_message: str | None
    media: tuple[dict, ...]
    created_at: datetime
    conversation_id: int
    subject: str | None = None  # email only
    attachments: tuple[str, ...] = ()  # email only: file names, noted and never kept

    @property
    def is_note(self) -> bool:
        return self.channel == NOTE_CHANNEL

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "direction": self.direction,
            "author": self.author,
            "body": self.body,
            "channel": self.channel,
            "status": self.status,
            "error_code": self.error_code,
            "created_at": _iso(self.created_at),
            "conversation_id": self.conversation_id,
            "subject": self.subject,
            "attachments": list(self.attachments),
        }


def check_filters(status: str | None, channel: str | None) -> None:
    if status and status not in CONVERSATION_STATUSES:
        raise InboxError(f"status must be one of {', '.join(CONVERSATION_STATUSES)}")
    if channel and channel not in CHANNELS:
        raise InboxError(f"channel must be one of {', '.join(CHANNELS)}")


def conversations(
    session: Session,
    *,
    status: str | None = None,
    channel: str | None = None,
    agent_id: int | None = None,
) -> list[ConversationRow]:
    """Newest activity first; `unread` for `agent_id` when a customer wrote since they read."""
    check_filters(status, channel)
    last_in = (
        select(Message.conversation_id, func.max(Message.id).label("last_in"))
        .where(Message.direction == "in")
        .group_by(Message.conversation_id)
        .subquery()
    )
    query = (
        select(Conversation, Customer, Agent.email, last_in.c.last_in, ConversationRead)
        .join(Customer, Conversation.customer_id == Customer.id)
        .outerjoin(Agent, Conversation.assignee_id == Agent.id)
        .outerjoin(last_in, last_in.c.conversation_id == Conversation.id)
        .outerjoin(
            ConversationRead,
            and_(
                ConversationRead.conversation_id == Conversation.id,
                ConversationRead.agent_id == (agent_id or -1),
            ),
        )
        .order_by(Conversation.last_message_at.desc().nulls_last(), Conversation.id.desc())
        .limit(LIST_LIMIT)
    )
    if status:
        query = query.where(Conversation.status == status)
    if channel:
        query = query.where(Conversation.channel == channel)
    rows = []
    for conv, customer, assignee, last, read in session.execute(query):
        unread = bool(agent_id and last and (read is None or read.last_message_id < last))
        rows.append(
            ConversationRow(
                conv.id,
                conv.status,
                conv.channel,
                customer.phone,
                customer.email,
                customer.name,
                assignee,
                conv.handoff_reason,
                conv.handoff_summary,
                conv.last_message_at,
                unread,
            )
        )
    return rows


def conversation(session: Session, conversation_id: int) -> Conversation:
    found = session.get(Conversation, conversation_id) if 0 < conversation_id <= MAX_ID else None
    if found is None:
        raise NotFound(f"no conversation {conversation_id}")
    return found


def thread(session: Session, conversation_id: int, after: int = 0) -> list[MessageRow]:
    """Every message of this conversation's customer, on every channel, oldest first."""
    conv = conversation(session, conversation_id)
    after = min(max(after, 0), MAX_ID)  # a database cannot compare an id with 2**70
    query = (
        select(Message, Agent.email)
        .join(Conversation, Message.conversation_id == Conversation.id)
        .outerjoin(Agent, Message.agent_id == Agent.id)
        .where(Conversation.customer_id == conv.customer_id, Message.id > after)
        .order_by(Message.created_at, Message.id)
    )
    return [
        MessageRow(
            m.id,
            m.direction,
            m.author,
            agent,
            m.body or "",
            m.channel,
            m.status,
            m.error_code,
            m.error_message,
            tuple(m.media or ()),
            m.created_at,
            m.conversation_id,
            *_email_details(m.email_meta),
        )
        for m, agent in session.execute(query)
    ]


def _email_details(meta: dict | None) -> tuple[str | None, tuple[str, ...]]:
    """An email's subject and the names of its attachments, from its stored metadata."""
    if not isinstance(meta, dict):
        return None, ()
    files = meta.get("attachments") or []
    names = tuple(
        str(f.get("filename") or f.get("content_type") or "attachment")
        for f in files
        if isinstance(f, dict)
    )
    subject = meta.get("subject")
    return (str(subject) if subject else None), names


def media_url(session: Session, message_id: int, index: int) -> str:
    """The provider's URL of a message's picture, for the desk to fetch on an agent's behalf."""
    message = session.get(Message, message_id) if 0 < message_id <= MAX_ID else None
    media = (message.media or []) if message else []
    if not 0 <= index < len(media) or not media[index].get("url"):
        raise NotFound(f"no picture {index} on message {message_id}")
    return str(media[index]["url"])


@dataclass(frozen=True)
class Sidebar:
    customer_id: int
    name: str | None
    phone: str | None
    email: str | None
    consent: str
    consent_history: tuple[tuple[datetime, str, str, str | None], ...]  # when, action, source
    channels: tuple[str, ...]
    threads: tuple[tuple[int, str, str], ...] = ()  # every thread: id, channel, status


def sidebar(session: Session, conversation_id: int) -> Sidebar:
    """Who the customer is and what they agreed to; orders come from the order system."""
    customer = conversation(session, conversation_id).customer
    events = history(session, customer.phone) if customer.phone else []
    threads = session.execute(
        select(Conversation.id, Conversation.channel, Conversation.status)
        .where(Conversation.customer_id == customer.id)
        .order_by(Conversation.id)
    ).all()
    channels = {channel for _, channel, _ in threads}
    return Sidebar(
        customer.id,
        customer.name,
        customer.phone,
        customer.email,
        consent_state(session, customer.phone).value if customer.phone else "unknown",
        tuple((e.recorded_at, e.action, e.source, e.detail) for e in events),
        tuple(sorted(channels)),
        tuple((i, channel, status) for i, channel, status in threads),
    )


def reply(
    session: Session,
    conversation_id: int,
    text: str,
    agent_id: int | None,
    clock: Clock,
    settings: Settings | None = None,
) -> Message:
    """An agent's reply, on the thread's own channel.

    SMS goes through the outbox (the dispatcher sends it); email through the email outbox
    (threaded on the customer's last email); chat is read by the visitor's widget.
    """
    conv = conversation(session, conversation_id)
    body = _text(text, REPLY_LIMITS.get(conv.channel, MAX_REPLY), "reply")
    if conv.channel == "sms":
        if not conv.customer.phone:
            raise InboxError("this customer has no phone number to text")
        item = enqueue(
            session,
            conv,
            body,
            "agent",
            to_phone=conv.customer.phone,
            agent_id=agent_id,
            clock=clock,
        )
        message = session.get(Message, item.message_id)
    elif conv.channel == "email":
        message = _email_reply(session, conv, body, agent_id, clock, settings)
    else:
        message = record_outbound(
            session, conv, author="agent", body=body, status="sent", agent_id=agent_id, clock=clock
        )
    if conv.status == "resolved":
        conv.status, conv.resolved_at = "open", None
    if agent_id and conv.assignee_id is None:
        conv.assignee_id = agent_id  # who answers, owns it
    return message


def _email_reply(
    session: Session,
    conv: Conversation,
    body: str,
    agent_id: int | None,
    clock: Clock,
    settings: Settings | None,
) -> Message:
    from bot.email.outbound import EmailError, queue_email

    try:
        return queue_email(
            session,
            settings or Settings(),
            conv,
            author="agent",
            body=body,
            agent_id=agent_id,
            clock=clock,
        )
    except EmailError as exc:
        raise InboxError(str(exc)) from exc


def note(
    session: Session, conversation_id: int, text: str, agent_id: int | None, clock: Clock
) -> Message:
    """An internal note: in the thread for agents, never sent."""
    body = _text(text, MAX_NOTE, "note")
    conv = conversation(session, conversation_id)
    message = record_outbound(
        session, conv, author="agent", body=body, status="note", agent_id=agent_id, clock=clock
    )
    message.channel = NOTE_CHANNEL
    return message


def assign(session: Session, conversation_id: int, agent_email: str | None) -> Conversation:
    """Give the conversation to an agent (by email), or to nobody with None."""
    conv = conversation(session, conversation_id)
    if not agent_email:
        conv.assignee_id = None
        return conv
    agent = session.execute(
        select(Agent).where(Agent.email == agent_email.strip().lower(), Agent.is_active.is_(True))
    ).scalar_one_or_none()
    if agent is None:
        raise InboxError(f"no active agent {agent_email!r}")
    conv.assignee_id = agent.id
    return conv


def resolve(session: Session, conversation_id: int, clock: Clock) -> Conversation:
    conv = conversation(session, conversation_id)
    conv.status, conv.resolved_at = "resolved", clock.now()
    return conv


def mark_read(session: Session, conversation_id: int, agent_id: int, clock: Clock) -> None:
    """The agent has seen everything in the conversation up to now."""
    last = session.scalar(
        select(func.max(Message.id)).where(Message.conversation_id == conversation_id)
    )
    if last is None:
        return
    read = session.execute(
        select(ConversationRead).where(
            ConversationRead.agent_id == agent_id,
            ConversationRead.conversation_id == conversation_id,
        )
    ).scalar_one_or_none()
    if read is None:
        read = ConversationRead(agent_id=agent_id, conversation_id=conversation_id)
        session.add(read)
    read.last_message_id, read.read_at = last, clock.now()


def _text(text: object, limit: int, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InboxError(f"the {what} is empty")
    body = text.strip()
    if len(body) > limit:
        raise InboxError(f"the {what} is {len(body)} characters; at most {limit}")
    return body


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None
