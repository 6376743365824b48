"""The assistant's chat replies: written to the visitor's thread, where the widget reads them."""

from __future__ import annotations

from bot.chat.inbound import visitor_thread
from bot.clock import Clock
from bot.inbox import record_outbound
from bot.store import Database

MAX_REPLY = 8_000  # characters; a longer one is cut, never dropped


def record_reply(db: Database, sender_id: str, text: str, clock: Clock) -> int:
    """Store one assistant message; it is "delivered" once stored, as there is no outbox."""
    body = text if len(text) <= MAX_REPLY else text[: MAX_REPLY - 3] + "..."
    with db.write() as session:
        conversation = visitor_thread(session, sender_id, clock, reopen=False)
        message = record_outbound(
            session, conversation, author="assistant", body=body, status="delivered", clock=clock
        )
        return message.id
