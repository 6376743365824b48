from datetime import datetime, timedelta, timezone

import pytest

from bot.oms.demo_dates import parse_when

NOW = datetime(2026, 6, 15, 17, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("phrase", "offset"),
    [
        ("today", timedelta(0)),
        ("now", timedelta(0)),
        ("yesterday", timedelta(days=-1)),
        ("tomorrow", timedelta(days=1)),
        ("3 days ago", timedelta(days=-3)),
        ("1 day ago", timedelta(days=-1)),
        ("in 2 days", timedelta(days=2)),
        ("in 10 days", timedelta(days=10)),
        ("2 hours ago", timedelta(hours=-2)),
        ("45 minutes ago", timedelta(minutes=-45)),
        ("in 1 week", timedelta(weeks=1)),
        ("  3  Days Ago ", timedelta(days=-3)),
    ],
)
def test_phrases_are_relative_to_now(phrase: str, offset: timedelta) -> None:
    assert parse_when(phrase, NOW) == NOW + offset


@pytest.mark.parametrize(
    "phrase",
    [
        "",
        "last tuesday",
        "3 days",
        "in 2 days ago",
        "three days ago",
        "-3 days ago",
        "2.5 days ago",
        "3 months ago",
        "2026-06-01",
        "in 99999 days",
    ],
)
def test_anything_else_is_refused_with_the_accepted_forms(phrase: str) -> None:
    with pytest.raises(ValueError, match="is not a date phrase; write 'today'"):
        parse_when(phrase, NOW)
