"""What a visitor may read: their own chat thread's messages, never notes or anyone else's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.chat.inbound import CHANNEL
from bot.store import Database
from bot.store.models import Agent, Conversation, Message

PAGE = 50  # messages per answer; the widget asks again after the last one it got
AGENT_FALLBACK_NAME = "Support"
VISIBLE_AUTHORS = ("customer", "assistant", "agent")


@dataclass(frozen=True)
class VisitorMessage:
    id: int
    author: str  # customer (the visitor), assistant or agent
    name: str | None  # the agent's display name; None for the visitor and the assistant
    text: str
    created_at: datetime
    failed: bool  # the visitor's message the assistant could not answer

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "author": self.author,
            "name": self.name,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
            "failed": self.failed,
        }


def visible(
    db: Database, sender_id: str, after: int = 0, limit: int = PAGE
) -> list[VisitorMessage]:
    """The visitor's chat messages after message `after`, oldest first, at most `limit`.

    Only threads with the visitor's own sender id: once the thread joins a known customer,
    the visitor still sees the chat alone, never the customer's texts or emails. Notes
    (channel "note", status "note") and system messages are for agents only.
    """
    query = (
        select(Message, Agent.name)
        .join(Conversation, Message.conversation_id == Conversation.id)
        .outerjoin(Agent, Message.agent_id == Agent.id)
        .where(
            Conversation.sender_id == sender_id,
            Conversation.channel == CHANNEL,
            Message.channel == CHANNEL,
            Message.author.in_(VISIBLE_AUTHORS),
            Message.status.is_distinct_from("note"),
            Message.id > after,
        )
        .order_by(Message.id)
        .limit(max(1, min(limit, PAGE)))
    )
    with db.read() as session:
        rows = session.execute(query).all()
    return [_shown(message, agent_name) for message, agent_name in rows]


def _shown(message: Message, agent_name: str | None) -> VisitorMessage:
    name = None
    if message.author == "agent":
        name = (agent_name or "").strip() or AGENT_FALLBACK_NAME
    return VisitorMessage(
        message.id,
        message.author,
        name,
        message.body or "",
        message.created_at,
        message.author == "customer" and message.status == "failed",
    )
