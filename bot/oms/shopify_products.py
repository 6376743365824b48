"""Product search on Shopify, ranked as the demo store ranks: Shopify finds, Pigeon orders.

Shopify's search finds products by the words typed but forgives no typo ("trailhed"), and
Pigeon also matches descriptions and colours. So:
1. read the first page of active products by title, cheaply (words, no variants): for a
   catalogue of up to CANDIDATE_PAGE products that is all of it, and the answer is exact;
2. a bigger catalogue: ask Shopify for active products matching any of the words (a page, by
   relevance); if a word of the query is in none of them (a typo), read on through the
   catalogue by title, up to CATALOGUE_SCAN products. Past that, a misspelled word, or one
   only in descriptions, can be missed;
3. score the candidates with bot.oms.search, then fetch variants and stock for the best ones
   only, a few at a time, until `limit` products have variants in the size/colour asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from bot.notify.shopify_json import text
from bot.oms import shopify_queries as q
from bot.oms.base import Product, Variant
from bot.oms.search import STOPWORDS, exact_words, matching_variants, score, stem, words
from bot.oms.shopify_client import ShopifyGraphQL
from bot.oms.shopify_parse import (
    FINAL_SALE_TAG,
    field,
    gid,
    is_final_sale,
    local_id,
    money,
    nodes,
    tag_list,
)

ACTIVE = "status:active"
# Stock Shopify does not count always sells: shown as plenty, never "only 2 left".
UNTRACKED_STOCK = 999
_SIZE_OPTIONS = frozenset({"size"})
_COLOR_OPTIONS = frozenset({"color", "colour"})


@dataclass(frozen=True)
class Reach:
    """How many products one page of candidates holds, and how far a scan for typos reads."""

    page: int = q.CANDIDATE_PAGE
    scan: int = q.CATALOGUE_SCAN


DEFAULT_REACH = Reach()


def search_products(
    client: ShopifyGraphQL,
    query: str,
    *,
    size: str | None,
    color: str | None,
    limit: int,
    reach: Reach = DEFAULT_REACH,
) -> list[Product]:
    """Products matching the words of `query`, best first, variants filtered by size/colour."""
    wanted = words(query) if isinstance(query, str) else set()
    if not wanted or limit < 1:
        return []
    candidates = _candidates(client, query, wanted, reach)
    scored = [(score(c, wanted), c) for c in candidates.values()]
    ranked = [c for points, c in sorted(scored, key=_rank) if points > 0]
    found: list[Product] = []
    for start in range(0, len(ranked), q.DETAIL_BATCH):
        batch = ranked[start : start + q.DETAIL_BATCH]
        details = _details(client, [c.id for c in batch])
        for candidate in batch:
            product = details.get(candidate.id)
            variants = matching_variants(product.variants, size, color) if product else []
            if product and variants:
                found.append(replace(product, variants=tuple(variants)))
                if len(found) == limit:
                    return found
    return found


def _rank(pair: tuple[int, Candidate]) -> tuple[int, str, int]:
    points, candidate = pair
    return -points, candidate.title, int(candidate.id)


def search_terms(query: str) -> list[str]:
    """The words to ask Shopify for, as typed and singular: "hoodies" asks hoodies OR hoodie."""
    tokens = [t for t in re.findall(r"[a-z0-9]+", query.lower()) if t not in STOPWORDS]
    return sorted(set(tokens) | {stem(t) for t in tokens})


def _candidates(
    client: ShopifyGraphQL, query: str, wanted: set[str], reach: Reach
) -> dict[str, Candidate]:
    found: dict[str, Candidate] = {}
    more = _read(client, ACTIVE, "TITLE", reach.page, reach.page, found)
    if more is None:
        return found  # the whole catalogue
    matching = f"({' OR '.join(search_terms(query))}) AND {ACTIVE}"
    _read(client, matching, "RELEVANCE", reach.page, reach.page, found)
    seen = set().union(*(exact_words(c) for c in found.values()))
    if wanted - seen:
        _read(client, ACTIVE, "TITLE", reach.scan - reach.page, reach.page, found, more)
    return found


def _read(
    client: ShopifyGraphQL,
    search: str,
    sort_key: str,
    limit: int,
    page_size: int,
    into: dict[str, Candidate],
    after: str | None = None,
) -> str | None:
    """Add up to `limit` products of a search to `into`; the cursor to read on from, if any."""
    read = 0
    while read < limit:
        variables = {
            "query": search,
            "first": min(page_size, limit - read),
            "after": after,
            "sortKey": sort_key,
        }
        data = client.query(q.PRODUCT_CANDIDATES, "ProductCandidates", variables)
        page = data.get("products") if isinstance(data.get("products"), dict) else {}
        found = nodes(page)
        for node in found:
            candidate = to_candidate(node)
            into.setdefault(candidate.id, candidate)
        read += len(found)
        info = page.get("pageInfo") if isinstance(page.get("pageInfo"), dict) else {}
        after = info.get("endCursor") if info.get("hasNextPage") else None
        if not found or after is None:
            return None
    return after


def _details(client: ShopifyGraphQL, ids: list[str]) -> dict[str, Product]:
    """The products with their variants, stock and restock dates, by id."""
    data = client.query(
        q.PRODUCT_DETAILS, "ProductDetails", {"ids": [gid("Product", i) for i in ids]}
    )
    products = [n for n in data.get("nodes") or () if isinstance(n, dict) and n.get("id")]
    return {local_id(node, "a product"): to_product(node) for node in products}


@dataclass(frozen=True)
class Colour:
    color: str | None


@dataclass(frozen=True)
class Candidate:
    """A product as search candidates are fetched: the words scoring needs, no variants yet."""

    id: str
    title: str
    product_type: str | None
    description: str | None
    tags: tuple[str, ...]
    variants: tuple[Colour, ...]  # one per colour option value, for scoring


def to_candidate(node: dict) -> Candidate:
    colours = [
        Colour(text(value.get("name")))
        for option in node.get("options") or ()
        if isinstance(option, dict) and (text(option.get("name")) or "").lower() in _COLOR_OPTIONS
        for value in option.get("optionValues") or ()
        if isinstance(value, dict)
    ]
    return Candidate(
        id=local_id(node, "a product"),
        title=text(node.get("title")) or "",
        product_type=text(node.get("productType")),
        description=text(node.get("description")),
        tags=tuple(t for t in tag_list(node.get("tags")) if t.lower() != FINAL_SALE_TAG),
        variants=tuple(colours),
    )


def to_product(node: dict) -> Product:
    product_id = local_id(node, "a product")
    return Product(
        id=product_id,
        handle=text(node.get("handle")) or product_id,
        title=text(node.get("title")) or "",
        description=text(node.get("description")) or "",
        product_type=text(node.get("productType")),
        final_sale=is_final_sale(node.get("tags")),
        variants=tuple(to_variant(v) for v in nodes(node.get("variants"))),
    )


def to_variant(node: dict) -> Variant:
    variant_id = local_id(node, "a product variant")
    options = {
        (text(o.get("name")) or "").lower(): text(o.get("value"))
        for o in node.get("selectedOptions") or ()
        if isinstance(o, dict)
    }
    title = text(node.get("title"))
    return Variant(
        id=variant_id,
        sku=text(node.get("sku")) or "",
        title="Default" if title in (None, "Default Title") else title,
        size=next((options[k] for k in _SIZE_OPTIONS if options.get(k)), None),
        color=next((options[k] for k in _COLOR_OPTIONS if options.get(k)), None),
        price=money(node.get("price"), f"variant {variant_id}"),
        inventory=_stock(node),
        restock_date=_date(field(node, "restockDate").get("value")),
    )


def _stock(node: dict) -> int:
    if field(node, "inventoryItem").get("tracked") is False:
        return UNTRACKED_STOCK
    quantity = node.get("inventoryQuantity")
    return quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else 0


def _date(value: object) -> date | None:
    """A date metafield ("2026-06-25"); anything else is no date."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
