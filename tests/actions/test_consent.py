"""Opting out in words writes the ledger like STOP does, and confirms once."""

from __future__ import annotations

from dataclasses import replace

from rasa_sdk.executor import CollectingDispatcher

from actions.consent import ActionOptOut
from bot.consent import ConsentState, consent_state
from bot.support.replies import reply
from tests.actions.db_checks import consent_entries
from tests.actions.trackers import AVA, CHLOE, SHELL, make_tracker, texts


async def opt_out(services, domain, sender: str, text: str = "please stop texting me"):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(sender, text, "opt_out")
    events = await ActionOptOut(services).run(dispatcher, tracker, domain)
    return dispatcher, events


async def test_opt_out_in_words_writes_the_ledger(services, db, clock, domain) -> None:
    before = len(consent_entries(db, AVA))
    _, events = await opt_out(services, domain, AVA)
    entries = consent_entries(db, AVA)
    assert len(entries) == before + 1
    latest = entries[-1]
    assert (latest.action, latest.source) == ("opt_out", "customer_request")
    assert latest.detail == "please stop texting me"
    assert latest.recorded_at == clock.now()
    assert latest.customer_id is not None
    with db.read() as session:
        assert consent_state(session, AVA) is ConsentState.OPTED_OUT
    assert events == []


async def test_the_confirmation_is_sent_once_as_compliance(services, domain) -> None:
    dispatcher, _ = await opt_out(services, domain, AVA)
    assert texts(dispatcher) == [reply("opted_out", store_name="Pigeon Supply Co.")]
    (message,) = dispatcher.messages
    assert message["purpose"] == "compliance"


async def test_the_confirmation_names_the_store_from_settings(services, domain) -> None:
    services.settings = replace(services.settings, store_name="Trail & Co")
    dispatcher, _ = await opt_out(services, domain, AVA)
    assert texts(dispatcher)[0].startswith("You're unsubscribed from Trail & Co texts")


async def test_a_customer_who_never_opted_in_is_recorded_too(services, db, domain) -> None:
    await opt_out(services, domain, CHLOE, "dont text me again")
    (entry,) = consent_entries(db, CHLOE)
    assert (entry.action, entry.source) == ("opt_out", "customer_request")


async def test_a_long_message_is_clipped_in_the_ledger(services, db, domain) -> None:
    await opt_out(services, domain, CHLOE, "stop " * 100)
    (entry,) = consent_entries(db, CHLOE)
    assert len(entry.detail) == 200


async def test_the_shell_has_no_number_to_opt_out(services, db, domain) -> None:
    dispatcher, _ = await opt_out(services, domain, SHELL)
    assert consent_entries(db, SHELL) == []
    assert texts(dispatcher) == [reply("opted_out", store_name="Pigeon Supply Co.")]


async def test_a_doubtful_opt_out_asks_first_and_records_nothing(services, db, domain) -> None:
    before = len(consent_entries(db, AVA))
    tracker = make_tracker(AVA, "stop it", "opt_out")
    tracker.latest_message["intent"]["confidence"] = 0.6
    dispatcher = CollectingDispatcher()
    events = await ActionOptOut(services).run(dispatcher, tracker, domain)
    assert texts(dispatcher) == [reply("confirm_opt_out", store_name="Pigeon Supply Co.")]
    assert "purpose" not in dispatcher.messages[0]
    assert events == []
    assert len(consent_entries(db, AVA)) == before
