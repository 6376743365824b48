"""Shopify's REST JSON values (ids, times, money, addresses), read and written in one place.

The webhook parser and the payload builder share these, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.oms.base import Address, LineItem

# Shopify writes REST times in the shop's own zone; the demo shop is on the East Coast.
SHOP_ZONE = "America/New_York"
COUNTRY_NAMES = {"US": "United States", "CA": "Canada"}

_MAX_ID = 2**63 - 1  # Shopify's ids are signed 64-bit integers
_DIGITS = re.compile(r"[0-9]{1,20}")
_GID = re.compile(r"gid://shopify/[A-Za-z]+/([0-9]{1,20})(?:\?.*)?")
_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<hm>\d{2}:\d{2})(?::(?P<second>\d{2}))?"
    r"(?:\.(?P<fraction>\d{1,9}))?"
    r"(?:(?P<utc>Z)|(?P<sign>[+-])(?P<oh>\d{2}):?(?P<om>\d{2}))",
    re.ASCII | re.IGNORECASE,
)


def numeric_id(value: object) -> str | None:
    """Shopify's id as a digit string (ints, "123", "gid://shopify/Order/123"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if 0 < value <= _MAX_ID else None
    if not isinstance(value, str):
        return None
    raw = value.strip()
    match = _GID.fullmatch(raw)
    digits = match.group(1) if match else raw
    if not _DIGITS.fullmatch(digits) or not 0 < int(digits) <= _MAX_ID:
        return None
    return str(int(digits))


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time with a UTC offset, in UTC; None when absent, malformed or zoneless."""
    if not isinstance(value, str):
        return None
    match = _TIME.fullmatch(value.strip())
    if match is None:
        return None
    second = match.group("second") or "00"
    fraction = (match.group("fraction") or "").ljust(6, "0")[:6]
    offset = "+00:00" if match.group("utc") else "{sign}{oh}:{om}".format(**match.groupdict())
    stamp = f"{match.group('date')}T{match.group('hm')}:{second}.{fraction}{offset}"
    try:
        moment = datetime.fromisoformat(stamp)
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def text(value: object) -> str | None:
    """A non-blank string, stripped; None for anything else."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


@cache
def shop_zone() -> timezone | ZoneInfo:
    """The zone Shopify writes times in, UTC where the system has no time-zone data."""
    try:
        return ZoneInfo(SHOP_ZONE)
    except ZoneInfoNotFoundError:
        return timezone.utc


def rest_time(moment: datetime | None) -> str | None:
    """A time as Shopify's REST API writes it: whole seconds, shop offset ("...T10:00:00-04:00")."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("Shopify times need an aware datetime")
    return moment.astimezone(shop_zone()).replace(microsecond=0).isoformat()


def rest_id(value: str, what: str) -> int:
    """Our string id as the int Shopify sends; ValueError when it is not a Shopify id."""
    digits = numeric_id(value)
    if digits is None:
        raise ValueError(f"{what} {value!r} is not a numeric Shopify id")
    return int(digits)


def rest_address(address: Address | None, phone: str | None) -> dict | None:
    """A REST address; we keep province and country as codes, so those double as names."""
    if address is None:
        return None
    first, _, last = (address.name or "").partition(" ")
    return {
        "first_name": first or None,
        "last_name": last or None,
        "name": address.name,
        "address1": address.address1,
        "city": address.city,
        "province": address.province_code,
        "province_code": address.province_code,
        "zip": address.zip,
        "country": COUNTRY_NAMES.get(address.country_code or "", address.country_code),
        "country_code": address.country_code,
        "phone": phone,
        **dict.fromkeys(("company", "address2", "latitude", "longitude")),
    }


def rest_line_item(item: LineItem, quantity: int, status: str | None, currency: str) -> dict:
    """A REST line item with the fields the webhooks carry."""
    line_id = rest_id(item.id, "line item id")
    price = rest_money(item.unit_price)
    money = {"amount": price, "currency_code": currency}
    return {
        "id": line_id,
        "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
        "title": item.title,
        "variant_title": item.variant_title,
        "name": f"{item.title} - {item.variant_title}" if item.variant_title else item.title,
        "sku": item.sku,
        "quantity": quantity,
        "price": price,
        "price_set": {"shop_money": money, "presentment_money": money},
        "total_discount": "0.00",
        "fulfillment_service": "manual",
        "fulfillment_status": status,
        **dict.fromkeys(("requires_shipping", "taxable", "product_exists"), True),
        "gift_card": False,
        **{key: [] for key in ("properties", "tax_lines", "discount_allocations", "duties")},
    }


def rest_money(amount: Decimal) -> str:
    """Shopify writes money as a string with two decimals ("68.00")."""
    return f"{amount.quantize(Decimal('0.01'))}"
