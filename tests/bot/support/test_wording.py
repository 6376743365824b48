from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from bot.support.wording import day, join, money, on_day, plural
from tests.bot.support.build import NOW, ago


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (NOW, "today"),
        (ago(days=-1), "tomorrow"),
        (ago(days=1), "yesterday"),
        (ago(days=-2), "Wed, Jun 17"),
        (ago(days=5), "Wed, Jun 10"),
    ],
)
def test_day_names_near_days_and_writes_the_others_short(when: datetime, expected: str) -> None:
    assert day(when, NOW, "America/New_York") == expected


def test_day_is_counted_in_the_customers_time_zone() -> None:
    late = datetime(2026, 6, 16, 3, 0, tzinfo=timezone.utc)  # still the 15th in Seattle
    assert day(late, NOW, "America/Los_Angeles") == "today"
    assert day(late, NOW, "Europe/Berlin") == "tomorrow"


def test_day_of_a_calendar_date_is_that_date_wherever_the_customer_is() -> None:
    assert day(date(2026, 6, 25), NOW, "America/Los_Angeles") == "Thu, Jun 25"
    assert day(date(2026, 6, 16), NOW, "America/Los_Angeles") == "tomorrow"


def test_an_unknown_time_zone_falls_back_to_eastern() -> None:
    late = datetime(2026, 6, 16, 3, 0, tzinfo=timezone.utc)  # 11pm on the 15th in New York
    assert day(late, NOW, "Mars/Olympus_Mons") == "today"
    assert day(late, NOW, None) == "today"


def test_on_day_puts_on_before_a_date_only() -> None:
    assert on_day(ago(days=5), NOW) == "on Wed, Jun 10"
    assert on_day(ago(days=1), NOW) == "yesterday"
    assert on_day(NOW, NOW) == "today"


@pytest.mark.parametrize(
    ("items", "expected"),
    [([], ""), (["a"], "a"), (["a", "b"], "a and b"), (["a", "b", "c"], "a, b and c")],
)
def test_join(items: list[str], expected: str) -> None:
    assert join(items) == expected


def test_join_with_or() -> None:
    assert join(("the hoodie", "the tee"), last="or") == "the hoodie or the tee"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("68.00", "$68"), ("68.5", "$68.50"), ("1172.00", "$1,172"), ("0.99", "$0.99")],
)
def test_money(amount: str, expected: str) -> None:
    assert money(Decimal(amount)) == expected


def test_plural() -> None:
    assert (plural(1, "order"), plural(2, "order")) == ("1 order", "2 orders")
