"""STOP, START and HELP on the inbound path: the ledger, one confirmation, never the assistant."""

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.consent import ConsentState, consent_state, history, record_opt_out
from bot.inbox import customer_for_phone, thread_for
from bot.outbox import enqueue
from bot.sms.compliance import help_text, start_text, stop_text
from bot.sms.inbound import Accepted, accept, parse_form
from bot.sms.keywords import HELP_WORDS, OPT_IN_WORDS, OPT_OUT_WORDS
from bot.sms.simulator import SIMULATOR_ACCOUNT_SID
from bot.store import Database
from bot.store.models import Customer, Message, OutboxItem
from tests.fakes.twilio import inbound_sms

PHONE = "+12065550101"
STORE = "+15005550006"
SETTINGS = Settings(
    twilio_auth_token="t" * 32,
    store_name="Acme Bird Seed",
    support_email="help@acme.test",
    support_hours="Mon-Fri 9-5 PT",
)
_sids = itertools.count(1)


def _text(db: Database, clock: FixedClock, body: str, phone: str = PHONE) -> Accepted:
    form = inbound_sms(SIMULATOR_ACCOUNT_SID, phone, STORE, body, message_sid=f"SM{next(_sids)}")
    return accept(db, parse_form(form), SETTINGS, clock)


def _outbox(db: Database, phone: str = PHONE) -> list[OutboxItem]:
    with db.read() as session:
        query = select(OutboxItem).where(OutboxItem.to_phone == phone).order_by(OutboxItem.id)
        return list(session.execute(query).scalars())


def _compliance_bodies(db: Database) -> list[str]:
    return [i.body for i in _outbox(db) if i.purpose == "compliance"]


def _state(db: Database) -> ConsentState:
    with db.read() as session:
        return consent_state(session, PHONE)


def _status(db: Database, accepted: Accepted) -> str:
    with db.read() as session:
        return session.get(Message, accepted.stored.message_id).status


def _queue(db: Database, clock: FixedClock, purpose: str) -> int:
    with db.write() as session:
        conversation = thread_for(session, customer_for_phone(session, PHONE), "sms", clock)
        return enqueue(session, conversation, "update", purpose, to_phone=PHONE, clock=clock).id


def _opt_out(db: Database, clock: FixedClock) -> None:
    with db.write() as session:
        customer_for_phone(session, PHONE)
        record_opt_out(session, PHONE, "agent", clock=clock)


@pytest.mark.parametrize("word", sorted(OPT_OUT_WORDS))
def test_every_opt_out_word_opts_out_with_one_confirmation(
    db: Database, clock: FixedClock, word: str
) -> None:
    accepted = _text(db, clock, word)
    assert not accepted.for_assistant
    assert _status(db, accepted) == "keyword"
    assert _state(db) is ConsentState.OPTED_OUT
    with db.read() as session:
        (event,) = history(session, PHONE)
    assert (event.action, event.source, event.detail) == ("opt_out", "keyword", word)
    assert event.recorded_at == clock.now()
    assert _compliance_bodies(db) == [stop_text(SETTINGS)]


@pytest.mark.parametrize("body", ["stop", "Stop.", " STOP! ", "*stop*", "Unsubscribe", "opt-out"])
def test_case_and_surrounding_punctuation_do_not_matter(
    db: Database, clock: FixedClock, body: str
) -> None:
    assert not _text(db, clock, body).for_assistant
    assert _state(db) is ConsentState.OPTED_OUT


@pytest.mark.parametrize("body", ["please stop texting me", "stop all", "Can I cancel my order?"])
def test_a_sentence_is_for_the_assistant_not_a_keyword(
    db: Database, clock: FixedClock, body: str
) -> None:
    accepted = _text(db, clock, body)
    assert accepted.for_assistant
    assert _status(db, accepted) == "received"
    assert _state(db) is ConsentState.UNKNOWN
    assert _outbox(db) == []


def test_two_stops_are_two_ledger_entries_but_one_confirmation(
    db: Database, clock: FixedClock
) -> None:
    _text(db, clock, "STOP")
    clock.advance(timedelta(minutes=1))
    _text(db, clock, "stop")
    with db.read() as session:
        assert [e.action for e in history(session, PHONE)] == ["opt_out", "opt_out"]
    assert _compliance_bodies(db) == [stop_text(SETTINGS)]


def test_stop_cancels_the_texts_waiting_for_the_number(db: Database, clock: FixedClock) -> None:
    reply, proactive, agent = (_queue(db, clock, p) for p in ("reply", "proactive", "agent"))
    _text(db, clock, "STOP")
    statuses = {i.id: i.status for i in _outbox(db)}
    assert [statuses[reply], statuses[proactive], statuses[agent]] == ["cancelled"] * 3
    assert [i.status for i in _outbox(db) if i.purpose == "compliance"] == ["queued"]


def test_after_stop_texts_are_stored_and_held_not_answered(db: Database, clock: FixedClock) -> None:
    _text(db, clock, "STOP")
    later = _text(db, clock, "hello? where is my order")
    assert not later.for_assistant
    assert _status(db, later) == "held"
    assert _compliance_bodies(db) == [stop_text(SETTINGS)]


@pytest.mark.parametrize("word", sorted(OPT_IN_WORDS))
def test_every_opt_in_word_opts_an_opted_out_number_back_in(
    db: Database, clock: FixedClock, word: str
) -> None:
    _text(db, clock, "STOP")
    accepted = _text(db, clock, word.lower())
    assert not accepted.for_assistant
    assert _state(db) is ConsentState.OPTED_IN
    with db.read() as session:
        event = history(session, PHONE)[-1]
    assert (event.action, event.source, event.detail) == ("opt_in", "keyword", word)
    assert event.disclosure == start_text(SETTINGS)
    assert _compliance_bodies(db) == [stop_text(SETTINGS), start_text(SETTINGS)]
    assert _text(db, clock, "thanks").for_assistant


@pytest.mark.parametrize("word", ["START", "UNSTOP"])
def test_start_opts_in_even_a_number_never_asked(
    db: Database, clock: FixedClock, word: str
) -> None:
    assert not _text(db, clock, word).for_assistant
    assert _state(db) is ConsentState.OPTED_IN
    assert _compliance_bodies(db) == [start_text(SETTINGS)]


def test_yes_from_a_number_never_asked_goes_to_the_assistant(
    db: Database, clock: FixedClock
) -> None:
    accepted = _text(db, clock, "Yes")
    assert accepted.for_assistant
    assert _status(db, accepted) == "received"
    assert _state(db) is ConsentState.UNKNOWN
    assert _outbox(db) == []


def test_yes_after_an_opt_in_request_opts_in(db: Database, clock: FixedClock) -> None:
    with db.write() as session:
        customer_for_phone(session, PHONE).opt_in_requested_at = clock.now()
    assert not _text(db, clock, "YES!").for_assistant
    assert _state(db) is ConsentState.OPTED_IN
    assert _compliance_bodies(db) == [start_text(SETTINGS)]
    with db.read() as session:
        customer = session.execute(select(Customer)).scalar_one()
    assert customer.opt_in_requested_at is None  # a later YES is just a word again
    assert _text(db, clock, "yes").for_assistant


def test_yes_from_an_opted_out_number_opts_in(db: Database, clock: FixedClock) -> None:
    _opt_out(db, clock)
    assert not _text(db, clock, "yes").for_assistant
    assert _state(db) is ConsentState.OPTED_IN


@pytest.mark.parametrize("word", sorted(HELP_WORDS))
def test_help_answers_with_what_ctia_requires(db: Database, clock: FixedClock, word: str) -> None:
    accepted = _text(db, clock, word.title())
    assert not accepted.for_assistant
    (body,) = _compliance_bodies(db)
    assert body == help_text(SETTINGS)
    assert "Acme Bird Seed" in body
    assert "help@acme.test" in body
    assert "Msg frequency varies" in body
    assert "Msg & data rates may apply" in body
    assert "Reply STOP" in body
    assert _state(db) is ConsentState.UNKNOWN  # HELP changes no consent


def test_help_is_answered_even_while_opted_out(db: Database, clock: FixedClock) -> None:
    _opt_out(db, clock)
    assert not _text(db, clock, "HELP").for_assistant
    assert _compliance_bodies(db) == [help_text(SETTINGS)]
    assert _state(db) is ConsentState.OPTED_OUT


def test_confirmations_are_compliance_texts_from_the_system(
    db: Database, clock: FixedClock
) -> None:
    _text(db, clock, "STOP")
    (item,) = _outbox(db)
    with db.read() as session:
        message = session.get(Message, item.message_id)
    assert (item.purpose, item.priority) == ("compliance", 0)
    assert (message.author, message.direction) == ("system", "out")


def test_the_confirmation_texts_say_how_to_go_back() -> None:
    assert "Reply START" in stop_text(SETTINGS)
    assert "STOP" in start_text(SETTINGS)
    assert "Msg & data rates may apply" in start_text(SETTINGS)
