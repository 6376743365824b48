"""Dates in the demo files are phrases ("3 days ago"), so the demo never goes stale."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

PHRASE_HELP = "'today', 'yesterday', 'tomorrow', '3 days ago', 'in 2 days' or '5 hours ago'"

_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
_WORDS = {"now": 0, "today": 0, "yesterday": -86400, "tomorrow": 86400}
_AGO = re.compile(r"(\d{1,4}) (minute|hour|day|week)s? ago")
_IN = re.compile(r"in (\d{1,4}) (minute|hour|day|week)s?")


def parse_when(phrase: str, now: datetime) -> datetime:
    """The moment `phrase` names relative to `now`; ValueError if it is not one of PHRASE_HELP."""
    text = " ".join(phrase.split()).lower() if isinstance(phrase, str) else ""
    if text in _WORDS:
        return now + timedelta(seconds=_WORDS[text])
    if match := _AGO.fullmatch(text):
        return now - _span(match)
    if match := _IN.fullmatch(text):
        return now + _span(match)
    raise ValueError(f"{phrase!r} is not a date phrase; write {PHRASE_HELP}")


def _span(match: re.Match[str]) -> timedelta:
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
