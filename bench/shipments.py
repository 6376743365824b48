"""A day and a half of a store's shipping news, as the signed webhooks Shopify would send.

The bench store is the demo store (data/demo/) plus bench orders for its customers, one
package each, whose carrier scans are already recorded, as Shopify's own order would be by
the time the desk looks it up. Each package's story is told on every topic Shopify uses:
fulfillments/create and orders/fulfilled when it ships, then fulfillment_events/create and
fulfillments/update for each scan; a few orders are cancelled before shipping. Deliveries
go out in the order the news happened, but some arrive after newer news of their package,
and some are sent twice with the same X-Shopify-Webhook-Id, as Shopify's retries are.
"""

from __future__ import annotations

import json
import random
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from bot.notify.payloads import (
    fulfillment_event_payload,
    fulfillment_payload,
    order_payload,
    webhook_headers,
)
from bot.oms.base import Order

FIRST_NUMBER = 5001
CARRIERS = ("UPS", "USPS", "FedEx", "DHL")
SKU = "PSC-BEAN-RST"
CANCEL_EVERY = 50  # one bench order in 50 is cancelled before it ships
LATE_SHARE = 0.10  # packages with one delivery arriving after newer news
RETRY_SHARE = 0.04  # deliveries Shopify sends again with the same webhook id
# A package's scans after its label, with weights; when each happens is drawn from WHEN.
STORIES = (
    (70, ("in_transit", "out_for_delivery", "delivered")),
    (12, ("in_transit", "out_for_delivery", "attempted_delivery", "delivered")),
    (10, ("in_transit", "delayed", "out_for_delivery", "delivered")),
    (8, ("in_transit",)),
)
# Minutes before the store is seeded: ordered so that every story runs oldest first, and
# recent enough that no text is too old to send (out for delivery: 12 h).
LABEL = (24 * 60, 34 * 60)
WHEN = {
    "in_transit": (14 * 60, 20 * 60),
    "delayed": (11 * 60, 13 * 60),
    "out_for_delivery": (4 * 60, 9 * 60),
    "attempted_delivery": (2 * 60, 3 * 60),
    "delivered": (10, 100),
}


@dataclass(frozen=True)
class News:
    """One shipment update a delivery carries: what the desk should place on the package."""

    fulfillment_id: str
    status: str | None
    happened_at: datetime


@dataclass(frozen=True)
class Delivery:
    webhook_id: str
    topic: str
    body: bytes
    headers: dict[str, str] = field(repr=False)
    news: tuple[News, ...]
    key: datetime  # when Shopify sends it, on the story's clock
    retry: bool = False  # the same webhook id as an earlier delivery
    late: bool = False  # sent after newer news of its package


def deliveries_per_story(scans: int) -> int:
    """create + orders/fulfilled, then an event and an update for the label and each scan."""
    return 2 + 2 * (1 + scans)


def write_store(target: Path, demo: Path, total: int, rng: random.Random) -> list[int]:
    """The demo files plus enough bench orders for `total` deliveries; their order numbers."""
    shutil.copytree(demo, target)
    customers = [
        c["email"] for c in yaml.safe_load((demo / "customers.yml").read_text())["customers"]
    ]
    orders_file = target / "orders.yml"
    data = yaml.safe_load(orders_file.read_text())
    numbers, count = [], 0
    while count < total * (1 - RETRY_SHARE):
        number = FIRST_NUMBER + len(numbers)
        email = customers[len(numbers) % len(customers)]
        if len(numbers) % CANCEL_EVERY == CANCEL_EVERY - 1:
            data["orders"].append(_cancelled(number, email, rng))
            count += 1
        else:
            order, scans = _shipped(number, email, rng)
            data["orders"].append(order)
            count += deliveries_per_story(scans)
        numbers.append(number)
    orders_file.write_text(yaml.safe_dump(data, sort_keys=False))
    return numbers


def _cancelled(number: int, email: str, rng: random.Random) -> dict:
    hours = rng.randint(2, 30)
    return {
        "number": number,
        "customer": email,
        "placed": f"{hours + 1} hours ago",
        "cancelled": f"{hours} hours ago",
        "cancel_reason": "customer",
        "items": [{"sku": SKU}],
    }


def _shipped(number: int, email: str, rng: random.Random) -> tuple[dict, int]:
    weights, stories = zip(*STORIES, strict=True)
    scans = rng.choices(stories, weights)[0]
    label = rng.randint(*LABEL)
    events = [{"status": "label_purchased", "at": f"{label} minutes ago"}]
    events += [{"status": s, "at": f"{rng.randint(*WHEN[s])} minutes ago"} for s in scans]
    carrier = CARRIERS[number % len(CARRIERS)]
    shipment = {
        "carrier": carrier,
        "tracking_number": f"PSB{number:09d}",
        "shipped": f"{label} minutes ago",
        "estimated_delivery": "tomorrow",
        "events": events,
    }
    order = {
        "number": number,
        "customer": email,
        "placed": "2 days ago",
        "items": [{"sku": SKU}],
        "shipments": [shipment],
    }
    return order, len(scans)


def plan(
    orders: Sequence[Order], consented: set[str], total: int, secret: str, rng: random.Random
) -> list[Delivery]:
    """Exactly `total` deliveries in the order Shopify sends them (retries fill up the count)."""
    firsts: list[Delivery] = []
    for order in orders:
        if order.is_cancelled:
            firsts.append(_cancellation(order, secret, rng))
        else:
            firsts += _story(order, order.phone in consented, secret, rng)
    if len(firsts) > total:
        raise ValueError(f"{len(firsts)} deliveries before retries, more than {total}")
    retries = [
        replace(d, key=d.key + timedelta(minutes=rng.uniform(1, 180)), retry=True)
        for d in rng.sample(firsts, total - len(firsts))
    ]
    return sorted(firsts + retries, key=lambda d: d.key)


def _cancellation(order: Order, secret: str, rng: random.Random) -> Delivery:
    assert order.cancelled_at is not None
    return _delivery("orders/cancelled", order_payload(order), (), order.cancelled_at, secret, rng)


def _story(order: Order, consented: bool, secret: str, rng: random.Random) -> list[Delivery]:
    """Every delivery of one package's news, the one that arrives late marked so."""
    (package,) = order.fulfillments
    label = package.events[0]
    shipped = replace(package, status=label.status, events=package.events[:1])
    consent = {"consent_phone": order.phone} if consented else {}
    fid, start = package.id, package.created_at
    created = fulfillment_payload(order, package, status=None, updated_at=start)
    fulfilled = order_payload(replace(order, fulfillments=(shipped,)), **consent)
    out = [
        _delivery("fulfillments/create", created, (News(fid, None, start),), start, secret, rng),
        _delivery(
            "orders/fulfilled", fulfilled, (News(fid, label.status, start),), start, secret, rng
        ),
    ]
    for scan in package.events:
        news = (News(fid, scan.status, scan.happened_at),)
        event = fulfillment_event_payload(
            order,
            package,
            scan.status,
            scan.happened_at,
            event_id=rng.randrange(10**11, 10**12),
            message=scan.message,
            estimated_delivery_at=package.estimated_delivery_at,
        )
        update = fulfillment_payload(
            order, package, status=scan.status, updated_at=scan.happened_at
        )
        at = scan.happened_at
        out.append(_delivery("fulfillment_events/create", event, news, at, secret, rng))
        out.append(_delivery("fulfillments/update", update, news, at, secret, rng))
    return _one_late(out, rng) if rng.random() < LATE_SHARE else out


def _one_late(out: list[Delivery], rng: random.Random) -> list[Delivery]:
    """One delivery of older news goes out after the next news of its package."""
    times = sorted({d.news[0].happened_at for d in out})
    if len(times) < 2:
        return out
    i = rng.randrange(1, len(times))
    older = [n for n, d in enumerate(out) if d.news[0].happened_at == times[i - 1]]
    pick = rng.choice(older)
    delay = timedelta(minutes=rng.uniform(1, 45))
    out[pick] = replace(out[pick], key=times[i] + delay, late=True)
    return out


def _delivery(
    topic: str,
    payload: dict,
    news: tuple[News, ...],
    at: datetime,
    secret: str,
    rng: random.Random,
) -> Delivery:
    body = json.dumps(payload).encode()
    webhook_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    headers = webhook_headers(topic, body, secret, webhook_id=webhook_id, triggered_at=at)
    jitter = timedelta(seconds=rng.uniform(0, 1))  # the two topics of one scan, either first
    return Delivery(webhook_id, topic, body, headers, news, at + jitter)
