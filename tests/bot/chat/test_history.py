"""What a visitor reads: their own chat, with agents' names, never notes or another thread."""

from __future__ import annotations

from datetime import timedelta

from bot.agents import create_agent
from bot.chat.history import PAGE, visible
from bot.chat.inbound import ChatText, store
from bot.chat.replies import record_reply
from bot.clock import FixedClock
from bot.inbox import record_inbound, record_outbound
from bot.store import Database
from bot.store.models import Agent, Conversation, Message

ANN = "chat-" + "a" * 32
BOB = "chat-" + "b" * 32


def _agent(db: Database, clock: FixedClock, email: str, name: str | None) -> int:
    with db.write() as session:
        create_agent(session, email, "correct horse battery staple", clock, name=name)
        return session.query(Agent).filter_by(email=email).one().id


def _agent_says(db: Database, clock: FixedClock, sender: str, text: str, agent_id: int) -> int:
    """An agent's reply on a chat thread, as the inbox records it."""
    with db.write() as session:
        conv = session.query(Conversation).filter_by(sender_id=sender).one()
        return record_outbound(
            session, conv, author="agent", body=text, status="sent", agent_id=agent_id, clock=clock
        ).id


def _note(db: Database, clock: FixedClock, sender: str, text: str, agent_id: int) -> None:
    """An internal note, as bot.desk_inbox.note records it."""
    with db.write() as session:
        conv = session.query(Conversation).filter_by(sender_id=sender).one()
        message = record_outbound(
            session, conv, author="agent", body=text, status="note", agent_id=agent_id, clock=clock
        )
        message.channel = "note"


def _shown(db: Database, sender: str, after: int = 0) -> list[tuple[str, str | None, str]]:
    return [(m.author, m.name, m.text) for m in visible(db, sender, after)]


def test_the_visitor_reads_their_messages_the_assistants_and_the_agents(
    db: Database, clock: FixedClock
) -> None:
    sam = _agent(db, clock, "sam@example.com", "Sam Rivera")
    store(db, ChatText(ANN, "m-0001-abcd", "I want to talk to a person"), clock)
    record_reply(db, ANN, "A person will answer here shortly.", clock)
    _agent_says(db, clock, ANN, "Hi, Sam here. How can I help?", sam)
    assert _shown(db, ANN) == [
        ("customer", None, "I want to talk to a person"),
        ("assistant", None, "A person will answer here shortly."),
        ("agent", "Sam Rivera", "Hi, Sam here. How can I help?"),
    ]
    [first, *_] = visible(db, ANN)
    assert first.as_json() == {
        "id": first.id,
        "author": "customer",
        "name": None,
        "text": "I want to talk to a person",
        "created_at": clock.now().isoformat(),
        "failed": False,
    }


def test_an_agent_without_a_name_is_support_and_the_email_never_shows(
    db: Database, clock: FixedClock
) -> None:
    nameless = _agent(db, clock, "nameless@example.com", None)
    store(db, ChatText(ANN, "m-0001-abcd", "hello"), clock)
    _agent_says(db, clock, ANN, "Hello from the team", nameless)
    [_, reply] = visible(db, ANN)
    assert (reply.author, reply.name) == ("agent", "Support")
    assert "nameless@example.com" not in str(reply.as_json())


def test_notes_are_never_shown_to_the_visitor(db: Database, clock: FixedClock) -> None:
    sam = _agent(db, clock, "sam@example.com", "Sam Rivera")
    store(db, ChatText(ANN, "m-0001-abcd", "hello"), clock)
    _note(db, clock, ANN, "internal: this visitor seems upset", sam)
    with db.write() as session:  # a note whose channel was left as the thread's
        conv = session.query(Conversation).filter_by(sender_id=ANN).one()
        record_outbound(session, conv, author="agent", body="status note", status="note")
        record_outbound(session, conv, author="system", body="system line", status="sent")
    assert _shown(db, ANN) == [("customer", None, "hello")]


def test_two_visitors_never_see_each_others_messages(db: Database, clock: FixedClock) -> None:
    store(db, ChatText(ANN, "m-0001-abcd", "ann's secret order 1001"), clock)
    record_reply(db, ANN, "for ann only", clock)
    store(db, ChatText(BOB, "m-0001-abcd", "bob here"), clock)
    assert _shown(db, ANN) == [
        ("customer", None, "ann's secret order 1001"),
        ("assistant", None, "for ann only"),
    ]
    assert _shown(db, BOB) == [("customer", None, "bob here")]
    assert visible(db, "chat-" + "c" * 32) == []


def test_after_joining_a_customer_the_visitor_still_sees_only_the_chat(
    db: Database, clock: FixedClock
) -> None:
    ann = store(db, ChatText(ANN, "m-0001-abcd", "order 1001, zip 98101"), clock)
    with db.write() as session:
        texted = record_inbound(session, phone="+12065550101", channel="sms", body="sms text")
        session.get(Conversation, ann.conversation_id).customer_id = texted.customer_id
    assert _shown(db, ANN) == [("customer", None, "order 1001, zip 98101")]


def test_after_an_id_oldest_first_and_at_most_a_page(db: Database, clock: FixedClock) -> None:
    ids = []
    for n in range(PAGE + 5):
        clock.advance(timedelta(seconds=1))
        ids.append(store(db, ChatText(ANN, f"m-{n:04d}-abcd", f"text {n}"), clock).message_id)
    page = visible(db, ANN)
    assert [m.id for m in page] == ids[:PAGE]
    assert [m.id for m in visible(db, ANN, page[-1].id)] == ids[PAGE:]
    assert [m.text for m in visible(db, ANN, ids[2], limit=2)] == ["text 3", "text 4"]
    assert visible(db, ANN, ids[-1]) == []


def test_a_message_the_assistant_failed_on_is_flagged(db: Database, clock: FixedClock) -> None:
    stored = store(db, ChatText(ANN, "m-0001-abcd", "hello"), clock)
    with db.write() as session:
        session.get(Message, stored.message_id).status = "failed"
    assert [m.failed for m in visible(db, ANN)] == [True]
