"""The outbox: texts queued in the thread and the outbox together, cancelled after an opt-out."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.inbox import customer_for_phone, thread_for
from bot.outbox import PRIORITY, cancel_queued, enqueue
from bot.store import Database
from bot.store.models import Conversation, Message, OutboxItem

PHONE = "+12065550101"
OTHER = "+12065550102"


def _queue(
    db: Database, clock: FixedClock, purpose: str, body: str = "hi", phone: str = PHONE, **kw
) -> int:
    with db.write() as session:
        conversation = thread_for(session, customer_for_phone(session, phone), "sms", clock)
        item = enqueue(session, conversation, body, purpose, to_phone=phone, clock=clock, **kw)
        return item.id


def _item(db: Database, item_id: int) -> tuple[OutboxItem, Message]:
    with db.read() as session:
        item = session.get(OutboxItem, item_id)
        return item, session.get(Message, item.message_id)


def test_a_queued_text_is_in_the_thread_and_the_outbox(db: Database, clock: FixedClock) -> None:
    item_id = _queue(db, clock, "reply", "Your order shipped.")
    item, message = _item(db, item_id)
    assert (item.to_phone, item.body, item.purpose, item.status) == (
        PHONE,
        "Your order shipped.",
        "reply",
        "queued",
    )
    assert item.priority == PRIORITY["reply"]
    assert item.due_at == clock.now()
    assert item.attempts == 0
    assert (message.direction, message.author, message.status) == ("out", "assistant", "queued")
    assert message.body == "Your order shipped."
    with db.read() as session:
        conversation = session.get(Conversation, message.conversation_id)
    assert conversation.last_message_at == clock.now()


@pytest.mark.parametrize(
    ("purpose", "author"),
    [
        ("compliance", "system"),
        ("reply", "assistant"),
        ("agent", "agent"),
        ("proactive", "assistant"),
    ],
)
def test_each_purpose_has_its_author_and_priority(
    db: Database, clock: FixedClock, purpose: str, author: str
) -> None:
    item, message = _item(db, _queue(db, clock, purpose))
    assert message.author == author
    assert item.priority == PRIORITY[purpose]


def test_priorities_put_compliance_first_and_proactive_last() -> None:
    order = sorted(PRIORITY, key=PRIORITY.get)
    assert order == ["compliance", "reply", "agent", "proactive"]


def test_an_unknown_purpose_is_refused_and_nothing_is_stored(
    db: Database, clock: FixedClock
) -> None:
    with pytest.raises(ValueError, match="marketing"):
        _queue(db, clock, "marketing")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 0


def test_media_and_a_later_due_time_are_kept(db: Database, clock: FixedClock) -> None:
    later = clock.now() + timedelta(hours=3)
    item, message = _item(
        db, _queue(db, clock, "agent", "", media_urls=["https://x.test/a.jpg"], due_at=later)
    )
    assert item.media_urls == ["https://x.test/a.jpg"]
    assert message.media == [{"url": "https://x.test/a.jpg"}]
    assert item.due_at == later


def test_cancel_queued_cancels_waiting_texts_but_keeps_compliance(
    db: Database, clock: FixedClock
) -> None:
    reply, proactive, agent = (_queue(db, clock, p) for p in ("reply", "proactive", "agent"))
    confirmation = _queue(db, clock, "compliance", "unsubscribed")
    elsewhere = _queue(db, clock, "proactive", phone=OTHER)
    sent = _queue(db, clock, "reply", "already gone")
    with db.write() as session:
        session.get(OutboxItem, sent).status = "sent"
    with db.write() as session:
        assert cancel_queued(session, PHONE, "recipient opted out") == 3
    for item_id in (reply, proactive, agent):
        item, message = _item(db, item_id)
        assert (item.status, item.last_error) == ("cancelled", "recipient opted out")
        assert (message.status, message.error_message) == ("cancelled", "recipient opted out")
    assert _item(db, confirmation)[0].status == "queued"
    assert _item(db, elsewhere)[0].status == "queued"
    assert _item(db, sent)[0].status == "sent"


def test_cancel_queued_can_cancel_compliance_too(db: Database, clock: FixedClock) -> None:
    confirmation = _queue(db, clock, "compliance")
    with db.write() as session:
        assert cancel_queued(session, PHONE, "number gone", keep_compliance=False) == 1
    assert _item(db, confirmation)[0].status == "cancelled"


def test_cancel_queued_with_nothing_waiting_is_zero(db: Database) -> None:
    with db.write() as session:
        assert cancel_queued(session, PHONE, "recipient opted out") == 0
