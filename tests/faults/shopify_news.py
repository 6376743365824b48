"""Shopify's side of a fault run: signed `fulfillment_events/create` deliveries, retried as-is.

A delivery keeps its webhook id and body across retries, as Shopify's do; the carrier's
time (`happened_at`) is chosen by the test, so news can arrive out of order.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import aiohttp

from bot.clock import SystemClock
from bot.desk.shopify_webhooks import PATH
from bot.notify.payloads import fulfillment_event_payload, webhook_headers
from bot.oms.demo import DemoStore
from bot.oms.demo_events import record_scan
from bot.store import Database

TOPIC = "fulfillment_events/create"


@dataclass(frozen=True)
class Delivery:
    """One webhook as Shopify sends it, and sends again on every retry."""

    webhook_id: str
    status: str
    body: bytes
    headers: dict[str, str]


def news(
    db: Database, order_number: str, status: str, happened_at: datetime, secret: str
) -> Delivery:
    """The carrier's `status` for the order's latest package, signed with `secret`.

    An order not yet shipped is shipped first in the demo store (as simulate-shipment does).
    """
    clock = SystemClock()
    order = DemoStore(db, clock).order_by_id(order_number)
    if order is None:
        raise LookupError(f"no demo order {order_number}")
    if not order.fulfillments:
        record_scan(db, order_number, "label_printed", clock)
        order = DemoStore(db, clock).order_by_id(order_number)
    fulfillment = order.fulfillments[-1]
    payload = fulfillment_event_payload(
        order,
        fulfillment,
        status,
        happened_at,
        event_id=secrets.randbelow(10**12) + 1,
        estimated_delivery_at=fulfillment.estimated_delivery_at,
    )
    body = json.dumps(payload).encode()
    webhook_id = str(uuid.uuid4())
    headers = webhook_headers(TOPIC, body, secret, webhook_id=webhook_id, triggered_at=happened_at)
    return Delivery(webhook_id, status, body, headers)


async def deliver(desk_url: str, delivery: Delivery) -> int:
    """POST the delivery to the desk; its answer's status code."""
    timeout = aiohttp.ClientTimeout(total=30)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(desk_url + PATH, data=delivery.body, headers=delivery.headers) as answer,
    ):
        return answer.status
