"""Shopify behind the OrderSystem seam, through the GraphQL Admin API.

Decisions, for a merchant reading along:

- Orders by phone: Shopify's order search has no phone filter, so customers are found by
  `phone:` and their orders by `customer_id:`; an order counts as the texter's when its own
  phone, else its customer's, else its shipping address's, is that number (E.164).
- Ids are the numeric ones webhooks carry ("gid://shopify/Order/123" is "123").
- Final sale: a product tagged `final-sale` cannot be returned.
- Restock dates: a variant's `custom.restock_date` metafield (type date), when it has one.
- Returns: `returnableFulfillments` says what Shopify would take back; Pigeon further keeps
  to delivered packages and leaves final-sale items out, as the demo store does, then asks
  with `returnRequest` (status REQUESTED: the merchant approves it in Shopify).
- Cancelling: `orderCancel` (refund to the original payment, restock, email the customer)
  runs as a job; the order is read back once the job is done, or after a few short waits.
- Policies: Shopify keeps none in a form fit for a text, so they come from a YAML file in
  the demo store's format (`STORE_POLICIES_FILE`, by default data/demo/policies.yml).
- Product search: bot.oms.shopify_products.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.notify.shopify_json import numeric_id, text
from bot.oms import shopify_queries as q
from bot.oms.base import (
    LineItem,
    NotCancellable,
    NotReturnable,
    Order,
    OrderSystemError,
    Product,
    Return,
    ReturnableItem,
    ReturnLine,
    StorePolicies,
)
from bot.oms.ids import parse_id
from bot.oms.rules import check_cancellable, check_returnable, clip, requested_units
from bot.oms.shopify_client import ShopifyGraphQL
from bot.oms.shopify_parse import gid, nodes, to_order, to_return
from bot.oms.shopify_products import DEFAULT_REACH, Reach, search_products
from bot.phone import normalize

log = logging.getLogger(__name__)

CANCEL_WAITS = (0.25, 0.5, 1.0, 2.0)  # seconds between looks at the cancellation job
_CANCEL_REASONS = {"customer", "declined", "fraud", "inventory", "staff", "other"}
_REFUSING_CODES = frozenset({"INVALID", "NOT_FOUND"})  # the order cannot be cancelled


@dataclass(frozen=True)
class _Returnable:
    item: ReturnableItem
    fulfillment_line_id: str  # what returnRequest names


class ShopifyStore:
    """A shop's orders, products and policies; `close()` releases its HTTP session."""

    def __init__(
        self,
        client: ShopifyGraphQL,
        policies: StorePolicies,
        *,
        sleep: Callable[[float], None] = time.sleep,
        reach: Reach = DEFAULT_REACH,
    ) -> None:
        self._client, self._policies, self._sleep = client, policies, sleep
        self._reach = reach

    def close(self) -> None:
        self._client.close()

    def orders_for_phone(self, phone: str) -> list[Order]:
        number = normalize(phone) if isinstance(phone, str) else None
        if not number:
            return []
        data = self._client.query(
            q.CUSTOMERS,
            "Customers",
            {"query": f"phone:{q.search_value(number)}", "first": q.CUSTOMER_LIMIT},
        )
        ids = {
            local
            for customer in nodes(_get(data, "customers"))
            if (local := numeric_id(customer.get("id")))
            and normalize(text(_get(customer, "defaultPhoneNumber").get("phoneNumber"))) == number
        }
        if not ids:
            return []
        found = self._orders(" OR ".join(f"customer_id:{i}" for i in sorted(ids, key=int)))
        return [order for order in found if order.phone == number]

    def orders_for_email(self, email: str) -> list[Order]:
        if not isinstance(email, str) or "@" not in email:
            return []
        wanted = email.strip().lower()
        found = self._orders(f"email:{q.search_value(wanted)}")
        return [order for order in found if (order.email or "").strip().lower() == wanted]

    def order_by_number(self, number: str | int) -> Order | None:
        wanted = parse_id(number, allow_hash=True)
        if wanted is None:
            return None
        found = self._orders(f"name:{q.search_value(f'#{wanted}')}", limit=q.ORDER_PAGE)
        return next((order for order in found if order.number == wanted), None)

    def order_by_id(self, order_id: str) -> Order | None:
        local = numeric_id(order_id)
        if local is None:
            return None
        data = self._client.query(q.ORDER_BY_ID, "OrderById", {"id": gid("Order", local)})
        node = data.get("order")
        return to_order(node) if isinstance(node, dict) else None

    def _orders(self, search: str, limit: int = q.ORDER_LIMIT) -> list[Order]:
        """Orders matching a Shopify search, newest first, a page at a time up to `limit`."""
        found: list[Order] = []
        after = None
        while len(found) < limit:
            variables = {"query": search, "first": q.ORDER_PAGE, "after": after}
            page = _get(self._client.query(q.ORDERS, "Orders", variables), "orders")
            found += [to_order(node) for node in nodes(page)]
            info = page.get("pageInfo") if isinstance(page.get("pageInfo"), dict) else {}
            after = info.get("endCursor")
            if not info.get("hasNextPage") or not after:
                break
        found.sort(key=lambda o: (o.created_at, int(o.id)), reverse=True)
        return found[:limit]

    def returnable_items(self, order_id: str) -> list[ReturnableItem]:
        local = numeric_id(order_id)
        if local is None:
            return []
        order, entries = self._returnables(local)
        return [entry.item for entry in entries] if order else []

    def _returnables(self, local: str) -> tuple[Order | None, list[_Returnable]]:
        """The order and its delivered, not-final-sale units Shopify would take back."""
        data = self._client.query(q.RETURNABLES, "Returnables", {"orderId": gid("Order", local)})
        node = data.get("order")
        if not isinstance(node, dict):
            return None, []
        order = to_order(node)
        shipments = {f.id: f for f in order.fulfillments}
        lines = {line.id: line for line in order.line_items}
        entries = []
        for returnable in nodes(_get(data, "returnableFulfillments")):
            shipment = shipments.get(numeric_id(_get(returnable, "fulfillment").get("id")) or "")
            if shipment is None or shipment.status != "delivered":
                continue
            for part in nodes(returnable.get("returnableFulfillmentLineItems")):
                entry = _entry(part, shipment.id, shipment.delivered_at, lines)
                if entry is not None:
                    entries.append(entry)
        entries.sort(key=lambda e: (int(e.item.fulfillment_id), int(e.item.line_item.id)))
        return order, entries

    def create_return(self, order_id: str, lines: Sequence[ReturnLine], reason: str) -> Return:
        wanted = requested_units(lines, numeric_id)
        local = numeric_id(order_id)
        order, entries = self._returnables(local) if local else (None, [])
        if order is None or local is None:
            raise NotReturnable(f"there is no order with id {order_id!r}")
        available: Counter[str] = Counter()
        for entry in entries:
            available[entry.item.line_item.id] += entry.item.quantity
        line_items = {line.id: line for line in order.line_items}
        check_returnable(order.name, line_items, available, wanted)
        note = (clip(reason, 200) or "").rstrip() or None
        request = _return_input(local, _allocate(entries, wanted), note)
        data = self._client.mutate(q.RETURN_REQUEST, "ReturnRequest", {"input": request})
        payload = _get(data, "returnRequest")
        refusals = _messages(payload.get("userErrors"))
        if refusals:
            raise NotReturnable(f"Shopify refused the return for {order.name}: {refusals}")
        created = payload.get("return")
        if not isinstance(created, dict):
            raise OrderSystemError(f"Shopify answered the return for {order.name} without one")
        return to_return(created, local)

    def cancel_order(self, order_id: str, reason: str) -> Order:
        local = numeric_id(order_id)
        order = self.order_by_id(local) if local else None
        if order is None or local is None:
            raise NotCancellable(f"there is no order with id {order_id!r}")
        check_cancellable(order)
        words = (clip(reason, 64) or "other").lower()
        variables = {
            "orderId": gid("Order", local),
            "reason": (words if words in _CANCEL_REASONS else "other").upper(),
            "staffNote": f"Cancelled by text message (Pigeon): {words}",
            "refundMethod": {"originalPaymentMethodsRefund": True},
            "restock": True,
            "notifyCustomer": True,
        }
        data = self._client.mutate(q.ORDER_CANCEL, "OrderCancel", variables)
        payload = _get(data, "orderCancel")
        _raise_cancel_errors(payload.get("orderCancelUserErrors"), order.name)
        self._await_job(_get(payload, "job"))
        cancelled = self.order_by_id(local)
        if cancelled is None:
            raise OrderSystemError(f"order {order.name} vanished while being cancelled")
        if not cancelled.is_cancelled:
            log.warning("Shopify accepted cancelling %s; it is still being processed", order.name)
        return cancelled

    def _await_job(self, job: dict) -> None:
        """Wait (briefly) for Shopify's cancellation job; the order is read back either way."""
        for wait in CANCEL_WAITS:
            if not job.get("id") or job.get("done") is not False:
                return
            self._sleep(wait)
            job = _get(self._client.query(q.JOB, "Job", {"id": job["id"]}), "job")

    def search_products(
        self, query: str, *, size: str | None = None, color: str | None = None, limit: int = 5
    ) -> list[Product]:
        return search_products(
            self._client, query, size=size, color=color, limit=limit, reach=self._reach
        )

    def policies(self) -> StorePolicies:
        return self._policies


def _get(data: dict, key: str) -> dict:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _entry(
    part: dict, shipment_id: str, delivered: datetime | None, lines: dict[str, LineItem]
) -> _Returnable | None:
    """One returnable line of a delivered package, unless it is final sale or nothing is left."""
    shipped = _get(part, "fulfillmentLineItem")
    flid = numeric_id(shipped.get("id"))
    line = lines.get(numeric_id(_get(shipped, "lineItem").get("id")) or "")
    quantity = part.get("quantity")
    if flid is None or line is None or line.final_sale or not isinstance(quantity, int):
        return None
    if isinstance(quantity, bool) or quantity < 1:
        return None
    return _Returnable(ReturnableItem(line, quantity, shipment_id, delivered), flid)


def _allocate(entries: list[_Returnable], wanted: dict[str, int]) -> list[tuple[str, int]]:
    """Spread each line's units over its packages, earliest package first."""
    left = dict(wanted)
    parts = []
    for entry in entries:
        line_id = entry.item.line_item.id
        take = min(left.get(line_id, 0), entry.item.quantity)
        if take:
            parts.append((entry.fulfillment_line_id, take))
            left[line_id] -= take
    return parts


def _return_input(local: str, parts: list[tuple[str, int]], note: str | None) -> dict:
    """ReturnRequestInput: the customer's reason goes in each line's note (max 300 chars)."""
    lines = [
        {"fulfillmentLineItemId": gid("FulfillmentLineItem", part), "quantity": units}
        | ({"customerNote": note} if note else {})
        for part, units in parts
    ]
    return {"orderId": gid("Order", local), "returnLineItems": lines}


def _messages(errors: object) -> str:
    found = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    return "; ".join(" ".join(str(e.get("message") or "refused").split()) for e in found)


def _raise_cancel_errors(errors: object, name: str) -> None:
    found = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    if not found:
        return
    message = f"Shopify refused to cancel {name}: {_messages(found)}"
    if all(e.get("code") in _REFUSING_CODES for e in found):
        raise NotCancellable(message)
    raise OrderSystemError(message)
