"""Product search shared by the stores: typo-tolerant word matching, sizes and colours.

The demo store scores every product it has; the Shopify adapter scores the candidates
Shopify's own search (and, for typos, a bounded catalogue scan) hands back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol, TypeVar


class HasColor(Protocol):
    @property
    def color(self) -> str | None: ...


class Searchable(Protocol):
    """What a product needs for scoring (demo rows and Shopify candidates both fit)."""

    @property
    def title(self) -> str: ...

    @property
    def product_type(self) -> str | None: ...

    @property
    def description(self) -> str | None: ...

    @property
    def tags(self) -> Iterable[str] | None: ...

    @property
    def variants(self) -> Iterable[HasColor]: ...


class Sized(Protocol):
    @property
    def size(self) -> str | None: ...

    @property
    def color(self) -> str | None: ...


V = TypeVar("V", bound=Sized)

# Words a shopper types that say nothing about the product.
STOPWORDS = frozenset(
    {"a", "an", "and", "any", "are", "can", "do", "does", "for", "got", "have", "i", "in"}
    | {"is", "it", "me", "my", "of", "on", "or", "please", "show", "some", "that", "the"}
    | {"there", "this", "to", "want", "what", "with", "you", "your"}
)
# A typo in a word this long still finds it ("trailhed" -> "trailhead": one edit; two in
# words of 8 letters or more); shorter words, where one letter changes the word
# ("vest"/"best"), must match exactly.
MIN_FUZZY_LENGTH = 5
# Where a query word is found decides how much it counts.
WEIGHTS = {"title": 3, "type": 3, "tags": 2, "color": 1, "description": 1}
_SIZES = {
    "extra small": "xs",
    "x-small": "xs",
    "small": "s",
    "medium": "m",
    "med": "m",
    "large": "l",
    "extra large": "xl",
    "x-large": "xl",
    "xx-large": "xxl",
    "2xl": "xxl",
}


def stem(word: str) -> str:
    """Singular-ish form, so "hoodies" finds "Hoodie" and "boxes" finds "box"."""
    if len(word) > 4 and word.endswith(("ses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str | None) -> set[str]:
    """The stemmed words of `text` that could name a product."""
    tokens = re.findall(r"[a-z0-9]+", (text or "").lower())
    return {stem(t) for t in tokens if t not in STOPWORDS}


def score(product: Searchable, query: set[str]) -> int:
    """How well the product matches: each query word counts where it matches best."""
    fields = _fields(product)
    return sum(
        max((WEIGHTS[name] for name, found in fields.items() if _found(word, found)), default=0)
        for word in query
    )


def exact_words(product: Searchable) -> set[str]:
    """Every word scoring looks at, so a caller can tell which query words it has seen exactly."""
    return set().union(*_fields(product).values())


def _fields(product: Searchable) -> dict[str, set[str]]:
    return {
        "title": words(product.title),
        "type": words(product.product_type),
        "tags": words(" ".join(product.tags or ())),
        "color": words(" ".join(v.color or "" for v in product.variants)),
        "description": words(product.description),
    }


def _found(word: str, field: set[str]) -> bool:
    """The word is in the field, or a long word is misspelled there ("trailhed")."""
    if word in field:
        return True
    if len(word) < MIN_FUZZY_LENGTH:
        return False
    allowed = 1 if len(word) < 8 else 2
    return any(
        abs(len(candidate) - len(word)) <= allowed and edits(word, candidate) <= allowed
        for candidate in field
        if len(candidate) >= MIN_FUZZY_LENGTH
    )


def edits(a: str, b: str) -> int:
    """Levenshtein distance: letters inserted, deleted or replaced to turn `a` into `b`."""
    previous = list(range(len(b) + 1))
    for i, letter in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (letter != other))
            )
        previous = current
    return previous[-1]


def matching_variants(variants: Iterable[V], size: str | None, color: str | None) -> list[V]:
    """The variants in the wanted size and colour (case-insensitive; "medium" is M)."""
    return [v for v in variants if _size_fits(v.size, size) and _color_fits(v.color, color)]


def _size_fits(size: str | None, wanted: str | None) -> bool:
    if not wanted or not wanted.strip():
        return True
    return size is not None and _size_key(size) == _size_key(wanted)


def _size_key(size: str) -> str:
    key = " ".join(size.lower().split())
    return _SIZES.get(key, key)


def _color_fits(color: str | None, wanted: str | None) -> bool:
    if not wanted or not wanted.strip():
        return True
    if color is None:
        return False
    wanted_key, color_key = _color_key(wanted), _color_key(color)
    return wanted_key == color_key or wanted_key in color_key.split()


def _color_key(color: str) -> str:
    return " ".join(color.lower().replace("gray", "grey").split())
