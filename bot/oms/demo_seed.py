"""Fill the demo store from data/demo/, so `make run` has customers and orders to talk about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from bot.clock import Clock, SystemClock
from bot.oms.demo_files import CustomerData, DemoData, ProductData, load_demo
from bot.oms.demo_mapping import variant_title
from bot.oms.demo_orders import OrderData, ShipmentData
from bot.oms.demo_yaml import DemoDataError
from bot.store import Database
from bot.store.demo_tables import (
    DemoCustomer,
    DemoFulfillment,
    DemoFulfillmentItem,
    DemoLineItem,
    DemoOrder,
    DemoPolicy,
    DemoProduct,
    DemoReturn,
    DemoReturnItem,
    DemoTrackingEvent,
    DemoVariant,
)
from bot.store.models import ConsentEvent, Customer

__all__ = ["DEFAULT_DATA_DIR", "DemoDataError", "SeedResult", "seed"]

DEFAULT_DATA_DIR = Path("data/demo")
# Children before parents, so deleting in this order never breaks a foreign key.
DEMO_TABLES = (
    DemoReturnItem,
    DemoReturn,
    DemoTrackingEvent,
    DemoFulfillmentItem,
    DemoFulfillment,
    DemoLineItem,
    DemoOrder,
    DemoVariant,
    DemoProduct,
    DemoCustomer,
    DemoPolicy,
)
_SEED_LOCK = 0x50494745  # PostgreSQL advisory lock key: two seeders take turns
CONSENT_DETAIL = "demo store seed: ticked the SMS box at checkout"


@dataclass(frozen=True)
class SeedResult:
    """What a seed wrote; `seeded` is False when the demo store already had data."""

    seeded: bool
    customers: int = 0
    products: int = 0
    variants: int = 0
    orders: int = 0
    fulfillments: int = 0
    contacts_created: int = 0  # Pigeon customers created for demo customers
    consents_recorded: int = 0

    def summary(self) -> str:
        """One line for the CLI log, e.g. after "demo store: "."""
        if not self.seeded:
            return "already seeded, left as it is (reset to reseed it)"
        return (
            f"seeded {self.customers} customers, {self.products} products "
            f"({self.variants} variants), {self.orders} orders, {self.fulfillments} shipments; "
            f"{self.contacts_created} new contacts, {self.consents_recorded} SMS consents recorded"
        )

    __str__ = summary


def seed(
    db: Database,
    data_dir: Path = DEFAULT_DATA_DIR,
    clock: Clock | None = None,
    reset: bool = False,
) -> SeedResult:
    """Seed an empty demo store (or wipe and reseed it) in one transaction; raises DemoDataError."""
    now = (clock or SystemClock()).now()
    data = load_demo(Path(data_dir), now)  # every file is checked before anything is written
    with db.write() as session:
        if not db.is_sqlite:
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEED_LOCK})
        if reset:
            for table in DEMO_TABLES:
                session.execute(delete(table))
        elif _has_demo_data(session):
            return SeedResult(seeded=False)
        return _write(session, data, now)


def _has_demo_data(session: Session) -> bool:
    tables = (DemoCustomer, DemoProduct, DemoOrder, DemoPolicy)
    return any(session.scalar(select(func.count()).select_from(t)) for t in tables)


def _write(session: Session, data: DemoData, now: datetime) -> SeedResult:
    customers = {c.email: _add_customer(session, c) for c in data.customers}
    variants = {v.sku: v for p in data.products for v in _add_product(session, p)}
    session.flush()
    orders = [_add_order(session, o, customers[o.email], variants) for o in data.orders]
    session.add_all(DemoPolicy(key=k, value=v) for k, v in data.policies.items())
    contacts, consents = _add_contacts(session, data, now)
    return SeedResult(
        seeded=True,
        customers=len(customers),
        products=len(data.products),
        variants=len(variants),
        orders=len(orders),
        fulfillments=sum(len(o.fulfillments) for o in orders),
        contacts_created=contacts,
        consents_recorded=consents,
    )


def _add_customer(session: Session, c: CustomerData) -> DemoCustomer:
    row = DemoCustomer(
        name=c.name,
        email=c.email,
        phone=c.phone,
        address1=c.address1,
        city=c.city,
        province_code=c.state,
        zip=c.zip,
        country_code=c.country,
    )
    session.add(row)
    return row


def _add_product(session: Session, p: ProductData) -> list[DemoVariant]:
    variants = [
        DemoVariant(
            sku=v.sku,
            size=v.size,
            color=v.color,
            price=v.price,
            inventory=v.stock,
            restock_date=v.restock,
        )
        for v in p.variants
    ]
    product = DemoProduct(
        handle=p.handle,
        title=p.title,
        description=p.description,
        product_type=p.product_type,
        final_sale=p.final_sale,
        tags=list(p.tags),
        variants=variants,
    )
    session.add(product)
    return variants


def _add_order(
    session: Session, o: OrderData, customer: DemoCustomer, variants: dict[str, DemoVariant]
) -> DemoOrder:
    order = DemoOrder(id=o.number, name=f"#{o.number}", customer_id=customer.id)
    order.email, order.phone, order.created_at = customer.email, customer.phone, o.placed_at
    order.financial_status, order.currency = o.financial_status, "USD"
    order.cancelled_at, order.cancel_reason = o.cancelled_at, o.cancel_reason
    order.ship_name, order.ship_address1 = customer.name, customer.address1
    order.ship_city, order.ship_province_code = customer.city, customer.province_code
    order.ship_zip, order.ship_country_code = customer.zip, customer.country_code
    order.line_items = [_line_item(variants[item.sku], item.quantity) for item in o.items]
    session.add(order)
    session.flush()  # line item ids, for the shipments below
    lines = {line.sku: line for line in order.line_items}
    order.fulfillments = [_fulfillment(s, lines) for s in o.shipments]
    return order


def _line_item(variant: DemoVariant, quantity: int) -> DemoLineItem:
    product = variant.product
    return DemoLineItem(
        variant_id=variant.id,
        sku=variant.sku,
        title=product.title,
        variant_title=variant_title(variant.size, variant.color),
        quantity=quantity,
        unit_price=variant.price,
        final_sale=product.final_sale,
    )


def _fulfillment(s: ShipmentData, lines: dict[str, DemoLineItem]) -> DemoFulfillment:
    fulfillment = DemoFulfillment(
        shipment_status=s.status,
        carrier=s.carrier,
        tracking_number=s.tracking_number,
        tracking_url=s.tracking_url,
        created_at=s.shipped_at,
        estimated_delivery_at=s.estimated_delivery_at,
        delivered_at=s.delivered_at,
    )
    fulfillment.items = [
        DemoFulfillmentItem(line_item_id=lines[i.sku].id, quantity=i.quantity) for i in s.items
    ]
    fulfillment.events = [
        DemoTrackingEvent(status=e.status, happened_at=e.at, message=e.message, location=e.location)
        for e in s.events
    ]
    return fulfillment


def _add_contacts(session: Session, data: DemoData, now: datetime) -> tuple[int, int]:
    """Pigeon's own customer and consent rows; existing ones are kept, the ledger only grows."""
    created = consents = 0
    for c in data.customers:
        contact = session.scalar(select(Customer).where(Customer.phone == c.phone))
        if contact is None:
            contact = Customer(phone=c.phone, email=c.email, name=c.name, created_at=now)
            contact.time_zone, contact.region, contact.updated_at = c.time_zone, c.state, now
            session.add(contact)
            session.flush()
            created += 1
        if c.consented_at is not None and not _has_consent_history(session, c.phone):
            session.add(_opt_in(c, contact.id, data.disclosure))
            consents += 1
    return created, consents


def _has_consent_history(session: Session, phone: str) -> bool:
    """Any opt-in or opt-out already on file wins: a reseed never undoes a STOP."""
    query = select(func.count()).select_from(ConsentEvent).where(ConsentEvent.phone == phone)
    return bool(session.scalar(query))


def _opt_in(c: CustomerData, customer_id: int, disclosure: str) -> ConsentEvent:
    return ConsentEvent(
        phone=c.phone,
        customer_id=customer_id,
        action="opt_in",
        source="checkout",
        disclosure=disclosure,
        detail=CONSENT_DETAIL,
        recorded_at=c.consented_at,
    )
