"""One customer across channels: emails join phones through the order system and verification."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from bot.clock import FixedClock
from bot.consent import record_opt_in
from bot.customers import customer_for_email, join_verified, mask_email, merge, normalize_email
from bot.inbox import customer_for_phone, record_inbound, thread_for
from bot.oms.demo import DemoStore
from bot.oms.demo_seed import seed
from bot.store import Database
from bot.store.models import ConsentEvent, Conversation, Customer

ROOT = Path(__file__).resolve().parents[2]
AVA_PHONE = "+12065550101"  # data/demo/customers.yml: ava@example.com


@pytest.fixture
def demo(db: Database, clock: FixedClock) -> DemoStore:
    seed(db, ROOT / "data" / "demo", clock=clock)
    return DemoStore(db, clock)


def _customers(db: Database) -> int:
    with db.read() as session:
        return session.execute(select(func.count()).select_from(Customer)).scalar_one()


def _chat_thread(session, sender_id: str, clock: FixedClock) -> Conversation:
    visitor = Customer(name="Web visitor")
    session.add(visitor)
    session.flush()
    conversation = thread_for(session, visitor, "chat", clock)
    conversation.sender_id = sender_id
    session.flush()
    return conversation


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Ava <Ava@Example.COM>", "ava@example.com"),
        ("ava@example.com.", "ava@example.com"),
        ("no address here", None),
        ("", None),
        (None, None),
    ],
)
def test_addresses_are_normalised(given: str | None, expected: str | None) -> None:
    assert normalize_email(given) == expected


def test_addresses_are_masked_for_logs() -> None:
    assert mask_email("ava@example.com") == "a***@example.com"
    assert "ava" not in mask_email("ava@example.com")
    assert mask_email(None) == "***"


def test_an_email_from_an_order_joins_the_customer_who_texts(
    db: Database, clock: FixedClock, demo: DemoStore
) -> None:
    with db.write() as session:
        texted = record_inbound(session, phone=AVA_PHONE, channel="sms", body="hi", clock=clock)
    with db.write() as session:
        emailed = customer_for_email(session, "Ava <AVA@example.com>", demo)
        assert emailed.id == texted.customer_id
        assert emailed.email == "ava@example.com"
    # Found by address from now on, without the order system.
    with db.write() as session:
        assert customer_for_email(session, "ava@example.com").id == texted.customer_id


def test_an_email_first_makes_the_phone_customer_a_later_text_finds(
    db: Database, clock: FixedClock, demo: DemoStore
) -> None:
    with db.write() as session:  # a store whose customers Pigeon has not met yet
        session.execute(delete(ConsentEvent))
        session.execute(delete(Customer))
    with db.write() as session:
        emailed = customer_for_email(session, "ava@example.com", demo).id
    with db.write() as session:
        assert customer_for_phone(session, AVA_PHONE).id == emailed
    assert _customers(db) == 1


def test_an_unknown_address_is_a_new_customer(
    db: Database, clock: FixedClock, demo: DemoStore
) -> None:
    with db.write() as session:
        stranger = customer_for_email(session, "Zed <zed@example.org>", demo, name="Zed")
        assert (stranger.email, stranger.phone, stranger.name) == ("zed@example.org", None, "Zed")
    with pytest.raises(ValueError, match="not an email address"), db.write() as session:
        customer_for_email(session, "not an address")


def test_a_verified_chat_visitor_joins_the_orders_customer(
    db: Database, clock: FixedClock, demo: DemoStore
) -> None:
    with db.write() as session:
        texted = record_inbound(session, phone=AVA_PHONE, channel="sms", body="hi", clock=clock)
        record_opt_in(session, AVA_PHONE, "checkout", disclosure="updates", clock=clock)
        chat = _chat_thread(session, "chat-abc", clock).id
    order = demo.order_by_number("1001")
    assert order.phone == AVA_PHONE
    before = _customers(db)
    with db.write() as session:
        owner = join_verified(session, "chat-abc", order)
        assert owner.id == texted.customer_id
    with db.read() as session:
        assert session.get(Conversation, chat).customer_id == texted.customer_id
        ava = session.get(Customer, texted.customer_id)
        assert (ava.phone, ava.email) == (AVA_PHONE, "ava@example.com")
        channels = {c.channel for c in ava.conversations}
        assert channels == {"sms", "chat"}
    assert _customers(db) == before - 1  # the anonymous visitor is gone, nothing orphaned


def test_verifying_twice_or_for_an_unknown_thread_changes_nothing(
    db: Database, clock: FixedClock, demo: DemoStore
) -> None:
    order = demo.order_by_number("1001")
    before = _customers(db)
    with db.write() as session:
        _chat_thread(session, "chat-abc", clock)
    with db.write() as session:
        first = join_verified(session, "chat-abc", order).id
    with db.write() as session:
        assert join_verified(session, "chat-abc", order).id == first
        assert join_verified(session, "chat-unknown", order) is None
    assert _customers(db) == before


def test_two_phones_are_never_merged(db: Database, clock: FixedClock) -> None:
    with db.write() as session:
        one = customer_for_phone(session, AVA_PHONE)
        other = customer_for_phone(session, "+13055550102")
        assert merge(session, keep=one, absorbed=other) is False
    assert _customers(db) == 2


def test_merging_moves_threads_and_consent_and_keeps_the_phone(
    db: Database, clock: FixedClock
) -> None:
    with db.write() as session:
        phoned = customer_for_phone(session, AVA_PHONE)
        record_opt_in(session, AVA_PHONE, "checkout", disclosure="updates", clock=clock)
        emailed = Customer(email="ava@example.com", name="Ava")
        session.add(emailed)
        session.flush()
        thread_for(session, emailed, "email", clock)
        assert merge(session, keep=emailed, absorbed=phoned)
        kept = emailed.id
    with db.read() as session:
        ava = session.get(Customer, kept)
        assert (ava.phone, ava.email, ava.name) == (AVA_PHONE, "ava@example.com", "Ava")
        assert ava.time_zone == "America/Los_Angeles"
        owners = session.scalars(select(ConsentEvent.customer_id)).all()
        assert owners
        assert set(owners) == {kept}
    assert _customers(db) == 1
