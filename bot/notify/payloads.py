"""Shopify webhook deliveries built from our dataclasses: the simulator, the benchmark and tests.

The inverse of bot.notify.events. Bodies have Shopify's REST shapes (int ids, whole-second times
in the shop's zone, the same field names), so a built delivery takes the same path as a real one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
import zlib
from datetime import datetime, timezone

from bot.notify.shopify_json import rest_address, rest_id, rest_line_item, rest_money, rest_time
from bot.oms.base import Fulfillment, LineItem, Order

# Invented ids for the demo shop and its one warehouse (Shopify's are 64-bit ints).
DEMO_SHOP_ID = 70_310_000_001
DEMO_LOCATION_ID = 81_230_000_001
_CUSTOMER_ID_BASE = 7_120_000_000_000
# Retries of one delivery share an event id: derive it from the webhook id under this namespace.
_EVENT_ID_NAMESPACE = uuid.UUID("5f0c9a52-8f0e-4c43-9c5e-2b7f3c1d9a10")


def fulfillment_event_payload(
    order: Order,
    fulfillment: Fulfillment,
    status: str,
    happened_at: datetime,
    *,
    event_id: int,
    message: str | None = None,
    location: tuple[str, str] | None = None,
    estimated_delivery_at: datetime | None = None,
) -> dict:
    """A fulfillment_events/create body: what a carrier app posts when a scan comes in."""
    city, province = location or (None, None)
    country = order.shipping_address.country_code if location and order.shipping_address else None
    stamp = rest_time(happened_at)
    return {
        "id": event_id,
        "fulfillment_id": rest_id(fulfillment.id, "fulfillment id"),
        "status": status,
        "message": message,
        "happened_at": stamp,
        "city": city,
        "province": province,
        "country": country,
        **dict.fromkeys(("zip", "address1", "latitude", "longitude")),
        "shop_id": DEMO_SHOP_ID,
        "created_at": stamp,
        "updated_at": stamp,
        "estimated_delivery_at": rest_time(estimated_delivery_at),
        "order_id": rest_id(order.id, "order id"),
        "admin_graphql_api_id": f"gid://shopify/FulfillmentEvent/{event_id}",
    }


def fulfillment_payload(
    order: Order,
    fulfillment: Fulfillment,
    *,
    status: str | None = None,
    updated_at: datetime | None = None,
) -> dict:
    """A fulfillments/create|update body; `status` is the shipment_status (None: no news yet)."""
    body = _fulfillment_body(order, fulfillment, status, updated_at)
    body["email"] = order.email
    body["destination"] = rest_address(order.shipping_address, order.phone)
    return body


def order_payload(
    order: Order,
    *,
    consent_phone: str | None = None,
    consent_at: datetime | None = None,
    cancelled_at: datetime | None = None,
) -> dict:
    """An orders/* body with fulfillments[]; the customer subscribed to SMS if `consent_phone`."""
    cancelled = cancelled_at or order.cancelled_at
    body = _order_summary(order, cancelled, consent_at)
    body["customer"] = _customer(order, consent_phone, consent_at)
    body["shipping_address"] = rest_address(order.shipping_address, order.phone)
    body["line_items"] = [_order_line(order, item) for item in order.line_items]
    body["fulfillments"] = [
        _fulfillment_body(order, fulfillment, fulfillment.status, None)
        for fulfillment in order.fulfillments
    ]
    return body


def sign(body: bytes, secret: str) -> str:
    """X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 of the raw body under the app's secret."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def webhook_headers(
    topic: str,
    body: bytes,
    secret: str,
    *,
    webhook_id: str,
    shop_domain: str = "pigeon-demo.myshopify.com",
    api_version: str = "2026-10",
    triggered_at: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, str]:
    """Every header Shopify sends with a delivery, so the desk's checks run as in production."""
    moment = triggered_at or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        raise ValueError("triggered_at needs an aware datetime")
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "X-Shopify-Shop-Domain": shop_domain,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Event-Id": event_id or str(uuid.uuid5(_EVENT_ID_NAMESPACE, webhook_id)),
        "X-Shopify-Triggered-At": _nanosecond_time(moment),
        "X-Shopify-API-Version": api_version,
    }


def _fulfillment_body(
    order: Order, fulfillment: Fulfillment, shipment_status: str | None, updated_at: datetime | None
) -> dict:
    """The fields a fulfillment has both on its own and inside an order's fulfillments[]."""
    fulfillment_id = rest_id(fulfillment.id, "fulfillment id")
    number, url = fulfillment.tracking_number, fulfillment.tracking_url
    return {
        "id": fulfillment_id,
        "admin_graphql_api_id": f"gid://shopify/Fulfillment/{fulfillment_id}",
        "order_id": rest_id(order.id, "order id"),
        "name": f"{order.name}.{_position(order, fulfillment)}",
        "status": "success",
        "shipment_status": shipment_status,
        "service": "manual",
        "location_id": DEMO_LOCATION_ID,
        "origin_address": {},
        "receipt": {},
        "created_at": rest_time(fulfillment.created_at),
        "updated_at": rest_time(updated_at or _last_change(fulfillment)),
        "tracking_company": fulfillment.carrier,
        "tracking_number": number,
        "tracking_numbers": [number] if number else [],
        "tracking_url": url,
        "tracking_urls": [url] if url else [],
        "line_items": _fulfilled_lines(order, fulfillment),
    }


def _order_summary(order: Order, cancelled: datetime | None, consent_at: datetime | None) -> dict:
    """The order's own fields: names, contact, state and money."""
    order_id = rest_id(order.id, "order id")
    total = rest_money(order.total)
    changes = [order.created_at, cancelled, consent_at, *map(_last_change, order.fulfillments)]
    status = order.fulfillment_status
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": order.name,
        "number": max(order.number - 1000, 1),  # Shopify counts from 1; names start at #1001
        "order_number": order.number,
        "email": order.email,
        "contact_email": order.email,
        "phone": order.phone,
        **dict.fromkeys(("created_at", "processed_at"), rest_time(order.created_at)),
        "updated_at": rest_time(max(moment for moment in changes if moment is not None)),
        "cancelled_at": rest_time(cancelled),
        "cancel_reason": "customer" if cancelled else None,
        "currency": order.currency,
        "presentment_currency": order.currency,
        "financial_status": order.financial_status,
        "fulfillment_status": None if status == "unfulfilled" else status,
        **dict.fromkeys(("subtotal_price", "total_line_items_price", "total_price"), total),
        **dict.fromkeys(("total_tax", "total_discounts"), "0.00"),
        "source_name": "web",
        "tags": "",
        **dict.fromkeys(("closed_at", "note")),
        "test": False,
        "buyer_accepts_marketing": False,
    }


def _customer(order: Order, consent_phone: str | None, consent_at: datetime | None) -> dict | None:
    """The order's customer, with an SMS consent record whenever there is a phone number."""
    number = consent_phone or order.phone
    seed = order.email or number or order.customer_name
    if seed is None:
        return None
    customer_id = _CUSTOMER_ID_BASE + zlib.crc32(seed.lower().encode("utf-8"))
    first, _, last = (order.customer_name or "").partition(" ")
    address = rest_address(order.shipping_address, number)
    return {
        "id": customer_id,
        "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
        "email": order.email,
        "first_name": first or None,
        "last_name": last or None,
        "phone": number,
        "state": "disabled",
        "verified_email": order.email is not None,
        "tax_exempt": False,
        "tax_exemptions": [],
        "currency": order.currency,
        **dict.fromkeys(("note", "multipass_identifier")),
        "created_at": rest_time(order.created_at),
        "updated_at": rest_time(consent_at or order.created_at),
        "default_address": address and {**address, "customer_id": customer_id, "default": True},
        "sms_marketing_consent": _sms_consent(number, consent_phone is not None, consent_at, order),
    }


def _sms_consent(
    number: str | None, subscribed: bool, consent_at: datetime | None, order: Order
) -> dict | None:
    """Shopify's sms_marketing_consent: null without a phone, "subscribed" if given at checkout."""
    if number is None:
        return None
    return {
        "state": "subscribed" if subscribed else "not_subscribed",
        "opt_in_level": "single_opt_in",
        "consent_updated_at": rest_time(consent_at or order.created_at) if subscribed else None,
        "consent_collected_from": "SHOPIFY" if subscribed else "OTHER",
    }


def _fulfilled_lines(order: Order, fulfillment: Fulfillment) -> list[dict]:
    """The line items in this package, with the quantity it carries."""
    lines = {item.id: item for item in order.line_items}
    return [
        rest_line_item(lines[part.line_item_id], part.quantity, "fulfilled", order.currency)
        for part in fulfillment.items
        if part.line_item_id in lines
    ]


def _order_line(order: Order, item: LineItem) -> dict:
    """An order line item, marked fulfilled or partial by the units shipped so far."""
    shipped = sum(
        part.quantity
        for fulfillment in order.fulfillments
        for part in fulfillment.items
        if part.line_item_id == item.id
    )
    status = None if shipped == 0 else "fulfilled" if shipped >= item.quantity else "partial"
    return rest_line_item(item, item.quantity, status, order.currency)


def _position(order: Order, fulfillment: Fulfillment) -> int:
    """The package's number within the order, as in Shopify's fulfillment names ("#1001.2")."""
    ids = [package.id for package in order.fulfillments]
    return ids.index(fulfillment.id) + 1 if fulfillment.id in ids else len(ids) + 1


def _last_change(fulfillment: Fulfillment) -> datetime:
    """When the fulfillment last changed: its newest scan, else its creation."""
    return max([fulfillment.created_at, *(event.happened_at for event in fulfillment.events)])


def _nanosecond_time(moment: datetime) -> str:
    """X-Shopify-Triggered-At's UTC form with nanoseconds ("2026-06-15T14:00:00.123456000Z")."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
