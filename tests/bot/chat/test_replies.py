"""The assistant's chat replies land in the visitor's thread, delivered (there is no outbox)."""

from __future__ import annotations

from sqlalchemy import select

from bot.chat.inbound import ChatText, store
from bot.chat.replies import MAX_REPLY, record_reply
from bot.clock import FixedClock
from bot.store import Database
from bot.store.models import Conversation, Message, OutboxItem
from bot.support.wording import with_choices

ANN = "chat-" + "a" * 32


def test_a_reply_is_a_delivered_assistant_message_in_the_visitors_thread(
    db: Database, clock: FixedClock
) -> None:
    stored = store(db, ChatText(ANN, "m-0001-abcd", "hi"), clock)
    message_id = record_reply(db, ANN, "Hello! How can I help?", clock)
    with db.read() as session:
        message = session.get(Message, message_id)
        assert message.conversation_id == stored.conversation_id
        assert (message.direction, message.author, message.channel, message.status) == (
            "out",
            "assistant",
            "chat",
            "delivered",
        )
        assert message.body == "Hello! How can I help?"
        assert session.scalars(select(OutboxItem)).all() == []


def test_a_reply_does_not_reopen_a_resolved_thread(db: Database, clock: FixedClock) -> None:
    stored = store(db, ChatText(ANN, "m-0001-abcd", "hi"), clock)
    with db.write() as session:
        session.get(Conversation, stored.conversation_id).status = "resolved"
    record_reply(db, ANN, "late words", clock)
    with db.read() as session:
        assert session.get(Conversation, stored.conversation_id).status == "resolved"


def test_a_very_long_reply_is_cut_not_dropped(db: Database, clock: FixedClock) -> None:
    message_id = record_reply(db, ANN, "x" * (MAX_REPLY + 10), clock)
    with db.read() as session:
        body = session.get(Message, message_id).body
    assert len(body) == MAX_REPLY
    assert body.endswith("...")


def test_buttons_become_choices_to_type() -> None:
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": " No "}, {"payload": "/x"}]
    assert with_choices("Cancel #1003?", buttons) == "Cancel #1003? (Reply: Yes; No)"
    assert with_choices("Plain", []) == "Plain"
