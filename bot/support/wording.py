"""Small pieces of SMS wording shared by the replies: dates, lists, money."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "America/New_York"


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def day(when: datetime | date, now: datetime, tz: str | None = None) -> str:
    """'today', 'tomorrow', 'yesterday' or 'Thu, Jun 17', in the customer's time zone.

    A calendar date (a restock date) is that day wherever the customer is.
    """
    local = when.astimezone(zone(tz)).date() if isinstance(when, datetime) else when
    today = now.astimezone(zone(tz)).date()
    delta = (local - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if delta == -1:
        return "yesterday"
    return f"{local:%a}, {local:%b} {local.day}"


def on_day(when: datetime, now: datetime, tz: str | None = None) -> str:
    """'today', 'yesterday' or 'on Thu, Jun 17': reads after 'delivered' or 'last scan'."""
    text = day(when, now, tz)
    return text if text in ("today", "tomorrow", "yesterday") else f"on {text}"


def join(items: Sequence[str], last: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def money(amount: Decimal) -> str:
    """$68 or $68.50."""
    return f"${amount:,.0f}" if amount == amount.to_integral_value() else f"${amount:,.2f}"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def with_choices(text: str, buttons: list[dict]) -> str:
    """Buttons as text (SMS and chat show none): the titles are the answers to type back."""
    titles = [str(b.get("title")).strip() for b in buttons if str(b.get("title") or "").strip()]
    if not titles:
        return text
    return f"{text} (Reply: {'; '.join(titles)})"
