"""Our order-system dataclasses written as Shopify's GraphQL Admin API returns them.

The inverse of bot.oms.shopify_parse, for the fake Shopify: global ids, UTC times, upper-case
enums, money as Decimal strings, connections as `nodes`. Recorded answers under
tests/fixtures/shopify/graphql/ keep the parser honest about Shopify's real shape.
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from decimal import Decimal

from bot.oms.base import Fulfillment, LineItem, Order, Product, Return, Variant
from bot.oms.shopify_parse import FINAL_SALE_TAG

FLI_BASE = 1_000_000  # fulfillment line item id = fulfillment id * FLI_BASE + line item id


def gid(kind: str, local: object) -> str:
    return f"gid://shopify/{kind}/{local}"


def local(value: str) -> int | None:
    """The numeric id at the end of a gid, or None."""
    tail = value.rsplit("/", 1)[-1] if isinstance(value, str) else ""
    return int(tail) if tail.isdigit() else None


def fulfillment_line_id(fulfillment_id: str, line_item_id: str) -> int:
    return int(fulfillment_id) * FLI_BASE + int(line_item_id)


def split_fulfillment_line_id(value: int) -> tuple[str, str]:
    fulfillment_id, line_item_id = divmod(value, FLI_BASE)
    return str(fulfillment_id), str(line_item_id)


def when(moment: datetime | None) -> str | None:
    """Shopify's DateTime: UTC with a Z (fractions only when there are some)."""
    if moment is None:
        return None
    utc = moment.astimezone(timezone.utc)
    stamp = utc.strftime("%Y-%m-%dT%H:%M:%S")
    return stamp + (f".{utc.microsecond:06d}Z" if utc.microsecond else "Z")


def decimal(amount: Decimal) -> str:
    """Shopify's Decimal scalar: "68.0", "24.5", "19.99"."""
    return f"{amount:.1f}" if amount == amount.quantize(Decimal("0.1")) else f"{amount:.2f}"


def cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def offset(value: str | None) -> int:
    if not value:
        return 0
    try:
        return int(base64.b64decode(value).decode().split(":", 1)[1])
    except (ValueError, IndexError):
        return 0


def page(items: list, first: int, after: str | None) -> dict:
    """A connection page: `nodes` plus pageInfo with opaque cursors."""
    start = offset(after)
    chosen = items[start : start + max(first, 0)]
    end = start + len(chosen)
    return {
        "pageInfo": {"hasNextPage": end < len(items), "endCursor": cursor(end) if chosen else None},
        "nodes": chosen,
    }


def order_json(order: Order, customer_id: int | None) -> dict:
    """An Order as the OrderFields fragment selects it."""
    address = order.shipping_address
    first, _, last = (order.customer_name or "").partition(" ")
    return {
        "id": gid("Order", order.id),
        "name": order.name,
        "email": order.email,
        "phone": order.phone,
        "createdAt": when(order.created_at),
        "cancelledAt": when(order.cancelled_at),
        "displayFinancialStatus": order.financial_status.upper(),
        "currencyCode": order.currency,
        "customer": customer_id
        and {
            "firstName": first or None,
            "lastName": last or None,
            "defaultPhoneNumber": {"phoneNumber": order.phone} if order.phone else None,
        },
        "shippingAddress": address
        and {
            "name": address.name,
            "address1": address.address1,
            "city": address.city,
            "provinceCode": address.province_code,
            "zip": address.zip,
            "countryCodeV2": address.country_code,
            "phone": order.phone,
        },
        "lineItems": {"nodes": [line_json(item, order.currency) for item in order.line_items]},
        "fulfillments": [fulfillment_json(f) for f in order.fulfillments],
    }


def line_json(item: LineItem, currency: str) -> dict:
    return {
        "id": gid("LineItem", item.id),
        "sku": item.sku,
        "title": item.title,
        "variantTitle": item.variant_title,
        "quantity": item.quantity,
        "originalUnitPriceSet": {
            "shopMoney": {"amount": decimal(item.unit_price), "currencyCode": currency}
        },
        "product": {"tags": [FINAL_SALE_TAG] if item.final_sale else []},
    }


def fulfillment_json(fulfillment: Fulfillment) -> dict:
    tracking = (fulfillment.carrier, fulfillment.tracking_number, fulfillment.tracking_url)
    parts = [(fulfillment_line_id(fulfillment.id, i.line_item_id), i) for i in fulfillment.items]
    newest_first = list(reversed(fulfillment.events))
    return {
        "id": gid("Fulfillment", fulfillment.id),
        "status": "SUCCESS",
        "displayStatus": fulfillment.status.upper(),
        "createdAt": when(fulfillment.created_at),
        "estimatedDeliveryAt": when(fulfillment.estimated_delivery_at),
        "deliveredAt": when(fulfillment.delivered_at),
        "trackingInfo": [dict(zip(("company", "number", "url"), tracking, strict=True))]
        if any(tracking)
        else [],
        "fulfillmentLineItems": {
            "nodes": [
                {
                    "id": gid("FulfillmentLineItem", flid),
                    "quantity": i.quantity,
                    "lineItem": {"id": gid("LineItem", i.line_item_id)},
                }
                for flid, i in parts
            ]
        },
        "events": {
            "nodes": [
                {
                    "status": e.status.upper(),
                    "happenedAt": when(e.happened_at),
                    "message": e.message,
                    **_place(e.location),
                }
                for e in newest_first
            ]
        },
    }


def _place(location: str | None) -> dict:
    """ "Memphis, TN" as Shopify's city and province."""
    city, _, province = (location or "").rpartition(", ")
    if not city:
        city, province = province, ""
    return {"city": city or None, "province": province or None}


def return_json(created: Return, order: Order, parts: list[tuple[int, int]]) -> dict:
    """A Return as ReturnRequest selects it; `parts` are (fulfillment line item id, units)."""
    return {
        "id": gid("Return", created.id),
        "name": f"{order.name}-R{created.id}",
        "status": created.status.upper(),
        "createdAt": when(created.created_at),
        "order": {"id": gid("Order", order.id)},
        "returnLineItems": {
            "nodes": [
                {
                    "id": gid("ReturnLineItem", flid),
                    "quantity": units,
                    "customerNote": created.reason,
                    "fulfillmentLineItem": {
                        "lineItem": {"id": gid("LineItem", split_fulfillment_line_id(flid)[1])}
                    },
                }
                for flid, units in parts
            ]
        },
    }


def candidate_json(product: Product, tags: list[str]) -> dict:
    """A product as ProductCandidates selects it: words, and colours as option values."""
    colors = list(dict.fromkeys(v.color for v in product.variants if v.color))
    sizes = list(dict.fromkeys(v.size for v in product.variants if v.size))
    options = [
        {"name": name, "optionValues": [{"name": value} for value in values]}
        for name, values in (("Size", sizes), ("Color", colors))
        if values
    ]
    return {
        "id": gid("Product", product.id),
        "title": product.title,
        "productType": product.product_type or "",
        "tags": _tags(product, tags),
        "description": product.description,
        "options": options or [{"name": "Title", "optionValues": [{"name": "Default Title"}]}],
    }


def _tags(product: Product, tags: list[str]) -> list[str]:
    return sorted(set(tags) | ({FINAL_SALE_TAG} if product.final_sale else set()))


def product_json(product: Product, tags: list[str]) -> dict:
    """A product as ProductDetails selects it, with every variant."""
    return {
        "id": gid("Product", product.id),
        "handle": product.handle,
        "title": product.title,
        "description": product.description,
        "productType": product.product_type or "",
        "tags": _tags(product, tags),
        "variants": {"nodes": [variant_json(v) for v in product.variants]},
    }


def variant_json(variant: Variant) -> dict:
    options = [("Size", variant.size), ("Color", variant.color)]
    restock = variant.restock_date
    return {
        "id": gid("ProductVariant", variant.id),
        "sku": variant.sku,
        "title": "Default Title" if variant.title == "Default" else variant.title,
        "price": decimal(variant.price),
        "inventoryQuantity": variant.inventory,
        "selectedOptions": [{"name": n, "value": v} for n, v in options if v]
        or [{"name": "Title", "value": "Default Title"}],
        "inventoryItem": {"tracked": True},
        "restockDate": {"value": restock.isoformat()} if restock else None,
    }
