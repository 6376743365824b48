import pytest

from bot.clock import FixedClock
from bot.consent import (
    ConsentRefused,
    ConsentState,
    consent_state,
    history,
    is_opted_out,
    record_agent_consent,
    record_opt_in,
    record_opt_out,
)
from bot.inbox import customer_for_phone
from bot.store import Database

PHONE = "+12065550101"


def test_a_number_never_asked_is_unknown(db: Database) -> None:
    with db.read() as session:
        assert consent_state(session, PHONE) is ConsentState.UNKNOWN
        assert not is_opted_out(session, PHONE)


def test_the_latest_entry_decides(db: Database, clock: FixedClock) -> None:
    with db.write() as session:
        record_opt_in(session, PHONE, "checkout", disclosure="Text me updates", clock=clock)
        assert consent_state(session, PHONE) is ConsentState.OPTED_IN
        record_opt_out(session, PHONE, "keyword", detail="STOP", clock=clock)
        assert consent_state(session, PHONE) is ConsentState.OPTED_OUT
        assert is_opted_out(session, PHONE)
        record_opt_in(session, PHONE, "keyword", disclosure="You're back", detail="START")
        assert consent_state(session, PHONE) is ConsentState.OPTED_IN


def test_every_entry_is_kept_with_source_time_and_disclosure(
    db: Database, clock: FixedClock
) -> None:
    with db.write() as session:
        customer = customer_for_phone(session, PHONE)
        record_opt_in(session, PHONE, "checkout", disclosure="Text me updates", clock=clock)
        record_opt_out(session, PHONE, "customer_request", detail="please stop", clock=clock)
        record_opt_out(session, PHONE, "keyword", detail="STOP", clock=clock)
    with db.read() as session:
        entries = history(session, PHONE)
    assert [(e.action, e.source) for e in entries] == [
        ("opt_in", "checkout"),
        ("opt_out", "customer_request"),
        ("opt_out", "keyword"),
    ]
    assert entries[0].disclosure == "Text me updates"
    assert all(e.recorded_at == clock.now() for e in entries)
    assert all(e.customer_id == customer.id for e in entries)


def test_consent_belongs_to_the_number(db: Database) -> None:
    with db.write() as session:
        record_opt_out(session, PHONE, "keyword", detail="STOP")
    with db.read() as session:
        assert is_opted_out(session, PHONE)
        assert not is_opted_out(session, "+13055550102")


def test_an_agent_records_consent_given_by_email_with_the_evidence(
    db: Database, clock: FixedClock
) -> None:
    said = "Email of Jun 14 from chloe@example.com: 'yes please text me shipping updates'"
    with db.write() as session:
        record_agent_consent(session, PHONE, "sam@store.example", said, clock=clock)
        (entry,) = history(session, PHONE)
    assert (entry.action, entry.source, entry.disclosure) == ("opt_in", "agent", said)
    assert entry.detail == "recorded by sam@store.example"


def test_an_agent_cannot_undo_a_stop_nor_record_consent_without_evidence(
    db: Database, clock: FixedClock
) -> None:
    with db.write() as session:
        with pytest.raises(ConsentRefused, match="say where and how"):
            record_agent_consent(session, PHONE, "sam@store.example", "  ")
        record_opt_out(session, PHONE, "keyword", detail="STOP", clock=clock)
        with pytest.raises(ConsentRefused, match="must text START"):
            record_agent_consent(session, PHONE, "sam@store.example", "said yes on the phone")
        assert consent_state(session, PHONE) is ConsentState.OPTED_OUT
