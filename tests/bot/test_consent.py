from bot.clock import FixedClock
from bot.consent import (
    ConsentState,
    consent_state,
    history,
    is_opted_out,
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
