"""Demo store rows to the order-system dataclasses, so callers never see SQLAlchemy objects."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from bot.oms.base import (
    Address,
    FulfilledItem,
    Fulfillment,
    LineItem,
    Order,
    OrderSystemError,
    Product,
    Return,
    ReturnLine,
    StorePolicies,
    TrackingEvent,
    Variant,
)
from bot.store.demo_tables import (
    DemoFulfillment,
    DemoLineItem,
    DemoOrder,
    DemoProduct,
    DemoReturn,
    DemoVariant,
)

CENT = Decimal("0.01")


def variant_title(size: str | None, color: str | None) -> str | None:
    """Shopify's "M / Navy" naming, so texts read the same whichever store answers."""
    return " / ".join(part for part in (size, color) if part) or None


def money(value: object) -> Decimal:
    """An exact price from the float the demo tables hand back (two decimals, under 10 digits)."""
    return Decimal(str(value)).quantize(CENT)


def to_order(row: DemoOrder) -> Order:
    return Order(
        id=str(row.id),
        name=row.name,
        number=row.id,
        email=row.email,
        phone=row.phone,
        customer_name=row.customer.name if row.customer else row.ship_name,
        created_at=row.created_at,
        financial_status=row.financial_status,
        cancelled_at=row.cancelled_at,
        currency=row.currency,
        shipping_address=_address(row),
        line_items=tuple(to_line_item(line) for line in row.line_items),
        fulfillments=tuple(to_fulfillment(f) for f in sorted(row.fulfillments, key=_by_id)),
    )


def _by_id(row: DemoFulfillment) -> int:
    return row.id


def _address(row: DemoOrder) -> Address | None:
    if not (row.ship_address1 or row.ship_zip or row.ship_city):
        return None
    return Address(
        name=row.ship_name,
        address1=row.ship_address1,
        city=row.ship_city,
        province_code=row.ship_province_code,
        zip=row.ship_zip,
        country_code=row.ship_country_code,
    )


def to_line_item(row: DemoLineItem) -> LineItem:
    return LineItem(
        id=str(row.id),
        sku=row.sku,
        title=row.title,
        variant_title=row.variant_title,
        quantity=row.quantity,
        unit_price=money(row.unit_price),
        final_sale=row.final_sale,
    )


def to_fulfillment(row: DemoFulfillment) -> Fulfillment:
    items = sorted(row.items, key=lambda item: item.line_item_id)
    events = sorted(row.events, key=lambda event: (event.happened_at, event.id))
    return Fulfillment(
        id=str(row.id),
        status=row.shipment_status,
        carrier=row.carrier,
        tracking_number=row.tracking_number,
        tracking_url=row.tracking_url,
        created_at=row.created_at,
        estimated_delivery_at=row.estimated_delivery_at,
        delivered_at=row.delivered_at,
        items=tuple(FulfilledItem(str(i.line_item_id), i.quantity) for i in items),
        events=tuple(TrackingEvent(e.status, e.happened_at, e.message, e.location) for e in events),
    )


def to_return(row: DemoReturn) -> Return:
    items = sorted(row.items, key=lambda item: item.line_item_id)
    return Return(
        id=str(row.id),
        order_id=str(row.order_id),
        status=row.status,
        reason=row.reason,
        lines=tuple(ReturnLine(str(i.line_item_id), i.quantity) for i in items),
        created_at=row.created_at,
    )


def to_product(row: DemoProduct, variants: Iterable[DemoVariant]) -> Product:
    return Product(
        id=str(row.id),
        handle=row.handle,
        title=row.title,
        description=row.description,
        product_type=row.product_type,
        final_sale=row.final_sale,
        variants=tuple(to_variant(v) for v in variants),
    )


def to_variant(row: DemoVariant) -> Variant:
    return Variant(
        id=str(row.id),
        sku=row.sku,
        title=variant_title(row.size, row.color) or "Default",
        size=row.size,
        color=row.color,
        price=money(row.price),
        inventory=row.inventory,
        restock_date=row.restock_date,
    )


def to_policies(values: Mapping[str, object]) -> StorePolicies:
    """The policies, or OrderSystemError naming what the demo store is missing."""
    try:
        return StorePolicies(
            return_window_days=int(values["return_window_days"]),
            returns=str(values["returns"]),
            final_sale=str(values["final_sale"]),
            exchanges=str(values["exchanges"]),
            shipping_times=str(values["shipping_times"]),
            shipping_countries=tuple(values["shipping_countries"]),
            payment_methods=tuple(values["payment_methods"]),
            support_hours=str(values["support_hours"]),
        )
    except KeyError as exc:
        raise OrderSystemError(f"the demo store has no {exc.args[0]!r} policy; reseed it") from None
