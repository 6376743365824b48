"""Quiet hours: proactive texts only inside the recipient's local sending window."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.config import SendingWindow
from bot.phone import place_for
from bot.support.wording import zone

# States whose telemarketing laws end the day at 8 pm (REFERENCE.md), and how the phone
# number geocoder names them. Florida's law presumes a Florida area code is a resident.
EARLY_EVENING_STATES = {
    "FL": "Florida",
    "OK": "Oklahoma",
    "MD": "Maryland",
    "WA": "Washington State",
    "CT": "Connecticut",
}
EARLY_END = time(20)


def _ends_early(region: str | None, phone: str | None) -> bool:
    """True for a recipient in an 8 pm state, by address or else by the number's area code."""
    if region:
        return region.upper().removeprefix("US-") in EARLY_EVENING_STATES
    place = place_for(phone) if phone else ""
    code = place.rsplit(", ", 1)[1] if ", " in place else None
    return code in EARLY_EVENING_STATES or place in EARLY_EVENING_STATES.values()


def window_for(
    window: SendingWindow, region: str | None, phone: str | None = None
) -> SendingWindow:
    """The sending window for a recipient in `region` (a US state code) or at `phone`."""
    if _ends_early(region, phone):
        return SendingWindow(window.start, min(window.end, EARLY_END))
    return window


def next_allowed(
    now: datetime,
    window: SendingWindow | None,
    time_zone: str | None,
    region: str | None,
    phone: str | None = None,
) -> datetime | None:
    """None when a proactive text may go now, else the moment the window next opens."""
    if window is None:
        return None
    window = window_for(window, region, phone)
    local = now.astimezone(zone(time_zone))
    if window.start <= local.time() < window.end:
        return None
    opening_day = local.date() if local.time() < window.start else local.date() + timedelta(days=1)
    opening = datetime.combine(opening_day, window.start, local.tzinfo)
    return opening.astimezone(now.tzinfo)
