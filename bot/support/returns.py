"""Return eligibility: the store's window, final-sale items, what is already back."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.oms.base import LineItem, Order, OrderSystem, ReturnableItem, StorePolicies
from bot.support.wording import join

ALL_WORDS = frozenset({"all", "both", "everything", "every", "whole", "entire"})


@dataclass(frozen=True)
class Refusal:
    item: LineItem
    reason: str  # "is final sale", ...


@dataclass(frozen=True)
class ReturnCheck:
    eligible: tuple[ReturnableItem, ...]
    refused: tuple[Refusal, ...]


def check_return(
    order: Order, returnable: Sequence[ReturnableItem], policies: StorePolicies, now: datetime
) -> ReturnCheck:
    """Which of the order's items can be returned now, and why the others cannot."""
    by_line = {r.line_item.id: r for r in returnable}
    window = timedelta(days=policies.return_window_days)
    eligible, refused = [], []
    for item in order.line_items:
        option = by_line.get(item.id)
        reason = _refusal(order, item, option, window, now, policies.return_window_days)
        if reason:
            refused.append(Refusal(item, reason))
        else:
            eligible.append(option)
    return ReturnCheck(tuple(eligible), tuple(refused))


def _refusal(
    order: Order,
    item: LineItem,
    option: ReturnableItem | None,
    window: timedelta,
    now: datetime,
    days: int,
) -> str | None:
    if item.final_sale:
        return "is final sale"
    if order.is_cancelled:
        return "was cancelled"
    if option is None:
        return _why_not_returnable(order, item)
    if option.delivered_at is None:
        return "hasn't been delivered yet"
    if now - option.delivered_at > window:
        return f"was delivered more than {days} days ago"
    return None


def _why_not_returnable(order: Order, item: LineItem) -> str:
    """The order system offers no units of a line: not sent, not arrived, or already back."""
    packages = [f for f in order.fulfillments if any(i.line_item_id == item.id for i in f.items)]
    if not packages:
        return "hasn't shipped yet"
    if all(f.status != "delivered" for f in packages):
        return "hasn't been delivered yet"
    return "has already been returned"


def choose_items(eligible: Sequence[ReturnableItem], answer: str | None) -> list[ReturnableItem]:
    """The items the customer's answer names ("the hoodie", "both", "all"); empty if none."""
    words = set(re.findall(r"[a-z0-9]+", (answer or "").lower()))
    if not words:
        return []
    if words & ALL_WORDS or (len(eligible) == 1 and words & {"it", "yes", "that", "this"}):
        return list(eligible)
    return [r for r in eligible if _title_words(r.line_item) & _singular(words)]


def _title_words(item: LineItem) -> set[str]:
    """Words naming the item; size letters ("m" from "M / Navy", "i'm") name nothing."""
    text = f"{item.title} {item.variant_title or ''}".lower()
    found = _singular(set(re.findall(r"[a-z0-9]+", text))) - {"the", "and", "of"}
    return {w for w in found if len(w) > 2}


def _singular(words: set[str]) -> set[str]:
    return {w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words}


def item_titles(items: Sequence[ReturnableItem | LineItem]) -> list[str]:
    lines = [i.line_item if isinstance(i, ReturnableItem) else i for i in items]
    return [f"{li.title}{f' ({li.variant_title})' if li.variant_title else ''}" for li in lines]


def partial_note(check: ReturnCheck) -> str | None:
    """When only some items can go back: which can, and why the others cannot."""
    if not (check.eligible and check.refused):
        return None
    refused = join([f"{r.item.title} {r.reason}" for r in check.refused])
    return f"{join(item_titles(check.eligible))} can be returned; {refused}."


def pick_returnable(orders: Sequence[Order]) -> tuple[Order | None, int]:
    """For a return: the newest delivered order (delivered items are what can go back)."""
    delivered = [o for o in orders if any(f.status == "delivered" for f in o.fulfillments)]
    newest = sorted(delivered or orders, key=lambda o: o.created_at, reverse=True)
    return (newest[0] if newest else None), 0


def return_check(oms: OrderSystem, order: Order, now: datetime) -> ReturnCheck:
    """What of `order` can go back now, by the store's own policies."""
    return check_return(order, oms.returnable_items(order.id), oms.policies(), now)
