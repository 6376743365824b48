"""The inbound text: Twilio's form parsed, stored once, and sorted before the assistant sees it."""

import pytest
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message as NluMessage
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.config import Settings
from bot.consent import record_opt_out
from bot.sms.inbound import (
    BadInbound,
    accept,
    accept_many,
    assistant_text,
    is_unanswered,
    mark_many,
    parse_form,
)
from bot.sms.simulator import SIMULATOR_ACCOUNT_SID
from bot.store import Database
from bot.store.models import Customer, Message, OutboxItem
from tests.fakes.twilio import inbound_sms

PHONE = "+12065550101"
STORE = "+15005550006"
SETTINGS = Settings(twilio_auth_token="t" * 32)


def _form(body: str | None = "hello", **kw) -> dict[str, str]:
    return inbound_sms(SIMULATOR_ACCOUNT_SID, PHONE, STORE, body, **kw)


def _message(db: Database, message_id: int) -> Message:
    with db.read() as session:
        return session.get(Message, message_id)


def _count(db: Database, model) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


# --- parse_form ---


def test_parse_form_reads_twilios_fields() -> None:
    form = _form("where is my order?", message_sid="SM" + "a" * 32)
    sms = parse_form(form)
    assert sms.sid == "SM" + "a" * 32
    assert (sms.account_sid, sms.from_phone, sms.to) == (SIMULATOR_ACCOUNT_SID, PHONE, STORE)
    assert sms.body == "where is my order?"
    assert sms.media == ()


def test_unknown_fields_are_ignored() -> None:
    form = _form() | {"FromCity": "SEATTLE", "SomethingTwilioAddsLater": "x", "OptOutType": ""}
    assert parse_form(form).body == "hello"


@pytest.mark.parametrize("alias", ["SmsMessageSid", "SmsSid"])
def test_older_sid_aliases_are_read(alias: str) -> None:
    form = _form()
    for key in ("MessageSid", "SmsMessageSid", "SmsSid"):
        form.pop(key)
    form[alias] = "SMold"
    assert parse_form(form).sid == "SMold"


def test_a_missing_message_sid_is_refused() -> None:
    form = _form()
    for key in ("MessageSid", "SmsMessageSid", "SmsSid"):
        form.pop(key)
    with pytest.raises(BadInbound, match="MessageSid"):
        parse_form(form)


@pytest.mark.parametrize("sender", [None, "", "not a number"])
def test_a_missing_or_bad_from_is_refused(sender: str | None) -> None:
    form = _form()
    form.pop("From")
    if sender is not None:
        form["From"] = sender
    with pytest.raises(BadInbound, match="From"):
        parse_form(form)


def test_a_picture_only_mms_has_an_empty_body_and_its_media() -> None:
    media = {"https://api.twilio.com/m/1": "image/jpeg", "https://api.twilio.com/m/2": "image/png"}
    sms = parse_form(_form(None, media=media))
    assert sms.body == ""
    assert sms.media == (
        {"url": "https://api.twilio.com/m/1", "content_type": "image/jpeg"},
        {"url": "https://api.twilio.com/m/2", "content_type": "image/png"},
    )


def test_a_bad_num_media_is_refused() -> None:
    with pytest.raises(BadInbound, match="NumMedia"):
        parse_form(_form() | {"NumMedia": "lots"})


# --- accept ---


def test_a_text_is_stored_and_goes_to_the_assistant(db: Database, clock: FixedClock) -> None:
    accepted = accept(db, parse_form(_form("hi")), SETTINGS, clock)
    assert accepted.for_assistant
    message = _message(db, accepted.stored.message_id)
    assert (message.direction, message.body, message.status) == ("in", "hi", "received")
    assert is_unanswered(db, message.id)


def test_a_repeated_sid_is_stored_once_and_not_for_the_assistant(
    db: Database, clock: FixedClock
) -> None:
    form = _form("hi")
    first = accept(db, parse_form(form), SETTINGS, clock)
    again = accept(db, parse_form(form), SETTINGS, clock)
    assert first.for_assistant
    assert again.stored.duplicate
    assert not again.for_assistant
    assert _count(db, Message) == 1


def test_a_keyword_is_handled_here_not_by_the_assistant(db: Database, clock: FixedClock) -> None:
    accepted = accept(db, parse_form(_form("HELP")), SETTINGS, clock)
    assert not accepted.for_assistant
    assert _message(db, accepted.stored.message_id).status == "keyword"
    assert _count(db, OutboxItem) == 1


def test_an_opted_out_numbers_text_is_held(db: Database, clock: FixedClock) -> None:
    with db.write() as session:
        record_opt_out(session, PHONE, "keyword", clock=clock)
    accepted = accept(db, parse_form(_form("are you there?")), SETTINGS, clock)
    assert not accepted.for_assistant
    assert _message(db, accepted.stored.message_id).status == "held"
    assert _count(db, OutboxItem) == 0


def test_mms_media_is_stored_on_the_message(db: Database, clock: FixedClock) -> None:
    form = _form(None, media={"https://api.twilio.com/m/1": "image/jpeg"})
    accepted = accept(db, parse_form(form), SETTINGS, clock)
    message = _message(db, accepted.stored.message_id)
    assert message.media == [{"url": "https://api.twilio.com/m/1", "content_type": "image/jpeg"}]
    assert accepted.for_assistant


def test_a_first_text_creates_the_customer_with_a_time_zone(
    db: Database, clock: FixedClock
) -> None:
    accept(db, parse_form(_form()), SETTINGS, clock)
    with db.read() as session:
        customer = session.execute(select(Customer)).scalar_one()
    assert (customer.phone, customer.time_zone) == (PHONE, "America/Los_Angeles")


def test_marking_records_success_or_a_visible_failure(db: Database, clock: FixedClock) -> None:
    ok = accept(db, parse_form(_form("one")), SETTINGS, clock).stored.message_id
    bad = accept(db, parse_form(_form("two")), SETTINGS, clock).stored.message_id
    mark_many(db, [(ok, None)])
    mark_many(db, [(bad, "assistant failed: RuntimeError")])
    assert (_message(db, ok).status, _message(db, ok).error_message) == ("handled", None)
    assert _message(db, bad).status == "failed"
    assert _message(db, bad).error_message == "assistant failed: RuntimeError"
    assert not is_unanswered(db, ok)
    assert not is_unanswered(db, bad)


# --- what the assistant is given ---


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/greet", "greet"),
        (' /order_status{"order_id": "1001"}', 'order_status{"order_id": "1001"}'),
        ("//restart", "restart"),
        ("/ /stop_all", "stop_all"),
        ("where is 1001/1002?", "where is 1001/1002?"),
        ("", ""),
    ],
)
def test_a_leading_slash_never_reaches_the_assistant(body: str, expected: str) -> None:
    assert assistant_text(body) == expected


@pytest.mark.parametrize("body", ["/greet", "  /affirm", '/inform{"email": "x@y.z"}'])
def test_rasa_reads_no_intent_out_of_what_the_assistant_is_given(body: str) -> None:
    # YAMLStoryReader.unpack_regex_message is where Rasa 3.6 reads "/intent{...}" from a text.
    text = assistant_text(body)
    unpacked = YAMLStoryReader.unpack_regex_message(NluMessage({TEXT: text}))
    assert unpacked.get(INTENT) is None
    # Rasa itself would have read an intent from the raw body: the check above can fail.
    assert YAMLStoryReader.unpack_regex_message(NluMessage({TEXT: body})).get(INTENT)


# --- accept_many, mark_many: a burst's texts share a transaction ---


def test_a_group_of_texts_is_sorted_like_one_at_a_time(db: Database, clock: FixedClock) -> None:
    texts = [parse_form(_form(body)) for body in ("hi", "HELP", "hi again")]
    texts[2] = parse_form(inbound_sms(SIMULATOR_ACCOUNT_SID, "+12065550102", STORE, "hi again"))
    accepted = accept_many(db, [(sms, None) for sms in texts], SETTINGS, clock)
    assert [a.for_assistant for a in accepted] == [True, False, True]
    assert len({a.stored.conversation_id for a in accepted}) == 2  # two numbers, two threads
    assert _message(db, accepted[1].stored.message_id).status == "keyword"


def test_one_bad_text_in_a_group_does_not_hold_back_the_others(
    db: Database, clock: FixedClock
) -> None:
    good, bad = parse_form(_form("hi")), parse_form(_form("no receipt"))
    results = accept_many(db, [(good, None), (bad, 999_999)], SETTINGS, clock)
    assert results[0].for_assistant
    assert _message(db, results[0].stored.message_id).body == "hi"
    assert isinstance(results[1], Exception)
    assert _count(db, Message) == 1  # the failed text left nothing behind


def test_a_group_of_outcomes_is_recorded(db: Database, clock: FixedClock) -> None:
    ids = [accept(db, parse_form(_form(b)), SETTINGS, clock).stored.message_id for b in "ab"]
    mark_many(db, [(ids[0], None), (ids[1], "assistant failed: Timeout")])
    assert _message(db, ids[0]).status == "handled"
    failed = _message(db, ids[1])
    assert (failed.status, failed.error_message) == ("failed", "assistant failed: Timeout")
