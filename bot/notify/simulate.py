"""`python -m bot simulate-shipment 1001 out_for_delivery`: play Shopify for a demo.

Records the carrier scan in the demo store (so the assistant's answers agree), then
sends the signed `fulfillment_events/create` webhook Shopify would send to the desk.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass

import requests

from bot.clock import Clock
from bot.config import SHOPIFY_WEBHOOK_SECRET, Settings, SettingsError
from bot.desk.shopify_webhooks import PATH
from bot.errors import PigeonError
from bot.notify.payloads import fulfillment_event_payload, webhook_headers
from bot.oms.base import OrderSystemError
from bot.oms.demo import DemoStore
from bot.oms.demo_events import record_scan
from bot.store import Database

TOPIC = "fulfillment_events/create"


class SimulationError(PigeonError):
    """The scan could not be recorded or sent; the message says why."""


@dataclass(frozen=True)
class Sent:
    order_name: str
    fulfillment_id: str
    webhook_id: str
    status_code: int


def simulate_shipment(
    settings: Settings,
    number: str,
    status: str,
    clock: Clock,
    *,
    message: str | None = None,
    location: str | None = None,
    desk_url: str | None = None,
) -> Sent:
    """Record the scan, send the webhook; the desk's answer code is in the result."""
    secret = settings.shopify_webhook_secret
    if settings.shopify_enabled:
        raise SettingsError(
            "simulate-shipment plays Shopify for the demo store; with a real shop, "
            "add the tracking event in Shopify and it sends the webhook"
        )
    if not secret:
        raise SettingsError(f"{SHOPIFY_WEBHOOK_SECRET} is needed to sign the webhook")
    db = Database(settings.database_url)
    try:
        order_id, fulfillment_id = record_scan(
            db, number, status, clock, message=message, location=location
        )
        order = DemoStore(db, clock).order_by_id(order_id)
    except OrderSystemError as exc:
        raise SimulationError(str(exc)) from None
    finally:
        db.dispose()
    fulfillment = next(f for f in order.fulfillments if f.id == fulfillment_id)
    payload = fulfillment_event_payload(
        order,
        fulfillment,
        status,
        clock.now(),
        event_id=secrets.randbelow(10**12) + 1,
        message=message,
        location=_place(location),
        estimated_delivery_at=fulfillment.estimated_delivery_at,
    )
    body = json.dumps(payload).encode()
    webhook_id = str(uuid.uuid4())
    headers = webhook_headers(TOPIC, body, secret, webhook_id=webhook_id, triggered_at=clock.now())
    url = (desk_url or f"http://localhost:{settings.desk_port}") + PATH
    try:
        reply = requests.post(url, data=body, headers=headers, timeout=10)
    except requests.RequestException as exc:
        raise SimulationError(
            f"the desk at {url} is unreachable ({exc.__class__.__name__}); is `make run` up?"
        ) from None
    return Sent(order.name, fulfillment_id, webhook_id, reply.status_code)


def _place(location: str | None) -> tuple[str, str] | None:
    """'Seattle, WA' -> ('Seattle', 'WA')."""
    if not location or "," not in location:
        return None
    city, province = (part.strip() for part in location.rsplit(",", 1))
    return (city, province) if city and province else None
