"""Product answers: stock, sizes, colours, price and restock dates, in one text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from bot.oms.base import OrderSystem, Product, Variant
from bot.support.wording import day, join, money


def _price(variants: Sequence[Variant]) -> str:
    prices = sorted({v.price for v in variants})
    if not prices:
        return ""
    if len(prices) == 1:
        return money(prices[0])
    return f"{money(prices[0])}-{money(prices[-1])}"


def _values(variants: Sequence[Variant], attribute: str) -> list[str]:
    seen: list[str] = []
    for variant in variants:
        value = getattr(variant, attribute)
        if value and value not in seen:
            seen.append(value)
    return seen


def variant_reply(product: Product, variant: Variant, now: datetime, tz: str | None) -> str:
    """'The Trailhead Hoodie in M / Navy is in stock ($68).' or when it is back."""
    name = f"The {product.title} in {variant.title}"
    if variant.in_stock:
        few = f" (only {variant.inventory} left)" if variant.inventory <= 3 else ""
        return f"{name} is in stock{few}, {money(variant.price)}."
    if variant.restock_date:
        back = _when(variant.restock_date, now, tz)
        return f"{name} is sold out right now. It should be back {back}."
    return f"{name} is sold out and we don't have a restock date yet."


def _when(when: date, now: datetime, tz: str | None) -> str:
    text = day(when, now, tz)
    return text if text in ("today", "tomorrow") else f"around {text}"


def product_reply(
    product: Product, size: str | None, color: str | None, now: datetime, tz: str | None = None
) -> str:
    """Answer about a product whose variants are those in the size/colour asked (all if none).

    The order system matches sizes and colours ("medium" is M, "gray" is Heather Grey), so
    the variants it returns are trusted rather than compared again here.
    """
    if (size or color) and len(product.variants) == 1:
        return variant_reply(product, product.variants[0], now, tz)
    return _overview(product)


def not_offered_reply(product: Product, size: str | None, color: str | None) -> str:
    """The product exists, but not in the size/colour asked: say so, then what there is."""
    asked = " / ".join(x for x in (size, color) if x)
    return f"Sorry, the {product.title} doesn't come in {asked}. " + _overview(product)


def answer_product(
    oms: OrderSystem,
    query: str,
    size: str | None,
    color: str | None,
    now: datetime,
    tz: str | None = None,
) -> tuple[Product, str] | None:
    """The product asked about and the reply, or None when the catalogue has no match."""
    found = oms.search_products(query, size=size, color=color, limit=1)
    if found:
        return found[0], product_reply(found[0], size, color, now, tz)
    if not (size or color):
        return None
    found = oms.search_products(query, limit=1)
    return (found[0], not_offered_reply(found[0], size, color)) if found else None


def _overview(product: Product) -> str:
    variants = product.variants
    text = f"{product.title} ({_price(variants)})"
    colors, sizes = _values(variants, "color"), _values(variants, "size")
    if colors:
        text += f" comes in {join(colors)}"
    if sizes:
        label = "sizes" if len(sizes) > 1 else "size"
        text += f"{',' if colors else ' comes in'} {label} {join(sizes)}"
    in_stock = [v for v in variants if v.in_stock]
    if not in_stock:
        return text + ". It's sold out right now."
    sold_out = [v.title for v in variants if not v.in_stock]
    if sold_out:
        text += f". Sold out: {join(sold_out[:4])}{' and more' if len(sold_out) > 4 else ''}"
    if product.final_sale:
        text += ". Final sale"
    return text + "."
