"""Which order the customer means, and whether they may see it."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot.oms.base import Order
from bot.support.identity import owns_order

# Picks the order a request is most likely about, and how many other open orders there are.
Chooser = Callable[[Sequence[Order]], tuple[Order | None, int]]


def order_number_in(text: str | None) -> str | None:
    """The order number in "#1001", "order 1001", "its 1001 pls"; None when there is none."""
    match = re.search(r"#?\s*(\d{3,10})\b", text or "")
    return match.group(1) if match else None


def may_see(order: Order, phone: str | None, verified_order: str | None) -> bool:
    """The texting number is on the order, or the customer proved it with its email or ZIP."""
    return owns_order(order, phone) or order.id == verified_order
