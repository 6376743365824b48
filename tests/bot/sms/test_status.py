"""Twilio's status callbacks applied to a sent text: forward only, error codes kept."""

import threading
from datetime import timedelta

import pytest

import bot.sms.status as status_module
from bot.clock import FixedClock
from bot.consent import ConsentState, consent_state, history
from bot.inbox import customer_for_phone, record_outbound, thread_for
from bot.outbox import enqueue
from bot.sms.status import apply_held, apply_status, record_status
from bot.store import Database
from bot.store.models import Message

PHONE = "+12065550101"
SID = "SM" + "1" * 32


@pytest.fixture
def message_id(db: Database, clock: FixedClock) -> int:
    """A reply the dispatcher handed to Twilio: status 'queued', Twilio's SID recorded."""
    with db.write() as session:
        conversation = thread_for(session, customer_for_phone(session, PHONE), "sms", clock)
        item = enqueue(session, conversation, "on its way", "reply", to_phone=PHONE, clock=clock)
        message = session.get(Message, item.message_id)
        message.external_id = SID
        return message.id


def _apply(db: Database, clock: FixedClock, status: str, code: str | None = None, sid=SID) -> bool:
    with db.write() as session:
        return apply_status(session, sid, status, code, clock)


def _message(db: Database, message_id: int) -> Message:
    with db.read() as session:
        return session.get(Message, message_id)


def test_callbacks_in_order_move_the_message_forward(
    db: Database, clock: FixedClock, message_id: int
) -> None:
    for status in ("sending", "sent", "delivered"):
        clock.advance(timedelta(seconds=1))
        assert _apply(db, clock, status)
        message = _message(db, message_id)
        assert message.status == status
        assert message.updated_at == clock.now()


def test_a_late_sent_after_delivered_changes_nothing(
    db: Database, clock: FixedClock, message_id: int
) -> None:
    assert _apply(db, clock, "delivered")
    assert not _apply(db, clock, "sent")
    assert not _apply(db, clock, "queued")
    assert _message(db, message_id).status == "delivered"


def test_undelivered_keeps_its_error_code(db: Database, clock: FixedClock, message_id: int) -> None:
    assert _apply(db, clock, "sent")
    assert _apply(db, clock, "undelivered", "30003")
    assert not _apply(db, clock, "sent")
    message = _message(db, message_id)
    assert (message.status, message.error_code) == ("undelivered", "30003")


def test_delivered_overtakes_failed_ones_that_arrived_late(
    db: Database, clock: FixedClock, message_id: int
) -> None:
    assert _apply(db, clock, "failed", "30008")
    assert _apply(db, clock, "delivered")
    assert _message(db, message_id).status == "delivered"


def test_an_unknown_outcome_is_resolved_by_a_callback(
    db: Database, clock: FixedClock, message_id: int
) -> None:
    with db.write() as session:
        session.get(Message, message_id).status = "unknown"  # the send timed out
    assert _apply(db, clock, "delivered")
    assert _message(db, message_id).status == "delivered"


def test_21610_in_a_callback_opts_the_number_out(
    db: Database, clock: FixedClock, message_id: int
) -> None:
    assert _apply(db, clock, "failed", "21610")
    message = _message(db, message_id)
    assert (message.status, message.error_code) == ("failed", "21610")
    with db.read() as session:
        assert consent_state(session, PHONE) is ConsentState.OPTED_OUT
        (event,) = history(session, PHONE)
    assert (event.action, event.source) == ("opt_out", "carrier")


def test_21610_is_recorded_even_when_the_callback_is_stale(
    db: Database, clock: FixedClock, message_id: int
) -> None:
    assert _apply(db, clock, "delivered")
    assert not _apply(db, clock, "failed", "21610")
    with db.read() as session:
        assert consent_state(session, PHONE) is ConsentState.OPTED_OUT


def test_an_unknown_sid_changes_nothing(db: Database, clock: FixedClock, message_id: int) -> None:
    assert not _apply(db, clock, "failed", "21610", sid="SM" + "9" * 32)
    assert _message(db, message_id).status == "queued"
    with db.read() as session:
        assert history(session, PHONE) == []


def test_an_unknown_status_changes_nothing(
    db: Database, clock: FixedClock, message_id: int
) -> None:
    assert not _apply(db, clock, "teleported")
    assert _message(db, message_id).status == "queued"


def test_a_chat_message_with_the_same_provider_id_is_left_alone(
    db: Database, clock: FixedClock, message_id: int
) -> None:
    with db.write() as session:
        chat = thread_for(session, customer_for_phone(session, PHONE), "chat", clock)
        other = record_outbound(session, chat, author="assistant", body="hi", clock=clock)
        other.external_id = SID
        other_id = other.id
    assert _apply(db, clock, "delivered")
    assert _message(db, message_id).status == "delivered"
    assert _message(db, other_id).status == "queued"


def test_a_callback_before_the_sid_is_recorded_is_applied_once_it_is(
    db: Database, clock: FixedClock
) -> None:
    early = "SM" + "7" * 32
    assert not _apply(db, clock, "sent", sid=early)
    assert not _apply(db, clock, "delivered", sid=early)
    assert not _apply(db, clock, "delivered", sid=early)  # Twilio retried: held once
    with db.write() as session:
        conversation = thread_for(session, customer_for_phone(session, PHONE), "sms", clock)
        item = enqueue(session, conversation, "hi", "reply", to_phone=PHONE, clock=clock)
        message = session.get(Message, item.message_id)
        message.status, message.external_id = "queued", early
        session.flush()
        assert apply_held(session, early, clock) == 2
        assert apply_held(session, early, clock) == 0  # applied once
    assert _message(db, item.message_id).status == "delivered"


def test_a_callback_held_while_the_sid_commits_is_still_applied(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The callback holds itself; before it commits, the dispatcher records the SID.

    Neither transaction sees the other's row, so each side tries the held callbacks
    again after its own commit. (On SQLite the writers queue instead and the waits
    below time out; the outcome must be the same.)
    """
    race = "SM" + "8" * 32
    with db.write() as session:
        conversation = thread_for(session, customer_for_phone(session, PHONE), "sms", clock)
        item = enqueue(session, conversation, "hi", "reply", to_phone=PHONE, clock=clock)
        message_id = item.message_id
    held, recorded = threading.Event(), threading.Event()
    hold = status_module._hold

    def hold_then_wait(*args, **kwargs) -> None:
        hold(*args, **kwargs)
        held.set()
        recorded.wait(timeout=1)  # the dispatcher commits the SID in between

    def dispatcher() -> None:
        held.wait(timeout=5)
        with db.write() as session:
            message = session.get(Message, message_id)
            message.status, message.external_id = "queued", race
        with db.write() as session:
            apply_held(session, race, clock)
        recorded.set()

    monkeypatch.setattr(status_module, "_hold", hold_then_wait)
    sender = threading.Thread(target=dispatcher)
    sender.start()
    record_status(db, race, "delivered", None, clock)
    sender.join(timeout=10)
    assert not sender.is_alive()
    assert _message(db, message_id).status == "delivered"
