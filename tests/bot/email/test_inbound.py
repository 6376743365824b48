"""Storing an inbound email: its customer, its thread, its message; and who must not be answered."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.config import Settings
from bot.email.form import read_form
from bot.email.inbound import Accepted, accept_email, for_assistant
from bot.email.parse import InboundEmail, parse
from bot.inbox import record_inbound
from bot.oms.base import OrderSystemError
from bot.oms.demo import DemoStore
from bot.oms.demo_seed import seed
from bot.store import Database
from bot.store.models import Conversation, Customer, Message
from tests.fakes.sendgrid import InboundEmailForm

ROOT = Path(__file__).resolve().parents[3]
AVA_PHONE = "+12065550101"  # data/demo/customers.yml: ava@example.com
SETTINGS = Settings(store_name="Pigeon Supply Co.", support_email="support@example.com")


@pytest.fixture
def demo(db: Database, clock: FixedClock) -> DemoStore:
    seed(db, ROOT / "data" / "demo", clock=clock)
    return DemoStore(db, clock)


class StoreDown:
    def orders_for_email(self, email: str) -> list:
        raise OrderSystemError("orders_for_email: HTTP 503")


def _email(**kw: Any) -> InboundEmail:
    return parse(read_form(*InboundEmailForm(**kw).encode()))


def _accept(db: Database, demo: Any, clock: FixedClock, **kw: Any) -> Accepted:
    return accept_email(db, _email(**kw), SETTINGS, demo, clock)


def _message(db: Database, message_id: int) -> Message:
    with db.read() as session:
        return session.get(Message, message_id)


def test_an_email_is_stored_in_the_customers_email_thread(
    db: Database, demo: DemoStore, clock: FixedClock
) -> None:
    with db.write() as session:  # Ava texted before: her phone customer exists
        texted = record_inbound(session, phone=AVA_PHONE, channel="sms", body="hi", clock=clock)
    gmail = "Still nothing.\n\nOn Mon, Jun 15, 2026 Pigeon wrote:\n> Your order shipped.\n"
    accepted = _accept(
        db,
        demo,
        clock,
        text=gmail,
        message_id="<ava1@mail.example.com>",
        in_reply_to="<ours@example.com>",
        references=["<ours@example.com>"],
        attachments=[("photo.jpg", "image/jpeg", b"\xff\xd8" * 100)],
    )
    assert accepted.turn is not None
    assert accepted.held is None
    message = _message(db, accepted.message_id)
    assert (message.channel, message.direction, message.author) == ("email", "in", "customer")
    assert (message.body, message.status) == ("Still nothing.", "received")
    assert message.external_id == hashlib.sha256(b"<ava1@mail.example.com>").hexdigest()
    assert message.email_meta == {
        "message_id": "<ava1@mail.example.com>",
        "subject": "Where is my order?",
        "in_reply_to": "<ours@example.com>",
        "references": ["<ours@example.com>"],
        "attachments": [{"filename": "photo.jpg", "content_type": "image/jpeg", "size": 200}],
    }
    with db.read() as session:
        thread = session.get(Conversation, accepted.conversation_id)
        assert (thread.channel, thread.sender_id, thread.status) == (
            "email",
            "ava@example.com",
            "open",
        )
        assert thread.customer_id == texted.customer_id  # one customer: texts and emails
        assert thread.last_message_at == clock.now()
    assert accepted.turn.sender_id == "ava@example.com"
    assert accepted.turn.text == "Still nothing."
    assert accepted.turn.email_id == "<ava1@mail.example.com>"


def test_a_repeated_message_id_is_stored_once_and_not_answered_again(
    db: Database, demo: DemoStore, clock: FixedClock
) -> None:
    first = _accept(db, demo, clock, message_id="<same@example.com>")
    again = _accept(db, demo, clock, message_id="<same@example.com>", text="changed")
    assert first.turn is not None
    assert (again.duplicate, again.turn, again.conversation_id) == (
        True,
        None,
        first.conversation_id,
    )
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"extra_headers": {"Auto-Submitted": "auto-replied"}}, "Auto-Submitted"),
        ({"extra_headers": {"Auto-Submitted": "auto-generated"}}, "Auto-Submitted"),
        ({"extra_headers": {"Precedence": "bulk"}}, "Precedence: bulk"),
        ({"extra_headers": {"Precedence": "junk"}}, "Precedence: junk"),
        ({"extra_headers": {"Precedence": "list"}}, "Precedence: list"),
        ({"extra_headers": {"X-Autoreply": "yes"}}, "X-Autoreply"),
        ({"sender": "MAILER-DAEMON@mx.example.com"}, "bounce or robot"),
        ({"sender": "postmaster@example.org"}, "bounce or robot"),
        ({"sender": "No-Reply <no-reply@shop.example>"}, "bounce or robot"),
        ({"sender": "noreply+bounce@example.net"}, "bounce or robot"),
        ({"envelope_from": ""}, "bounce or robot"),
        ({"sender": "Pigeon <Support@Example.com>"}, "store's own address"),
        ({"text": "", "subject": ""}, "nothing to read"),
    ],
)
def test_robots_loops_and_empty_mail_are_kept_but_never_answered(
    db: Database, demo: DemoStore, clock: FixedClock, form: dict, reason: str
) -> None:
    accepted = _accept(db, demo, clock, **form)
    assert accepted.turn is None
    assert reason in (accepted.held or "")
    message = _message(db, accepted.message_id)
    assert message.status == "held"  # shown in the inbox, with the reason
    assert reason in (message.error_message or "")
    assert message.direction == "in"


def test_auto_submitted_no_is_a_person(db: Database, demo: DemoStore, clock: FixedClock) -> None:
    accepted = _accept(db, demo, clock, extra_headers={"Auto-Submitted": "no"})
    assert accepted.turn is not None


def test_a_customer_reopens_a_resolved_thread_and_a_robot_does_not(
    db: Database, demo: DemoStore, clock: FixedClock
) -> None:
    first = _accept(db, demo, clock)
    _set_status(db, first.conversation_id, "resolved")
    _accept(db, demo, clock, extra_headers={"Auto-Submitted": "auto-replied"})
    assert _status(db, first.conversation_id) == "resolved"
    _accept(db, demo, clock, message_id=first.turn.email_id)  # a repeat reopens nothing either
    assert _status(db, first.conversation_id) == "resolved"
    _accept(db, demo, clock, text="One more question")
    assert _status(db, first.conversation_id) == "open"


def test_an_unknown_address_is_a_new_customer_even_when_the_store_is_down(
    db: Database, clock: FixedClock
) -> None:
    accepted = accept_email(
        db, _email(sender="Zed <zed@example.org>"), SETTINGS, StoreDown(), clock
    )
    assert accepted.turn is not None
    with db.read() as session:
        customer = session.get(
            Customer, session.get(Conversation, accepted.conversation_id).customer_id
        )
        assert (customer.email, customer.name, customer.phone) == ("zed@example.org", "Zed", None)


def test_the_assistant_reads_the_subject_when_the_body_is_empty() -> None:
    assert for_assistant("", "Re: Where is order 1001?") == "Where is order 1001?"
    assert for_assistant("  ", "Fwd: RE: refund") == "refund"
    assert for_assistant("/restart please", "x") == "restart please"  # no customer-made intents
    assert len(for_assistant("x" * 50_000, "")) == 2_000


def _set_status(db: Database, conversation_id: int, status: str) -> None:
    with db.write() as session:
        session.get(Conversation, conversation_id).status = status


def _status(db: Database, conversation_id: int) -> str:
    with db.read() as session:
        return session.get(Conversation, conversation_id).status


def test_a_new_addresss_first_emails_at_once_make_one_customer_and_one_thread(
    db: Database, clock: FixedClock
) -> None:
    emails = [_email(sender="Zed <zed@example.org>", text=f"mail {n}") for n in range(6)]
    start = threading.Barrier(len(emails))

    def accept(email: InboundEmail) -> Accepted:
        start.wait()
        return accept_email(db, email, SETTINGS, StoreDown(), clock)

    with ThreadPoolExecutor(len(emails)) as pool:
        accepted = list(pool.map(accept, emails))
    assert len({a.conversation_id for a in accepted}) == 1
    assert all(a.turn is not None for a in accepted)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1
        assert session.scalar(select(func.count()).select_from(Conversation)) == 1
