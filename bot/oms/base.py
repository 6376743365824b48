"""The order-system seam: what Pigeon needs from a store, whoever runs it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

# Shopify's fulfillment event statuses, in lifecycle order (exceptions after in_transit).
SHIPMENT_STATUSES = (
    "label_printed",
    "label_purchased",
    "confirmed",
    "carrier_picked_up",
    "in_transit",
    "out_for_delivery",
    "attempted_delivery",
    "ready_for_pickup",
    "delayed",
    "failure",
    "delivered",
)
EXCEPTION_STATUSES = frozenset({"attempted_delivery", "delayed", "failure"})


class OrderSystemError(Exception):
    """The order system failed or is unreachable; the message is safe to log."""


class NotCancellable(OrderSystemError):
    """The order cannot be cancelled (already fulfilled, cancelled, ...)."""


class NotReturnable(OrderSystemError):
    """The requested items cannot be returned."""


@dataclass(frozen=True)
class Address:
    name: str | None
    address1: str | None
    city: str | None
    province_code: str | None
    zip: str | None
    country_code: str | None


@dataclass(frozen=True)
class LineItem:
    id: str
    sku: str | None
    title: str
    variant_title: str | None
    quantity: int
    unit_price: Decimal
    final_sale: bool


@dataclass(frozen=True)
class TrackingEvent:
    status: str  # one of SHIPMENT_STATUSES
    happened_at: datetime
    message: str | None = None
    location: str | None = None


@dataclass(frozen=True)
class FulfilledItem:
    line_item_id: str
    quantity: int


@dataclass(frozen=True)
class Fulfillment:
    id: str
    status: str  # shipment status, one of SHIPMENT_STATUSES
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    created_at: datetime
    estimated_delivery_at: datetime | None
    delivered_at: datetime | None
    items: tuple[FulfilledItem, ...]
    events: tuple[TrackingEvent, ...]  # oldest first


@dataclass(frozen=True)
class Order:
    id: str
    name: str  # "#1001"
    number: int
    email: str | None
    phone: str | None  # E.164
    customer_name: str | None
    created_at: datetime
    financial_status: str
    cancelled_at: datetime | None
    currency: str
    shipping_address: Address | None
    line_items: tuple[LineItem, ...]
    fulfillments: tuple[Fulfillment, ...]

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def total(self) -> Decimal:
        return sum((item.unit_price * item.quantity for item in self.line_items), Decimal("0"))

    @property
    def fulfillment_status(self) -> str:
        """unfulfilled, partial or fulfilled, counted in units as Shopify does."""
        ordered = sum(item.quantity for item in self.line_items)
        shipped = sum(i.quantity for f in self.fulfillments for i in f.items)
        if shipped == 0:
            return "unfulfilled"
        return "fulfilled" if shipped >= ordered else "partial"


@dataclass(frozen=True)
class ReturnableItem:
    line_item: LineItem
    quantity: int  # units that can still be returned
    fulfillment_id: str
    delivered_at: datetime | None


@dataclass(frozen=True)
class ReturnLine:
    line_item_id: str
    quantity: int


@dataclass(frozen=True)
class Return:
    id: str
    order_id: str
    status: str  # requested, approved, ...
    reason: str | None
    lines: tuple[ReturnLine, ...]
    created_at: datetime


@dataclass(frozen=True)
class Variant:
    id: str
    sku: str
    title: str  # "M / Navy"
    size: str | None
    color: str | None
    price: Decimal
    inventory: int
    restock_date: date | None

    @property
    def in_stock(self) -> bool:
        return self.inventory > 0


@dataclass(frozen=True)
class Product:
    id: str
    handle: str
    title: str
    description: str
    product_type: str | None
    final_sale: bool
    variants: tuple[Variant, ...]


@dataclass(frozen=True)
class StorePolicies:
    return_window_days: int  # counted from delivery
    returns: str
    final_sale: str
    exchanges: str
    shipping_times: str
    shipping_countries: tuple[str, ...]
    payment_methods: tuple[str, ...]
    support_hours: str


class OrderSystem(Protocol):
    """A store's orders, products and policies. Implementations: demo store, Shopify."""

    def orders_for_phone(self, phone: str) -> list[Order]:
        """Orders placed with this E.164 number, newest first."""

    def orders_for_email(self, email: str) -> list[Order]:
        """Orders placed with this email (case-insensitive), newest first."""

    def order_by_number(self, number: str | int) -> Order | None:
        """The order named "#1001", "1001" or 1001, if any."""

    def order_by_id(self, order_id: str) -> Order | None:
        """The order with this system id (webhooks name orders by id)."""

    def returnable_items(self, order_id: str) -> list[ReturnableItem]:
        """Fulfilled units of the order not already returned, whatever the store's window."""

    def create_return(self, order_id: str, lines: Sequence[ReturnLine], reason: str) -> Return:
        """Request a return of these units; raises NotReturnable."""

    def cancel_order(self, order_id: str, reason: str) -> Order:
        """Cancel an unfulfilled order; raises NotCancellable."""

    def search_products(
        self, query: str, *, size: str | None = None, color: str | None = None, limit: int = 5
    ) -> list[Product]:
        """Products matching the words of `query`, best first, variants filtered by size/color."""

    def policies(self) -> StorePolicies:
        """The store's return, shipping, payment and support policies."""
