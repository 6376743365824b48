"""The four files of data/demo/, checked and resolved against the seeding time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.oms.demo_orders import OrderData, parse_orders
from bot.oms.demo_yaml import Node, load_yaml
from bot.phone import normalize, time_zone_for

POLICY_TEXTS = ("returns", "final_sale", "exchanges", "shipping_times", "support_hours")
POLICY_LISTS = ("shipping_countries", "payment_methods")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_HANDLE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


@dataclass(frozen=True)
class CustomerData:
    name: str
    email: str  # lower case
    phone: str  # E.164
    address1: str | None
    city: str | None
    state: str | None
    zip: str
    country: str
    time_zone: str | None
    consented_at: datetime | None  # when they ticked the SMS box at checkout


@dataclass(frozen=True)
class VariantData:
    sku: str
    size: str | None
    color: str | None
    price: Decimal
    stock: int
    restock: date | None


@dataclass(frozen=True)
class ProductData:
    handle: str
    title: str
    product_type: str | None
    description: str
    tags: tuple[str, ...]
    final_sale: bool
    variants: tuple[VariantData, ...]


@dataclass(frozen=True)
class DemoData:
    disclosure: str  # the SMS consent text shown at checkout
    customers: tuple[CustomerData, ...]
    products: tuple[ProductData, ...]
    orders: tuple[OrderData, ...]
    policies: dict[str, object]


def load_demo(data_dir: Path, now: datetime) -> DemoData:
    """Every demo file, checked; raises DemoDataError at the first mistake."""
    disclosure, customers = parse_customers(load_yaml(data_dir / "customers.yml"), now)
    products = parse_products(load_yaml(data_dir / "products.yml"), now)
    skus = {v.sku for p in products for v in p.variants}
    emails = {c.email for c in customers}
    orders = parse_orders(load_yaml(data_dir / "orders.yml"), now, skus, emails)
    policies = parse_policies(load_yaml(data_dir / "policies.yml"))
    return DemoData(disclosure, customers, products, orders, policies)


def parse_customers(root: Node, now: datetime) -> tuple[str, tuple[CustomerData, ...]]:
    """The checkout disclosure and the customers; emails and phones must be unique."""
    top = root.fields(("checkout_disclosure", "customers"))
    nodes = top["customers"].items()
    customers = tuple(_customer(node, now) for node in nodes)
    _check_unique(_places(nodes, "email", [c.email for c in customers]))
    _check_unique(_places(nodes, "phone", [c.phone for c in customers]))
    return top["checkout_disclosure"].text(), customers


def _places(nodes: list[Node], key: str, values: list[str]) -> list[tuple[Node, str]]:
    return [(node.child(key, value), value) for node, value in zip(nodes, values, strict=True)]


def _check_unique(places: list[tuple[Node, str]]) -> None:
    """Emails, phones, handles and SKUs identify things, so each may appear once."""
    seen: set[str] = set()
    for node, value in places:
        if value in seen:
            raise node.fail(f"{value!r} appears twice; each must be unique")
        seen.add(value)


def _customer(node: Node, now: datetime) -> CustomerData:
    f = node.fields(("name", "email", "phone", "address"), ("sms_consent",))
    email = f["email"].text().lower()
    if not _EMAIL.fullmatch(email):
        raise f["email"].fail(f"{email!r} is not an email address")
    phone = normalize(f["phone"].text())
    if phone is None:
        raise f["phone"].fail(f"{f['phone'].value!r} is not a phone number")
    a = f["address"].fields(("zip",), ("address1", "city", "state", "country", "time_zone"))
    consent = f.get("sms_consent")
    return CustomerData(
        name=f["name"].text(),
        email=email,
        phone=phone,
        address1=a["address1"].text() if "address1" in a else None,
        city=a["city"].text() if "city" in a else None,
        state=a["state"].text().upper() if "state" in a else None,
        zip=a["zip"].text(),
        country=a["country"].text().upper() if "country" in a else "US",
        time_zone=_time_zone(a["time_zone"]) if "time_zone" in a else time_zone_for(phone),
        consented_at=_consent(consent, now) if consent is not None else None,
    )


def _consent(node: Node, now: datetime) -> datetime | None:
    """`sms_consent: no`, or when the box was ticked: `sms_consent: 40 days ago`."""
    if node.value is False:
        return None
    return node.when(now)


def _time_zone(node: Node) -> str:
    name = node.text()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise node.fail(f"{name!r} is not a time zone; write e.g. America/Chicago") from None
    return name


def parse_products(root: Node, now: datetime) -> tuple[ProductData, ...]:
    """The catalogue; handles and SKUs must be unique, as orders refer to variants by SKU."""
    nodes = root.fields(("products",))["products"].items()
    products = tuple(_product(node, now) for node in nodes)
    _check_unique(_places(nodes, "handle", [p.handle for p in products]))
    _check_unique(
        [
            (n.child("variants", None).child(i, None).child("sku", None), v.sku)
            for n, p in zip(nodes, products, strict=True)
            for i, v in enumerate(p.variants)
        ]
    )
    return products


def _product(node: Node, now: datetime) -> ProductData:
    optional = ("handle", "type", "tags", "final_sale")
    f = node.fields(("title", "description", "variants"), optional)
    title = f["title"].text()
    handle = f["handle"].text() if "handle" in f else re.sub(r"[^a-z0-9]+", "-", title.lower())
    if not _HANDLE.fullmatch(handle.strip("-")):
        raise node.fail(f"handle {handle!r} must be lower-case words joined by '-'")
    return ProductData(
        handle=handle.strip("-"),
        title=title,
        product_type=f["type"].text() if "type" in f else None,
        description=f["description"].text(),
        tags=tuple(t.lower() for t in f["tags"].texts()) if "tags" in f else (),
        final_sale=f["final_sale"].flag() if "final_sale" in f else False,
        variants=tuple(_variant(v, now) for v in f["variants"].items()),
    )


def _variant(node: Node, now: datetime) -> VariantData:
    f = node.fields(("sku", "price", "stock"), ("size", "color", "restock"))
    stock = f["stock"].integer()
    restock = f["restock"].when(now).date() if "restock" in f else None
    if restock is not None and stock > 0:
        raise f["restock"].fail("a restock date is only for sold-out variants (stock: 0)")
    if restock is not None and restock < now.date():
        raise f["restock"].fail("the restock date is in the past")
    return VariantData(
        sku=f["sku"].text(),
        size=f["size"].text() if "size" in f else None,
        color=f["color"].text() if "color" in f else None,
        price=f["price"].money(),
        stock=stock,
        restock=restock,
    )


def parse_policies(root: Node) -> dict[str, object]:
    """Every policy StorePolicies needs, as the JSON values the demo_policies table holds."""
    f = root.fields(("return_window_days",) + POLICY_TEXTS + POLICY_LISTS)
    policies: dict[str, object] = {"return_window_days": f["return_window_days"].integer()}
    policies.update({key: f[key].text() for key in POLICY_TEXTS})
    policies.update({key: list(f[key].texts()) for key in POLICY_LISTS})
    return policies
