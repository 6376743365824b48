"""Quiet hours: proactive texts only between 8:00 and 21:00 (20:00 in five states), locally."""

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.config import SendingWindow
from bot.sms.quiet_hours import next_allowed, window_for

WINDOW = SendingWindow(time(8), time(21))
NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def _at(hour: int, minute: int = 0, tz: ZoneInfo = NEW_YORK, day: int = 15) -> datetime:
    """A UTC instant that is `hour:minute` local time on June `day`, 2026."""
    return datetime(2026, 6, day, hour, minute, tzinfo=tz).astimezone(timezone.utc)


def test_no_window_means_always_allowed() -> None:
    assert next_allowed(_at(3), None, "America/New_York", None) is None


@pytest.mark.parametrize(("hour", "minute"), [(8, 0), (12, 30), (20, 59)])
def test_inside_the_window_a_text_may_go_now(hour: int, minute: int) -> None:
    assert next_allowed(_at(hour, minute), WINDOW, "America/New_York", "NY") is None


def test_before_the_window_it_waits_for_eight_the_same_morning() -> None:
    opening = next_allowed(_at(5, 30), WINDOW, "America/New_York", "NY")
    assert opening == _at(8)
    assert opening.tzinfo is not None


@pytest.mark.parametrize(("hour", "minute"), [(21, 0), (23, 45)])
def test_after_the_window_it_waits_for_eight_the_next_morning(hour: int, minute: int) -> None:
    assert next_allowed(_at(hour, minute), WINDOW, "America/New_York", "NY") == _at(8, day=16)


def test_the_window_is_the_recipients_local_time() -> None:
    now = _at(22)  # 22:00 in New York is 19:00 in Los Angeles
    assert next_allowed(now, WINDOW, "America/Los_Angeles", "CA") is None
    assert next_allowed(now, WINDOW, "America/New_York", "NY") == _at(8, day=16)
    early = _at(9)  # 9:00 in New York is 6:00 in Los Angeles
    assert next_allowed(early, WINDOW, "America/Los_Angeles", "CA") == _at(8, tz=LOS_ANGELES)


def test_an_unknown_zone_falls_back_to_eastern_time() -> None:
    assert next_allowed(_at(23), WINDOW, None, None) == _at(8, day=16)
    assert next_allowed(_at(23), WINDOW, "Not/AZone", None) == _at(8, day=16)


@pytest.mark.parametrize("region", ["FL", "OK", "MD", "WA", "CT", "fl", "US-FL"])
def test_five_states_end_at_eight_pm(region: str) -> None:
    assert window_for(WINDOW, region) == SendingWindow(time(8), time(20))
    assert next_allowed(_at(20, 30), WINDOW, "America/New_York", region) == _at(8, day=16)
    assert next_allowed(_at(19, 59), WINDOW, "America/New_York", region) is None


def test_other_states_keep_nine_pm() -> None:
    assert window_for(WINDOW, "NY") == WINDOW
    assert next_allowed(_at(20, 30), WINDOW, "America/New_York", "NY") is None


def test_a_narrower_configured_window_is_kept_in_early_states() -> None:
    narrow = SendingWindow(time(9), time(18))
    assert window_for(narrow, "FL") == narrow


@pytest.mark.parametrize(
    "phone",
    ["+13055550101", "+13052223333", "+14055550101", "+14105550101", "+12064441234"],
)
def test_without_an_address_the_area_code_decides_the_state(phone: str) -> None:
    # Florida, Miami FL, Oklahoma, Maryland, Washington: an SMS-only customer has no region.
    assert window_for(WINDOW, None, phone) == SendingWindow(time(8), time(20))
    assert next_allowed(_at(20, 30), WINDOW, "America/New_York", None, phone) == _at(8, day=16)


@pytest.mark.parametrize("phone", ["+12125550101", "+14155550101", "+18005550101", "+447700900123"])
def test_other_area_codes_keep_nine_pm(phone: str) -> None:
    assert window_for(WINDOW, None, phone) == WINDOW


def test_a_known_address_outweighs_the_area_code() -> None:
    assert window_for(WINDOW, "NY", "+13055550101") == WINDOW
    assert window_for(WINDOW, "FL", "+12125550101") == SendingWindow(time(8), time(20))
