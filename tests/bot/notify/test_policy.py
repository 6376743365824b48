"""The notification rules, as plain functions with the clock passed in."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from bot.config import SendingWindow
from bot.consent import ConsentState
from bot.notify import policy
from bot.notify.policy import Known, Recipient, decide, is_stale, kind_for, supersedes
from bot.oms.base import SHIPMENT_STATUSES

WINDOW = SendingWindow(time(8), time(21))
T0 = datetime(2026, 6, 15, 17, 0, tzinfo=timezone.utc)  # 10:00 in Seattle, 13:00 in Miami
AVA = Recipient("+12065550101", ConsentState.OPTED_IN, "America/Los_Angeles", "WA")


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (None, "shipped"),
        ("confirmed", "shipped"),
        ("in_transit", "shipped"),
        ("carrier_picked_up", "shipped"),
        ("out_for_delivery", "out_for_delivery"),
        ("delivered", "delivered"),
        ("attempted_delivery", "exception"),
        ("delayed", "exception"),
        ("failure", "exception"),
        ("ready_for_pickup", "exception"),
    ],
)
def test_each_carrier_status_calls_for_one_kind_of_text(status: str | None, kind: str) -> None:
    assert kind_for(status) == kind


def test_every_status_has_a_stage_and_a_kind() -> None:
    assert set(SHIPMENT_STATUSES) <= set(policy.STAGES)
    assert set(SHIPMENT_STATUSES) <= set(policy.KINDS)


def test_in_transit_after_delivered_is_stale_even_if_it_looks_newer() -> None:
    known = Known("delivered", T0)
    assert is_stale("in_transit", T0 + timedelta(hours=1), known)


def test_an_event_older_than_the_latest_known_is_stale() -> None:
    known = Known("in_transit", T0)
    assert is_stale("out_for_delivery", T0 - timedelta(minutes=1), known)


def test_later_news_in_the_lifecycle_is_not_stale() -> None:
    assert not is_stale("out_for_delivery", T0 + timedelta(hours=1), Known("in_transit", T0))
    assert not is_stale("delivered", T0 + timedelta(hours=1), Known("attempted_delivery", T0))


def test_a_delay_while_in_transit_and_a_new_attempt_after_a_failed_one_are_news() -> None:
    assert not is_stale("delayed", T0 + timedelta(hours=1), Known("in_transit", T0))
    later = T0 + timedelta(days=1)
    assert not is_stale("out_for_delivery", later, Known("attempted_delivery", T0))


def test_the_first_news_of_a_fulfillment_is_never_stale() -> None:
    assert not is_stale("in_transit", T0, None)


def test_a_waiting_shipped_text_is_superseded_by_out_for_delivery() -> None:
    assert supersedes("out_for_delivery", T0 + timedelta(hours=9), "shipped", T0)


def test_older_news_does_not_supersede_a_waiting_text() -> None:
    assert not supersedes("shipped", T0 - timedelta(hours=2), "out_for_delivery", T0)


def test_the_news_a_text_was_made_from_does_not_supersede_it() -> None:
    assert not supersedes("delivered", T0, "delivered", T0)


def test_consented_recipient_in_the_window_is_texted_now() -> None:
    assert decide("shipped", T0, AVA, T0, WINDOW) == policy.Decision("queued", due_at=T0)


@pytest.mark.parametrize(
    ("consent", "reason"),
    [
        (ConsentState.UNKNOWN, "no consent to shipping texts on record"),
        (ConsentState.OPTED_OUT, "the number opted out"),
    ],
)
def test_without_consent_nothing_is_queued_and_the_reason_is_kept(
    consent: ConsentState, reason: str
) -> None:
    chloe = Recipient("+12125550103", consent, "America/New_York", "NY")
    assert decide("shipped", T0, chloe, T0, WINDOW) == policy.Decision("suppressed", reason=reason)


def test_at_night_the_text_waits_for_8am_local_time() -> None:
    night = datetime(2026, 6, 16, 6, 30, tzinfo=timezone.utc)  # 23:30 in Seattle
    decision = decide("shipped", night, AVA, night, WINDOW)
    assert decision.status == "queued"
    assert decision.due_at == datetime(2026, 6, 16, 15, 0, tzinfo=timezone.utc)  # 08:00 PDT


def test_florida_ends_the_day_at_8pm() -> None:
    ben = Recipient("+13055550102", ConsentState.OPTED_IN, "America/New_York", "FL")
    at_830pm = datetime(2026, 6, 16, 0, 30, tzinfo=timezone.utc)  # 20:30 EDT
    decision = decide("delivered", at_830pm, ben, at_830pm, WINDOW)
    assert decision.due_at == datetime(2026, 6, 16, 12, 0, tzinfo=timezone.utc)  # 08:00 EDT
    new_york = Recipient("+12125550103", ConsentState.OPTED_IN, "America/New_York", "NY")
    assert decide("delivered", at_830pm, new_york, at_830pm, WINDOW).due_at == at_830pm


def test_quiet_hours_off_sends_at_any_hour() -> None:
    night = datetime(2026, 6, 16, 6, 30, tzinfo=timezone.utc)
    assert decide("shipped", night, AVA, night, None).due_at == night


def test_old_news_is_not_texted() -> None:
    two_days = T0 + timedelta(hours=49)
    assert decide("shipped", T0, AVA, two_days, WINDOW).status == "suppressed"
    next_morning = T0 + timedelta(hours=13)
    assert decide("out_for_delivery", T0, AVA, next_morning, WINDOW).status == "suppressed"
    assert decide("delivered", T0, AVA, next_morning, WINDOW).status == "queued"
