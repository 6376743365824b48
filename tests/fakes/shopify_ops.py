"""The operations the fake Shopify answers, each from the demo store in the test's database.

Searches are read the way the adapter writes them (`name:"#1001"`, `email:"..."`,
`customer_id:1 OR customer_id:2`, `phone:"+1..."`, `(hoodie OR hoody) AND status:active`);
anything else is refused with a GraphQL error, so a change in what the adapter sends shows.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.clock import Clock
from bot.oms.base import NotCancellable, NotReturnable, Order, Product, ReturnLine
from bot.oms.demo import DemoStore
from bot.oms.demo_mapping import to_product
from bot.oms.search import stem
from bot.store import Database
from bot.store.demo_tables import DemoCustomer, DemoOrder, DemoProduct
from tests.fakes.shopify_graphql import (
    candidate_json,
    fulfillment_line_id,
    gid,
    local,
    order_json,
    page,
    product_json,
    return_json,
    split_fulfillment_line_id,
)

CANCEL_REASONS = {"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"}
_QUOTED = r'"((?:[^"\\]|\\.)*)"'


class Refusal(Exception):
    """A request the real API would reject as malformed: answered with a GraphQL error."""


class Jobs(Protocol):
    def new_job(self) -> dict: ...

    def job(self, job_id: str) -> dict: ...


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


class Operations:
    def __init__(self, db: Database, clock: Clock, jobs: Jobs) -> None:
        self.db, self.store, self.jobs = db, DemoStore(db, clock), jobs
        self.handlers = {
            "OrderById": self.order_by_id,
            "Orders": self.orders,
            "Customers": self.customers,
            "Returnables": self.returnables,
            "ReturnRequest": self.return_request,
            "OrderCancel": self.order_cancel,
            "Job": self.job,
            "ProductCandidates": self.product_candidates,
            "ProductDetails": self.product_details,
        }

    # --- orders ---

    def _json(self, order: Order) -> dict:
        with self.db.read() as session:
            customer_id = session.scalar(
                select(DemoOrder.customer_id).where(DemoOrder.id == int(order.id))
            )
        return order_json(order, customer_id)

    def _order(self, value: object) -> Order | None:
        number = local(value) if isinstance(value, str) else None
        return self.store.order_by_id(str(number)) if number else None

    def order_by_id(self, variables: dict) -> dict:
        order = self._order(variables.get("id"))
        return {"order": self._json(order) if order else None}

    def orders(self, variables: dict) -> dict:
        found = self._search_orders(str(variables.get("query", "")))
        found.sort(key=lambda o: (o.created_at, int(o.id)), reverse=True)
        chosen = page(found, int(variables.get("first", 0)), variables.get("after"))
        chosen["nodes"] = [self._json(order) for order in chosen["nodes"]]
        return {"orders": chosen}

    def _search_orders(self, search: str) -> list[Order]:
        if match := re.fullmatch(r'name:"#(\d+)"', search):
            order = self.store.order_by_number(match.group(1))
            return [order] if order else []
        if match := re.fullmatch(rf"email:{_QUOTED}", search):
            return self.store.orders_for_email(_unquote(match.group(1)))
        if re.fullmatch(r"customer_id:\d+( OR customer_id:\d+)*", search):
            ids = [int(i) for i in re.findall(r"\d+", search)]
            with self.db.read() as session:
                query = select(DemoOrder.id).where(DemoOrder.customer_id.in_(ids))
                numbers = list(session.scalars(query))
            return [o for n in numbers if (o := self.store.order_by_id(str(n)))]
        raise Refusal(f"the fake cannot search orders for {search!r}")

    def customers(self, variables: dict) -> dict:
        search = str(variables.get("query", ""))
        match = re.fullmatch(rf"phone:{_QUOTED}", search)
        if match is None:
            raise Refusal(f"the fake cannot search customers for {search!r}")
        with self.db.read() as session:
            rows = session.scalars(
                select(DemoCustomer).where(DemoCustomer.phone == _unquote(match.group(1)))
            ).all()
        nodes = [
            {"id": gid("Customer", row.id), "defaultPhoneNumber": {"phoneNumber": row.phone}}
            for row in rows[: int(variables.get("first", 0))]
        ]
        return {"customers": {"nodes": nodes}}

    # --- returns ---

    def returnables(self, variables: dict) -> dict:
        order = self._order(variables.get("orderId"))
        if order is None:
            return {"order": None, "returnableFulfillments": {"nodes": []}}
        return {"order": self._json(order), "returnableFulfillments": {"nodes": self._left(order)}}

    def _left(self, order: Order) -> list[dict]:
        """What Shopify would take back: every shipped unit not already in a return.

        The demo store knows what is left of delivered, returnable lines; anything else shipped
        (in transit, final sale) Shopify lists whole, and the adapter must leave it out.
        """
        left = {
            (item.fulfillment_id, item.line_item.id): item.quantity
            for item in self.store.returnable_items(order.id)
        }
        final = {line.id for line in order.line_items if line.final_sale}
        found = []
        for shipment in order.fulfillments:
            lines = []
            for part in shipment.items:
                whole = shipment.status != "delivered" or part.line_item_id in final
                units = part.quantity if whole else left.get((shipment.id, part.line_item_id), 0)
                flid = fulfillment_line_id(shipment.id, part.line_item_id)
                fli = {"id": gid("FulfillmentLineItem", flid)}
                fli["lineItem"] = {"id": gid("LineItem", part.line_item_id)}
                if units:
                    lines.append({"quantity": units, "fulfillmentLineItem": fli})
            if lines:
                found.append(
                    {
                        "id": gid("ReturnableFulfillment", shipment.id),
                        "fulfillment": {"id": gid("Fulfillment", shipment.id)},
                        "returnableFulfillmentLineItems": {"nodes": lines},
                    }
                )
        return found

    def return_request(self, variables: dict) -> dict:
        given = variables.get("input")
        if not isinstance(given, dict) or not isinstance(given.get("returnLineItems"), list):
            raise Refusal("Variable $input of type ReturnRequestInput! was provided invalid value")
        order = self._order(given.get("orderId"))
        if order is None:
            return _return_refused(["input", "orderId"], "Order does not exist", "NOT_FOUND")
        parts, notes, units = [], [], Counter()
        shipped = {(f.id, i.line_item_id) for f in order.fulfillments for i in f.items}
        for n, line in enumerate(given["returnLineItems"]):
            flid = local(str(line.get("fulfillmentLineItemId", "")))
            if flid is None or split_fulfillment_line_id(flid) not in shipped:
                field = ["input", "returnLineItems", str(n), "fulfillmentLineItemId"]
                return _return_refused(field, "Fulfillment line item does not exist", "NOT_FOUND")
            note = line.get("customerNote")
            if isinstance(note, str) and len(note) > 300:
                field = ["input", "returnLineItems", str(n), "customerNote"]
                return _return_refused(field, "Customer note is too long", "TOO_LONG")
            parts.append((flid, int(line.get("quantity", 0))))
            notes.append(note)
            units[split_fulfillment_line_id(flid)[1]] += int(line.get("quantity", 0))
        lines = [ReturnLine(line_id, count) for line_id, count in units.items()]
        try:
            created = self.store.create_return(order.id, lines, next(filter(None, notes), ""))
        except NotReturnable as exc:
            return _return_refused(["input", "returnLineItems"], str(exc), "INVALID")
        return {"returnRequest": {"return": return_json(created, order, parts), "userErrors": []}}

    # --- cancelling ---

    def order_cancel(self, variables: dict) -> dict:
        reason = variables.get("reason")
        if reason not in CANCEL_REASONS:
            raise Refusal("Variable $reason of type OrderCancelReason! was provided invalid value")
        if not isinstance(variables.get("refundMethod"), dict):
            raise Refusal("Variable $refundMethod of type OrderCancelRefundMethodInput! is missing")
        if not isinstance(variables.get("restock"), bool):
            raise Refusal("Variable $restock of type Boolean! was provided invalid value")
        number = local(str(variables.get("orderId", "")))
        try:
            self.store.cancel_order(str(number or 0), str(reason).lower())
        except NotCancellable as exc:
            code = "NOT_FOUND" if str(exc).startswith("there is no order") else "INVALID"
            error = {"field": ["orderId"], "message": str(exc), "code": code}
            return {"orderCancel": {"job": None, "orderCancelUserErrors": [error]}}
        return {"orderCancel": {"job": self.jobs.new_job(), "orderCancelUserErrors": []}}

    def job(self, variables: dict) -> dict:
        return {"job": self.jobs.job(str(variables.get("id")))}

    # --- products ---

    def _catalogue(self) -> list[tuple[Product, list[str]]]:
        query = select(DemoProduct).options(selectinload(DemoProduct.variants))
        with self.db.read() as session:
            rows = session.scalars(query).all()
            return [(to_product(row, row.variants), list(row.tags or [])) for row in rows]

    def product_candidates(self, variables: dict) -> dict:
        search = str(variables.get("query", ""))
        if search == "status:active":
            terms: list[str] = []
        elif match := re.fullmatch(r"\(([a-z0-9]+(?: OR [a-z0-9]+)*)\) AND status:active", search):
            terms = match.group(1).split(" OR ")
        else:
            raise Refusal(f"the fake cannot search products for {search!r}")
        scored = [(_hits(p, tags, terms), p, tags) for p, tags in self._catalogue()]
        if terms:
            scored = [entry for entry in scored if entry[0]]
        by_relevance = variables.get("sortKey") == "RELEVANCE"
        scored.sort(key=lambda e: (-e[0] if by_relevance else 0, e[1].title))
        chosen = page(scored, int(variables.get("first", 0)), variables.get("after"))
        chosen["nodes"] = [candidate_json(p, tags) for _, p, tags in chosen["nodes"]]
        return {"products": chosen}

    def product_details(self, variables: dict) -> dict:
        catalogue = {p.id: (p, tags) for p, tags in self._catalogue()}
        wanted = [str(local(i)) for i in variables.get("ids") or []]
        return {"nodes": [product_json(*catalogue[i]) if i in catalogue else None for i in wanted]}


def _hits(product: Product, tags: list[str], terms: list[str]) -> int:
    """Shopify-like matching: a term is found when it is a word of the title, type or tags."""
    text = " ".join([product.title, product.product_type or "", *tags]).lower()
    tokens = set(re.findall(r"[a-z0-9]+", text))
    known = tokens | {stem(t) for t in tokens}
    return sum(term in known for term in terms)


def _return_refused(field: list[str], message: str, code: str) -> dict[str, Any]:
    error = {"field": field, "message": message, "code": code}
    return {"returnRequest": {"return": None, "userErrors": [error]}}
