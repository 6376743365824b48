from datetime import timedelta

from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.store import Database
from bot.store.models import Conversation, Customer
from bot.support.handoff import SUMMARY_LIMIT, request_handoff, summarize


def test_summary_has_reason_order_and_the_latest_words() -> None:
    lines = ["hi", "hello?", "where is my order", "", " ", "it says delivered", "never got it"]
    assert summarize("marked delivered but not received", lines, "#1002") == (
        "Reason: marked delivered but not received. Order: #1002. "
        'Customer said: "hello?" / "where is my order" / "it says delivered" / "never got it"'
    )


def test_summary_without_order_or_words() -> None:
    assert summarize("customer asked for a person", []) == "Reason: customer asked for a person."


def test_summary_is_cut_to_its_limit() -> None:
    summary = summarize("delivery problem", ["x" * 400] * 4, "#1001")
    assert len(summary) == SUMMARY_LIMIT
    assert summary.endswith("...")


def test_a_detail_survives_even_when_the_customer_wrote_a_lot() -> None:
    summary = summarize(
        "address change before shipping",
        ["y" * 500, "12 Oak St, Austin TX 78704"],
        "#1003",
        detail="New address: 12 Oak St, Austin TX 78704",
    )
    assert summary.startswith(
        "Reason: address change before shipping. Order: #1003. "
        "New address: 12 Oak St, Austin TX 78704. Customer said:"
    )
    assert len(summary) <= SUMMARY_LIMIT


def test_request_handoff_marks_the_inbox_thread_pending(db: Database, clock: FixedClock) -> None:
    with db.write() as session:
        request_handoff(session, "+12065550101", "a person, please", "Reason: x.", clock)
    clock.advance(timedelta(minutes=5))
    with db.write() as session:
        again = request_handoff(session, "+12065550101", "second time", "Reason: y.", clock)
        again_id = again.id
    with db.read() as session:
        (thread,) = session.scalars(select(Conversation)).all()
        customer = session.get(Customer, thread.customer_id)
        assert thread.id == again_id
        assert (thread.status, thread.channel) == ("pending", "sms")
        assert (thread.handoff_reason, thread.handoff_summary) == ("second time", "Reason: y.")
        assert thread.updated_at == clock.now()
        assert customer.phone == "+12065550101"


def test_a_shell_conversation_gets_a_chat_thread(db: Database, clock: FixedClock) -> None:
    with db.write() as session:
        request_handoff(session, "default", "a person, please", "Reason: x.", clock)
    with db.read() as session:
        thread = session.scalars(select(Conversation)).one()
        assert (thread.channel, thread.sender_id, thread.status) == ("chat", "default", "pending")
        assert session.scalar(select(func.count()).select_from(Customer)) == 1
