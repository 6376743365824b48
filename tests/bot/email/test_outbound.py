"""queue_email and the turn's bookkeeping: one threaded email, written with the message it is."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.email.form import read_form
from bot.email.inbound import Accepted, accept_email
from bot.email.outbound import EmailError, NoEmailAddress, queue_email
from bot.email.parse import parse
from bot.email.turns import MAX_REPLIES_PER_HOUR, finish_turn, unanswered
from bot.errors import PigeonError
from bot.inbox import customer_for_phone, thread_for
from bot.store import Database
from bot.store.models import Conversation, EmailOutboxItem, Message
from tests.fakes.sendgrid import InboundEmailForm

SETTINGS = Settings(
    store_name="Pigeon Supply Co.",
    support_email="support@pigeon.example",
    support_hours="Mon-Fri 9am-6pm ET",
)


class NoOrders:
    def orders_for_email(self, email: str) -> list:
        return []


def _receive(db: Database, clock: FixedClock, **kw: Any) -> Accepted:
    email = parse(read_form(*InboundEmailForm(**kw).encode()))
    return accept_email(db, email, SETTINGS, NoOrders(), clock)


def _queue(db: Database, clock: FixedClock, conversation_id: int, **kw: Any) -> int:
    kw.setdefault("author", "agent")
    kw.setdefault("body", "Your order is on its way.")
    with db.write() as session:
        conversation = session.get(Conversation, conversation_id)
        return queue_email(session, SETTINGS, conversation, clock=clock, **kw).id


def _sent(db: Database, message_id: int) -> tuple[Message, EmailOutboxItem]:
    with db.read() as session:
        item = session.execute(
            select(EmailOutboxItem).where(EmailOutboxItem.message_id == message_id)
        ).scalar_one()
        return session.get(Message, message_id), item


def test_an_email_reply_is_queued_threaded_on_the_customers_last_email(
    db: Database, clock: FixedClock
) -> None:
    first = _receive(db, clock, message_id="<a1@mail.example.com>", subject="Order 1001")
    clock.advance(timedelta(minutes=5))
    _receive(
        db,
        clock,
        message_id="<a2@mail.example.com>",
        subject="Re: Order 1001",
        text="Any news?",
        in_reply_to="<ours1@pigeon.example>",
        references=["<a1@mail.example.com>", "<ours1@pigeon.example>"],
    )
    message, item = _sent(db, _queue(db, clock, first.conversation_id, agent_id=None))
    assert (message.channel, message.direction, message.author) == ("email", "out", "agent")
    assert (message.body, message.status) == ("Your order is on its way.", "queued")
    own_id = message.email_meta["message_id"]
    assert own_id.endswith("@pigeon.example>")
    assert message.external_id == hashlib.sha256(own_id.encode()).hexdigest()
    assert message.email_meta == {
        "message_id": own_id,
        "subject": "Re: Order 1001",
        "in_reply_to": "<a2@mail.example.com>",
        "references": [
            "<a1@mail.example.com>",
            "<ours1@pigeon.example>",
            "<a2@mail.example.com>",
        ],
        "attachments": [],
    }
    assert (item.to_address, item.subject, item.status) == (
        "ava@example.com",
        "Re: Order 1001",
        "queued",
    )
    assert item.due_at == clock.now()
    assert item.headers == {
        "Message-ID": own_id,
        "In-Reply-To": "<a2@mail.example.com>",
        "References": "<a1@mail.example.com> <ours1@pigeon.example> <a2@mail.example.com>",
    }
    assert item.body_text.startswith("Your order is on its way.\n\n-- \nPigeon Supply Co.")
    assert "Ava Chen <ava@example.com> wrote:\n> Any news?" in item.body_text
    assert "<p>Your order is on its way.</p>" in item.body_html


def test_the_assistants_email_says_it_is_automatic_and_answers_the_email_it_read(
    db: Database, clock: FixedClock
) -> None:
    first = _receive(db, clock, message_id="<b1@x.example>", subject="First")
    _receive(db, clock, message_id="<b2@x.example>", subject="Second")
    reply = _queue(db, clock, first.conversation_id, author="assistant", reply_to=first.message_id)
    message, item = _sent(db, reply)
    assert item.headers["In-Reply-To"] == "<b1@x.example>"
    assert item.headers["Auto-Submitted"] == "auto-replied"  # RFC 3834: no autoresponder loops
    assert message.email_meta["subject"] == "Re: First"


def test_without_an_inbound_email_the_email_starts_a_thread(
    db: Database, clock: FixedClock
) -> None:
    with db.write() as session:
        customer = customer_for_phone(session, "+12065550101")
        customer.email = "Ava@Example.com"
        conversation_id = thread_for(session, customer, "sms", clock).id
    message, item = _sent(db, _queue(db, clock, conversation_id))
    assert message.channel == "email"  # an email, on whatever thread the agent wrote in
    assert item.to_address == "ava@example.com"
    assert item.subject == "Your message to Pigeon Supply Co."
    assert set(item.headers) == {"Message-ID"}


def test_a_customer_without_an_email_address_gets_a_clear_error(
    db: Database, clock: FixedClock
) -> None:
    with db.write() as session:
        customer = customer_for_phone(session, "+12065550101")
        conversation_id = thread_for(session, customer, "sms", clock).id
    with pytest.raises(NoEmailAddress, match="has no email address") as raised:
        _queue(db, clock, conversation_id)
    assert isinstance(raised.value, EmailError)
    assert isinstance(raised.value, PigeonError)
    with db.read() as session:
        assert session.execute(select(EmailOutboxItem)).first() is None


def test_an_empty_body_is_refused(db: Database, clock: FixedClock) -> None:
    accepted = _receive(db, clock)
    with pytest.raises(EmailError, match="needs some text"):
        _queue(db, clock, accepted.conversation_id, body="  \n ")


def test_a_turn_queues_one_email_with_everything_the_assistant_said(
    db: Database, clock: FixedClock
) -> None:
    accepted = _receive(db, clock)
    reply = finish_turn(db, SETTINGS, clock, accepted.turn, ["Order #1001 shipped.", "", "Bye!"])
    assert reply is not None
    message, item = _sent(db, reply.id)
    assert message.body == "Order #1001 shipped.\n\nBye!"
    assert item.body_text.startswith("Order #1001 shipped.\n\nBye!\n\n-- \n")
    assert _status(db, accepted.message_id) == ("handled", None)


def test_a_silent_turn_queues_nothing_and_a_failed_one_says_so(
    db: Database, clock: FixedClock
) -> None:
    paused = _receive(db, clock)
    assert finish_turn(db, SETTINGS, clock, paused.turn, []) is None
    assert _status(db, paused.message_id) == ("handled", None)
    broken = _receive(db, clock, text="second")
    error = "assistant failed: RuntimeError"
    assert finish_turn(db, SETTINGS, clock, broken.turn, ["half a reply"], error) is None
    assert _status(db, broken.message_id) == ("failed", error)
    with db.read() as session:
        assert session.execute(select(EmailOutboxItem)).first() is None


def test_a_thread_that_answers_every_answer_is_held_for_a_person(
    db: Database, clock: FixedClock
) -> None:
    # A robot with none of the usual headers: each reply gets an email back at once.
    for n in range(MAX_REPLIES_PER_HOUR):
        accepted = _receive(db, clock, text=f"auto {n}")
        assert finish_turn(db, SETTINGS, clock, accepted.turn, ["We got it."]) is not None
        clock.advance(timedelta(minutes=5))
    looping = _receive(db, clock, text="auto again")
    assert finish_turn(db, SETTINGS, clock, looping.turn, ["We got it."]) is None
    status, why = _status(db, looping.message_id)
    assert status == "held"
    assert "too many automatic replies" in why
    # An hour after the first replies, the assistant answers again.
    clock.advance(timedelta(minutes=35))
    later = _receive(db, clock, text="a real question")
    assert finish_turn(db, SETTINGS, clock, later.turn, ["Here you go."]) is not None


def test_unanswered_emails_are_found_after_a_restart(db: Database, clock: FixedClock) -> None:
    old = _receive(db, clock, text="old one")
    clock.advance(timedelta(hours=25))
    answered = _receive(db, clock, text="answered")
    finish_turn(db, SETTINGS, clock, answered.turn, [])
    held = _receive(db, clock, extra_headers={"Auto-Submitted": "auto-replied"})
    waiting = _receive(db, clock, text="waiting")
    turns = unanswered(db, clock, timedelta(hours=24))
    assert [t.message_id for t in turns] == [waiting.message_id]
    assert turns[0] == waiting.turn
    assert old.message_id not in [t.message_id for t in turns]
    assert held.turn is None


def _status(db: Database, message_id: int) -> tuple[str, str | None]:
    with db.read() as session:
        message = session.get(Message, message_id)
        return message.status, message.error_message
