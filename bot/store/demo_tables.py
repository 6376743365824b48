"""Tables of the demo store: the embedded order system, seeded from data/demo/."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import relationship

from bot.store.models import Base
from bot.store.types import UTCDateTime

# Prices are read as floats (asdecimal=False): SQLite has no decimal type and SQLAlchemy warns
# on every Decimal it reads back; bot.oms.demo_mapping turns them into exact cents again.


class DemoCustomer(Base):
    __tablename__ = "demo_customers"

    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False)
    email = Column(String(320), nullable=False, unique=True)
    phone = Column(String(20), unique=True)  # E.164
    address1 = Column(String(200))
    city = Column(String(100))
    province_code = Column(String(8))
    zip = Column(String(16))
    country_code = Column(String(2), nullable=False, default="US")


class DemoProduct(Base):
    __tablename__ = "demo_products"

    id = Column(Integer, primary_key=True)
    handle = Column(String(100), nullable=False, unique=True)
    title = Column(String(200), nullable=False)
    description = Column(Text, nullable=False, default="")
    product_type = Column(String(100))
    final_sale = Column(Boolean, nullable=False, default=False)
    tags = Column(JSON)

    variants = relationship("DemoVariant", back_populates="product", order_by="DemoVariant.id")


class DemoVariant(Base):
    __tablename__ = "demo_variants"

    id = Column(Integer, primary_key=True)
    product_id = Column(Integer, ForeignKey("demo_products.id"), nullable=False, index=True)
    sku = Column(String(64), nullable=False, unique=True)
    size = Column(String(32))
    color = Column(String(32))
    price = Column(Numeric(10, 2, asdecimal=False), nullable=False)  # see bot.oms.demo_mapping
    inventory = Column(Integer, nullable=False, default=0)
    restock_date = Column(Date)

    product = relationship("DemoProduct", back_populates="variants")


class DemoOrder(Base):
    __tablename__ = "demo_orders"

    id = Column(Integer, primary_key=True, autoincrement=False)  # equals the order number
    name = Column(String(32), nullable=False, unique=True)  # "#1001"
    customer_id = Column(Integer, ForeignKey("demo_customers.id"), nullable=False, index=True)
    email = Column(String(320))
    phone = Column(String(20), index=True)  # E.164
    created_at = Column(UTCDateTime, nullable=False)
    financial_status = Column(String(32), nullable=False, default="paid")
    cancelled_at = Column(UTCDateTime)
    cancel_reason = Column(String(64))
    currency = Column(String(3), nullable=False, default="USD")
    ship_name = Column(String(200))
    ship_address1 = Column(String(200))
    ship_city = Column(String(100))
    ship_province_code = Column(String(8))
    ship_zip = Column(String(16))
    ship_country_code = Column(String(2))

    customer = relationship("DemoCustomer")
    line_items = relationship("DemoLineItem", order_by="DemoLineItem.id")
    fulfillments = relationship("DemoFulfillment", order_by="DemoFulfillment.id")
    returns = relationship("DemoReturn", order_by="DemoReturn.id")


class DemoLineItem(Base):
    __tablename__ = "demo_line_items"
    # Ids are never reused after a reset: notifications remember fulfillments by id.
    __table_args__ = {"sqlite_autoincrement": True}

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("demo_orders.id"), nullable=False, index=True)
    variant_id = Column(Integer, ForeignKey("demo_variants.id"))
    sku = Column(String(64))
    title = Column(String(200), nullable=False)
    variant_title = Column(String(100))
    quantity = Column(Integer, nullable=False)
    unit_price = Column(Numeric(10, 2, asdecimal=False), nullable=False)
    final_sale = Column(Boolean, nullable=False, default=False)


class DemoFulfillment(Base):
    __tablename__ = "demo_fulfillments"
    # Ids are never reused after a reset: notifications remember fulfillments by id.
    __table_args__ = {"sqlite_autoincrement": True}

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("demo_orders.id"), nullable=False, index=True)
    shipment_status = Column(String(32), nullable=False, default="confirmed")
    carrier = Column(String(64))
    tracking_number = Column(String(64))
    tracking_url = Column(String(500))
    created_at = Column(UTCDateTime, nullable=False)
    estimated_delivery_at = Column(UTCDateTime)
    delivered_at = Column(UTCDateTime)

    items = relationship("DemoFulfillmentItem")
    events = relationship("DemoTrackingEvent", order_by="DemoTrackingEvent.happened_at")


class DemoFulfillmentItem(Base):
    __tablename__ = "demo_fulfillment_items"

    fulfillment_id = Column(Integer, ForeignKey("demo_fulfillments.id"), primary_key=True)
    line_item_id = Column(Integer, ForeignKey("demo_line_items.id"), primary_key=True)
    quantity = Column(Integer, nullable=False)


class DemoTrackingEvent(Base):
    __tablename__ = "demo_tracking_events"

    id = Column(Integer, primary_key=True)
    fulfillment_id = Column(Integer, ForeignKey("demo_fulfillments.id"), nullable=False, index=True)
    status = Column(String(32), nullable=False)
    happened_at = Column(UTCDateTime, nullable=False)
    message = Column(String(300))
    location = Column(String(200))


class DemoReturn(Base):
    __tablename__ = "demo_returns"
    # Ids are never reused after a reset: notifications remember fulfillments by id.
    __table_args__ = {"sqlite_autoincrement": True}

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("demo_orders.id"), nullable=False, index=True)
    status = Column(String(32), nullable=False, default="requested")
    reason = Column(String(200))
    created_at = Column(UTCDateTime, nullable=False)

    items = relationship("DemoReturnItem")


class DemoReturnItem(Base):
    __tablename__ = "demo_return_items"

    return_id = Column(Integer, ForeignKey("demo_returns.id"), primary_key=True)
    line_item_id = Column(Integer, ForeignKey("demo_line_items.id"), primary_key=True)
    quantity = Column(Integer, nullable=False)


class DemoPolicy(Base):
    """One store policy (returns, shipping, payment, ...) as structured data."""

    __tablename__ = "demo_policies"

    key = Column(String(64), primary_key=True)
    value = Column(JSON, nullable=False)
