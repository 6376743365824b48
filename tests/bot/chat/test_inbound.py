"""A visitor's message: parsed strictly, stored once in the visitor's own thread."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.chat.inbound import (
    MAX_TEXT,
    VISITOR_NAME,
    BadChat,
    ChatText,
    TooLarge,
    parse,
    store,
    unanswered,
)
from bot.clock import FixedClock
from bot.store import Database
from bot.store.models import Conversation, Customer, Message

ANN = "chat-" + "a" * 32
BOB = "chat-" + "b" * 32


def _body(**payload: object) -> bytes:
    return json.dumps(payload).encode()


def _count(db: Database, model: type) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


# --- parsing ---


def test_a_message_is_its_text_and_the_widgets_id() -> None:
    chat = parse(_body(text="  where is my order?\n", id="m-0001-abcd"), ANN)
    assert chat == ChatText(ANN, "m-0001-abcd", "where is my order?")


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b'["hi"]', "JSON object"),
        (_body(id="m-0001-abcd"), "text must be a string"),
        (_body(text=7, id="m-0001-abcd"), "text must be a string"),
        (_body(text="  \n ", id="m-0001-abcd"), "text is empty"),
        (_body(text="\x00\x07", id="m-0001-abcd"), "text is empty"),
        (_body(text="hi"), "id must be"),
        (_body(text="hi", id="short"), "id must be"),
        (_body(text="hi", id="has space 123"), "id must be"),
        (_body(text="hi", id="x" * 65), "id must be"),
        (_body(text="hi", id=12345678), "id must be"),
    ],
)
def test_a_malformed_message_is_refused_with_the_reason(body: bytes, why: str) -> None:
    with pytest.raises(BadChat, match=why) as refused:
        parse(body, ANN)
    assert refused.value.status == 400


def test_control_characters_are_dropped_but_newlines_kept() -> None:
    chat = parse(_body(text="line one\x00\nline\ttwo\x1b", id="m-0001-abcd"), ANN)
    assert chat.text == "line one\nline\ttwo"


def test_text_over_the_limit_is_413() -> None:
    assert parse(_body(text="x" * MAX_TEXT, id="m-0001-abcd"), ANN).text == "x" * MAX_TEXT
    with pytest.raises(TooLarge) as refused:
        parse(_body(text="x" * (MAX_TEXT + 1), id="m-0001-abcd"), ANN)
    assert refused.value.status == 413
    with pytest.raises(TooLarge):
        parse(b" " * 20_000, ANN)


def test_the_external_id_belongs_to_the_visitor_and_the_message() -> None:
    ann, bob = ChatText(ANN, "m-0001-abcd", "hi"), ChatText(BOB, "m-0001-abcd", "hi")
    assert ann.external_id != bob.external_id
    assert ann.external_id == ChatText(ANN, "m-0001-abcd", "other text").external_id
    assert len(ann.external_id) == 64
    assert "m-0001" not in ann.external_id
    assert ANN not in ann.external_id


# --- storing ---


def test_the_first_message_makes_an_anonymous_visitor_and_a_chat_thread(
    db: Database, clock: FixedClock
) -> None:
    stored = store(db, ChatText(ANN, "m-0001-abcd", "hello"), clock)
    assert not stored.duplicate
    with db.read() as session:
        message = session.get(Message, stored.message_id)
        conversation = session.get(Conversation, stored.conversation_id)
        customer = session.get(Customer, stored.customer_id)
        assert (message.direction, message.author, message.channel) == ("in", "customer", "chat")
        assert (message.body, message.status) == ("hello", "received")
        assert message.external_id == ChatText(ANN, "m-0001-abcd", "").external_id
        assert (conversation.channel, conversation.sender_id) == ("chat", ANN)
        assert (conversation.status, conversation.last_message_at) == ("open", clock.now())
        assert (customer.name, customer.phone, customer.email) == (VISITOR_NAME, None, None)


def test_later_messages_join_the_same_thread(db: Database, clock: FixedClock) -> None:
    first = store(db, ChatText(ANN, "m-0001-abcd", "hello"), clock)
    second = store(db, ChatText(ANN, "m-0002-abcd", "anyone?"), clock)
    assert second.conversation_id == first.conversation_id
    assert second.message_id > first.message_id
    assert (_count(db, Conversation), _count(db, Customer)) == (1, 1)


def test_a_repeated_id_is_stored_once_and_gives_the_first_id(
    db: Database, clock: FixedClock
) -> None:
    first = store(db, ChatText(ANN, "m-0001-abcd", "hello"), clock)
    again = store(db, ChatText(ANN, "m-0001-abcd", "hello"), clock)
    assert again.duplicate
    assert again.message_id == first.message_id
    assert _count(db, Message) == 1


def test_one_visitor_cannot_take_another_visitors_message_id(
    db: Database, clock: FixedClock
) -> None:
    ann = store(db, ChatText(ANN, "m-0001-abcd", "from ann"), clock)
    bob = store(db, ChatText(BOB, "m-0001-abcd", "from bob"), clock)
    assert not bob.duplicate
    assert bob.conversation_id != ann.conversation_id
    assert _count(db, Message) == 2


def test_a_new_message_reopens_a_resolved_thread_but_a_retry_does_not(
    db: Database, clock: FixedClock
) -> None:
    first = store(db, ChatText(ANN, "m-0001-abcd", "hello"), clock)
    with db.write() as session:
        session.get(Conversation, first.conversation_id).status = "resolved"
    store(db, ChatText(ANN, "m-0001-abcd", "hello"), clock)
    with db.read() as session:
        assert session.get(Conversation, first.conversation_id).status == "resolved"
    store(db, ChatText(ANN, "m-0002-abcd", "one more thing"), clock)
    with db.read() as session:
        conversation = session.get(Conversation, first.conversation_id)
        assert (conversation.status, conversation.resolved_at) == ("open", None)


def test_a_thread_that_joined_a_known_customer_keeps_taking_the_visitors_messages(
    db: Database, clock: FixedClock
) -> None:
    first = store(db, ChatText(ANN, "m-0001-abcd", "order 1001, ava@example.com"), clock)
    with db.write() as session:  # what bot.customers does on verification
        ava = Customer(name="Ava Chen", phone="+12065550101", email="ava@example.com")
        session.add(ava)
        session.flush()
        session.get(Conversation, first.conversation_id).customer_id = ava.id
        ava_id = ava.id
    later = store(db, ChatText(ANN, "m-0002-abcd", "thanks"), clock)
    assert (later.conversation_id, later.customer_id) == (first.conversation_id, ava_id)


def test_first_messages_arriving_at_once_make_one_thread(db: Database, clock: FixedClock) -> None:
    texts = [ChatText(ANN, f"m-{n:04d}-abcd", f"text {n}") for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        stored = list(pool.map(lambda chat: store(db, chat, clock), texts))
    assert len({s.conversation_id for s in stored}) == 1
    assert (_count(db, Conversation), _count(db, Customer), _count(db, Message)) == (1, 1, 8)


def test_unanswered_lists_waiting_messages_of_the_last_day_oldest_first(
    db: Database, clock: FixedClock
) -> None:
    old = store(
        db, ChatText(ANN, "m-0001-abcd", "old"), FixedClock(clock.now() - timedelta(days=2))
    )
    waiting = [
        store(db, ChatText(ANN, "m-0002-abcd", "ann waits"), clock),
        store(db, ChatText(BOB, "m-0003-abcd", "bob waits"), clock),
    ]
    answered = store(db, ChatText(BOB, "m-0004-abcd", "answered"), clock)
    with db.write() as session:
        session.get(Message, answered.message_id).status = "handled"
    found = unanswered(db, clock.now() - timedelta(hours=24))
    assert [(p.message_id, p.sender_id, p.text) for p in found] == [
        (waiting[0].message_id, ANN, "ann waits"),
        (waiting[1].message_id, BOB, "bob waits"),
    ]
    assert found[0].external_id == ChatText(ANN, "m-0002-abcd", "").external_id
    assert old.message_id not in {p.message_id for p in found}
