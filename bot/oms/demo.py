"""The embedded order system: the demo store's tables behind the OrderSystem seam."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.clock import Clock, SystemClock
from bot.oms.base import (
    NotCancellable,
    NotReturnable,
    Order,
    Product,
    Return,
    ReturnableItem,
    ReturnLine,
    StorePolicies,
)
from bot.oms.demo_mapping import to_line_item, to_order, to_policies, to_product, to_return
from bot.oms.ids import parse_id
from bot.oms.rules import check_cancellable, check_returnable, clip, requested_units
from bot.oms.search import matching_variants, score, words
from bot.phone import normalize
from bot.store import Database
from bot.store.demo_tables import (
    DemoFulfillment,
    DemoOrder,
    DemoPolicy,
    DemoProduct,
    DemoReturn,
    DemoReturnItem,
)

_VOID_RETURNS = frozenset({"cancelled", "declined"})  # their units can be returned again
# What cancelling does to the payment, as Shopify does it: money taken is refunded.
_CANCELLED_PAYMENT = {
    "paid": "refunded",
    "partially_refunded": "refunded",
    "authorized": "voided",
    "pending": "voided",
}


def _order_options() -> tuple:
    fulfillments = selectinload(DemoOrder.fulfillments)
    return (
        selectinload(DemoOrder.customer),
        selectinload(DemoOrder.line_items),
        fulfillments.selectinload(DemoFulfillment.items),
        fulfillments.selectinload(DemoFulfillment.events),
        selectinload(DemoOrder.returns).selectinload(DemoReturn.items),
    )


class DemoStore:
    """The demo store: orders, products and policies seeded from data/demo/."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self._db = db
        self._clock = clock or SystemClock()

    def orders_for_phone(self, phone: str) -> list[Order]:
        number = normalize(phone) if isinstance(phone, str) else None
        return self._orders(DemoOrder.phone == number) if number else []

    def orders_for_email(self, email: str) -> list[Order]:
        if not isinstance(email, str) or "@" not in email:
            return []
        return self._orders(func.lower(DemoOrder.email) == email.strip().lower())

    def order_by_number(self, number: str | int) -> Order | None:
        return self._order(parse_id(number, allow_hash=True))

    def order_by_id(self, order_id: str) -> Order | None:
        return self._order(parse_id(order_id))

    def _orders(self, condition) -> list[Order]:
        query = select(DemoOrder).where(condition).options(*_order_options())
        query = query.order_by(DemoOrder.created_at.desc(), DemoOrder.id.desc())
        with self._db.read() as session:
            return [to_order(row) for row in session.scalars(query)]

    def _order(self, order_id: int | None) -> Order | None:
        with self._db.read() as session:
            row = _load(session, order_id)
            return to_order(row) if row else None

    def returnable_items(self, order_id: str) -> list[ReturnableItem]:
        with self._db.read() as session:
            row = _load(session, parse_id(order_id))
            return _returnable(row) if row else []

    def create_return(self, order_id: str, lines: Sequence[ReturnLine], reason: str) -> Return:
        wanted = requested_units(lines, parse_id)
        with self._db.write() as session:
            order = _load(session, parse_id(order_id))
            if order is None:
                raise NotReturnable(f"there is no order with id {order_id!r}")
            _check_returnable(order, wanted)
            row = DemoReturn(order_id=order.id, status="requested", created_at=self._clock.now())
            row.reason = clip(reason, 200)
            row.items = [DemoReturnItem(line_item_id=k, quantity=v) for k, v in wanted.items()]
            session.add(row)
            session.flush()
            return to_return(row)

    def cancel_order(self, order_id: str, reason: str) -> Order:
        with self._db.write() as session:
            order = _load(session, parse_id(order_id))
            if order is None:
                raise NotCancellable(f"there is no order with id {order_id!r}")
            check_cancellable(order)
            order.cancelled_at = self._clock.now()
            order.cancel_reason = clip(reason, 64) or "other"
            payment = order.financial_status
            order.financial_status = _CANCELLED_PAYMENT.get(payment, payment)
            session.flush()
            return to_order(order)

    def search_products(
        self, query: str, *, size: str | None = None, color: str | None = None, limit: int = 5
    ) -> list[Product]:
        wanted = words(query) if isinstance(query, str) else set()
        if not wanted or limit < 1:
            return []
        statement = select(DemoProduct).options(selectinload(DemoProduct.variants))
        with self._db.read() as session:
            scored = [(score(p, wanted), p) for p in session.scalars(statement)]
            found = [
                to_product(p, variants)
                for points, p in sorted(scored, key=lambda pair: (-pair[0], pair[1].title))
                if points > 0 and (variants := matching_variants(p.variants, size, color))
            ]
        return found[:limit]

    def policies(self) -> StorePolicies:
        with self._db.read() as session:
            return to_policies({p.key: p.value for p in session.scalars(select(DemoPolicy))})


def _load(session: Session, order_id: int | None) -> DemoOrder | None:
    if order_id is None:
        return None
    query = select(DemoOrder).where(DemoOrder.id == order_id).options(*_order_options())
    return session.scalars(query).first()


def _returned_units(order: DemoOrder) -> Counter[int]:
    returned: Counter[int] = Counter()
    for row in order.returns:
        if row.status not in _VOID_RETURNS:
            for item in row.items:
                returned[item.line_item_id] += item.quantity
    return returned


def _returnable(order: DemoOrder) -> list[ReturnableItem]:
    """Delivered units that are not final sale and not already in a return."""
    lines = {line.id: line for line in order.line_items}
    returned = _returned_units(order)
    result = []
    for fulfillment in sorted(order.fulfillments, key=lambda f: f.id):
        if fulfillment.shipment_status != "delivered":
            continue
        for item in sorted(fulfillment.items, key=lambda i: i.line_item_id):
            line = lines[item.line_item_id]
            taken = min(returned[line.id], item.quantity)
            returned[line.id] -= taken
            if not line.final_sale and item.quantity > taken:
                left = item.quantity - taken
                fid, delivered = str(fulfillment.id), fulfillment.delivered_at
                result.append(ReturnableItem(to_line_item(line), left, fid, delivered))
    return result


def _check_returnable(order: DemoOrder, wanted: dict[int, int]) -> None:
    available: Counter[int] = Counter()
    for item in _returnable(order):
        available[int(item.line_item.id)] += item.quantity
    check_returnable(order.name, {line.id: line for line in order.line_items}, available, wanted)
