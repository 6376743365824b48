from datetime import timedelta

from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.inbox import customer_for_phone, record_inbound, record_outbound
from bot.store import Database
from bot.store.models import Conversation, Customer, Message

PHONE = "+12065550101"


def _count(db: Database, model) -> int:
    with db.read() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_first_text_creates_customer_thread_and_message(db: Database, clock: FixedClock) -> None:
    with db.write() as session:
        stored = record_inbound(
            session,
            phone=PHONE,
            channel="sms",
            body="wheres my order",
            external_id="SM1",
            clock=clock,
        )
    assert not stored.duplicate
    with db.read() as session:
        customer = session.get(Customer, stored.customer_id)
        conversation = session.get(Conversation, stored.conversation_id)
        message = session.get(Message, stored.message_id)
    assert customer.phone == PHONE
    assert customer.time_zone == "America/Los_Angeles"
    assert (conversation.channel, conversation.status) == ("sms", "open")
    assert conversation.last_message_at == clock.now()
    assert (message.direction, message.author, message.body) == (
        "in",
        "customer",
        "wheres my order",
    )
    assert message.status == "received"


def test_a_repeated_provider_id_is_reported_and_stored_once(db: Database) -> None:
    for _ in range(3):
        with db.write() as session:
            stored = record_inbound(
                session, phone=PHONE, channel="sms", body="hi", external_id="SM1"
            )
    assert stored.duplicate
    assert stored.message_id is None
    assert _count(db, Message) == 1


def test_one_thread_per_customer_and_channel(db: Database, clock: FixedClock) -> None:
    ids = set()
    for n in range(3):
        with db.write() as session:
            ids.add(
                record_inbound(
                    session, phone=PHONE, channel="sms", body=f"msg {n}", external_id=f"SM{n}"
                ).conversation_id
            )
    assert len(ids) == 1
    assert _count(db, Customer) == 1


def test_a_resolved_thread_reopens_on_a_new_text(db: Database, clock: FixedClock) -> None:
    with db.write() as session:
        first = record_inbound(session, phone=PHONE, channel="sms", body="hi", clock=clock)
        session.get(Conversation, first.conversation_id).status = "resolved"
    clock.advance(timedelta(days=2))
    with db.write() as session:
        again = record_inbound(session, phone=PHONE, channel="sms", body="me again", clock=clock)
    assert again.conversation_id == first.conversation_id
    with db.read() as session:
        conversation = session.get(Conversation, again.conversation_id)
        assert conversation.status == "open"
        assert conversation.last_message_at == clock.now()


def test_picture_only_mms_keeps_its_media(db: Database) -> None:
    media = [{"url": "https://api.twilio.com/media/ME1", "content_type": "image/jpeg"}]
    with db.write() as session:
        stored = record_inbound(session, phone=PHONE, channel="sms", body="", media=media)
    with db.read() as session:
        message = session.get(Message, stored.message_id)
    assert message.body == ""
    assert message.media == media


def test_outbound_messages_join_the_thread(db: Database, clock: FixedClock) -> None:
    with db.write() as session:
        stored = record_inbound(session, phone=PHONE, channel="sms", body="hi", clock=clock)
        conversation = session.get(Conversation, stored.conversation_id)
        clock.advance(timedelta(seconds=2))
        reply = record_outbound(session, conversation, author="assistant", body="Hi!", clock=clock)
    assert (reply.direction, reply.author, reply.status, reply.channel) == (
        "out",
        "assistant",
        "queued",
        "sms",
    )
    with db.read() as session:
        assert session.get(Conversation, stored.conversation_id).last_message_at == clock.now()


def test_customer_for_phone_is_idempotent(db: Database) -> None:
    with db.write() as session:
        first = customer_for_phone(session, PHONE).id
    with db.write() as session:
        assert customer_for_phone(session, PHONE).id == first
