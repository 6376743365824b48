"""GSM-7 normalisation and SMS segment counting: every segment is billed, so we count them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 default alphabet, in table order (0x1B is the escape to the extension table).
# Note: 0x09 is the capital Ç only; a lower-case ç is not in GSM-7.
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# The extension table: each character is sent as ESC + code, so it costs two septets.
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")
_GSM7 = GSM7_BASIC | GSM7_EXTENSION

GSM7_SINGLE, GSM7_MULTI = 160, 153  # septets in a lone segment / in each part of a long one
UCS2_SINGLE, UCS2_MULTI = 70, 67  # UTF-16 code units, likewise
MAX_BODY = 1600  # Twilio rejects longer bodies
ELLIPSIS = "..."
_LAST_WORD = re.compile(r"\s+\S*\Z")


def _table(chars: str, replacement: str) -> dict[int, str]:
    return {ord(c): replacement for c in chars}


# Typographic characters that staff paste from Word or Google Docs, and their GSM-7 stand-ins.
# Keys are their own NFC form and no composition yields one (NFC turns the en and em quads
# into the en and em spaces), so normalising a normalised text changes nothing.
REPLACEMENTS: Mapping[int, str] = MappingProxyType(
    {
        **_table("\u2018\u2019\u201a\u201b\u2032\u2035\u2039\u203a\u00b4\u0060\u02bc", "'"),
        **_table("\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb", '"'),
        **_table("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        **_table("\u2022\u2023\u2043\u2219\u25aa\u25e6", "-"),
        **_table("\t\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a", " "),
        **_table("\u202f\u205f\u3000", " "),
        **_table("\u2028\u2029", "\n"),
        **_table("\u200b\u2060\ufeff\u00ad", ""),  # zero-width space, word joiner, BOM, soft hyphen
        ord("\u2026"): ELLIPSIS,
    }
)


@dataclass(frozen=True)
class SmsLength:
    """What a body costs: its encoding, its length in that encoding's units, and its segments."""

    encoding: Encoding
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """True when every character fits GSM-7, so the message gets 160 characters, not 70."""
    return set(text) <= _GSM7


def encoding(text: str) -> Encoding:
    """The encoding a carrier will use: one character outside GSM-7 makes it all UCS-2."""
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def _septets(text: str) -> list[int]:
    return [2 if c in GSM7_EXTENSION else 1 for c in text]


def _utf16_units(text: str) -> list[int]:
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def _pack(costs: list[int], single: int, multi: int) -> int:
    """Segments needed, filling each part greedily so no escape or surrogate pair is split."""
    if sum(costs) <= single:
        return 1
    count, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            count, used = count + 1, 0
        used += cost
    return count


def measure(text: str) -> SmsLength:
    """The cost of a body, so replies can be kept to one or two billed segments.

    An empty body counts as one segment: nothing sent is ever zero, and whether to send an
    empty body at all (Twilio refuses one without media) is the caller's decision.
    """
    kind = encoding(text)
    if kind == "GSM-7":
        costs, single, multi = _septets(text), GSM7_SINGLE, GSM7_MULTI
    else:
        costs, single, multi = _utf16_units(text), UCS2_SINGLE, UCS2_MULTI
    return SmsLength(kind, sum(costs), _pack(costs, single, multi))


def segments(text: str) -> int:
    """How many segments the body is billed as (1 for an empty body)."""
    return measure(text).segments


def normalize(text: str) -> str:
    """The text with typographic characters made GSM-7, unless that would cost more segments.

    NFC first composes decomposed accents (e + U+0301 -> é, which is GSM-7) and again after the
    replacements, because removing a zero-width space can join a letter to its accent. Letters,
    emoji and symbols without a true equivalent are kept: they make the message UCS-2, rightly.
    The original is returned when the result costs more (an ellipsis grows to three characters,
    which matters only when an emoji keeps the message in UCS-2 anyway).
    """
    candidate = unicodedata.normalize(
        "NFC", unicodedata.normalize("NFC", text).translate(REPLACEMENTS)
    )
    return candidate if segments(candidate) <= segments(text) else text


def _utf16_prefix(text: str, budget: int) -> str:
    """The longest prefix that fits in budget UTF-16 units, never half a surrogate pair."""
    used = 0
    for index, cost in enumerate(_utf16_units(text)):
        if used + cost > budget:
            return text[:index]
        used += cost
    return text


def truncate(text: str, limit: int = MAX_BODY) -> str:
    """The body cut to fit Twilio's limit, at a word boundary, with "..." to show the cut.

    The limit counts UTF-16 code units, which is never fewer than characters, so a result
    within it is within Twilio's character limit too.
    """
    if limit <= len(ELLIPSIS):
        raise ValueError(f"limit must be more than {len(ELLIPSIS)}, got {limit}")
    if sum(_utf16_units(text)) <= limit:
        return text
    head = _utf16_prefix(text, limit - len(ELLIPSIS))
    rest = text[len(head) :]
    last_space = _LAST_WORD.search(head)
    if not rest[:1].isspace() and last_space and last_space.start() > 0:
        head = head[: last_space.start()]  # drop the word the limit cut in two
    return head.rstrip().rstrip(",;:") + ELLIPSIS
