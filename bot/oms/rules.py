"""Refusals every store words the same way: what can be cancelled, which units can be returned.

The demo store checks its rows and the Shopify adapter its dataclasses; both have the fields
used here, so a customer hears the same reason whichever store answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol, TypeVar

from bot.oms.base import NotCancellable, NotReturnable, ReturnLine

K = TypeVar("K")


class _Line(Protocol):
    @property
    def title(self) -> str: ...

    @property
    def final_sale(self) -> bool: ...


class _Part(Protocol):
    @property
    def quantity(self) -> int: ...


class _Shipment(Protocol):
    @property
    def items(self) -> Iterable[_Part]: ...


class _Order(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def cancelled_at(self) -> object: ...

    @property
    def fulfillments(self) -> Iterable[_Shipment]: ...


def clip(text: object, limit: int) -> str | None:
    """Free text with its spaces tidied and cut to `limit`, or None when there is none."""
    cleaned = " ".join(text.split()) if isinstance(text, str) else ""
    return cleaned[:limit] or None


def check_cancellable(order: _Order) -> None:
    """NotCancellable unless the order is open and nothing of it has shipped."""
    if order.cancelled_at is not None:
        raise NotCancellable(f"order {order.name} is already cancelled")
    if any(item.quantity > 0 for f in order.fulfillments for item in f.items):
        raise NotCancellable(f"order {order.name} has already shipped, in part or in full")


def requested_units(
    lines: Sequence[ReturnLine], parse: Callable[[object], K | None]
) -> dict[K, int]:
    """Units asked for per line item id (as `parse` reads ids); NotReturnable when malformed."""
    wanted: Counter[K] = Counter()
    for line in lines or ():
        line_id = parse(getattr(line, "line_item_id", None))
        quantity = getattr(line, "quantity", None)
        if line_id is None:
            raise NotReturnable(f"unknown line item {getattr(line, 'line_item_id', line)!r}")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise NotReturnable(f"quantity {quantity!r} for line item {line_id} is not 1 or more")
        wanted[line_id] += quantity
    if not wanted:
        raise NotReturnable("no items were given to return")
    return dict(wanted)


def check_returnable(
    order_name: str,
    lines: Mapping[K, _Line],
    available: Mapping[K, int],
    wanted: Mapping[K, int],
) -> None:
    """NotReturnable unless every wanted unit is of the order, not final sale, and available."""
    for line_id, quantity in wanted.items():
        line = lines.get(line_id)
        if line is None:
            raise NotReturnable(f"line item {line_id} is not part of order {order_name}")
        if line.final_sale:
            raise NotReturnable(f"{line.title} in order {order_name} is final sale")
        left = available.get(line_id, 0)
        if quantity > left:
            raise NotReturnable(
                f"{left} of {line.title} in order {order_name} can be returned"
                f" (not delivered yet or already returned), not {quantity}"
            )
