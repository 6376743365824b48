"""Hostile text against the SMS text rules: keywords, GSM-7 normalisation, segment counting.

Nothing a customer or an agent types may raise, and the counts must agree with an
independent encoder written here from GSM 03.38 (not with the module's own tables).
"""

from __future__ import annotations

import math
import unicodedata

from hypothesis import assume, given
from hypothesis import strategies as st

from bot.sms.gsm import MAX_BODY, measure, normalize, segments, truncate
from bot.sms.keywords import Keyword, detect
from tests.hostile.strategies import examples, hostile_text

# GSM 03.38 default alphabet by code (0x1B, the escape, left out) and its extension table.
_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENSION_TABLE = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F}
_EXTENSION_TABLE |= {"[": 0x3C, "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65}
KEYWORDS = {
    **dict.fromkeys(
        ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"], "STOP"
    ),
    **dict.fromkeys(["START", "YES", "UNSTOP"], "START"),
    **dict.fromkeys(["HELP", "INFO"], "HELP"),
}


def gsm7_septets(text: str) -> list[int] | None:
    """The septets a carrier sends for `text`, or None when it cannot be GSM-7."""
    out: list[int] = []
    for char in text:
        if char in _EXTENSION_TABLE:
            out += [0x1B, _EXTENSION_TABLE[char]]
        elif char != "\x1b" and char in _BASIC_TABLE:
            out.append(_BASIC_TABLE.index(char))
        else:
            return None
    return out


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _is_edge(char: str) -> bool:
    """Punctuation or spacing that stays punctuation or spacing under NFKC."""
    folded = unicodedata.normalize("NFKC", char)
    return bool(folded) and all(unicodedata.category(c)[0] in "PZ" for c in folded)


edges = st.text(st.characters().filter(_is_edge) | st.sampled_from(" \t\r\n.!*\"'"), max_size=6)
keyword = st.sampled_from(sorted(KEYWORDS))


def _recased(word: str, flips: list[bool]) -> str:
    return "".join(
        c.lower() if flip else c for c, flip in zip(word, flips + [False] * 20, strict=False)
    )


# --- keywords ---------------------------------------------------------------------------


@given(hostile_text)
@examples(300)
def test_detect_never_raises_and_names_a_known_keyword(body: str) -> None:
    found = detect(body)
    assert found is None or (isinstance(found, Keyword) and found.word in KEYWORDS)
    if found is not None:
        assert found.kind.value == KEYWORDS[found.word]


@given(keyword, edges, edges, st.lists(st.booleans(), max_size=12))
@examples(300)
def test_case_and_surrounding_punctuation_do_not_change_a_keyword(
    word: str, before: str, after: str, flips: list[bool]
) -> None:
    found = detect(before + _recased(word, flips) + after)
    assert found is not None
    assert (found.word, found.kind.value) == (word, KEYWORDS[word])


@given(keyword, st.text(st.characters(categories=["Lu", "Ll", "Nd"]), min_size=1, max_size=8))
@examples(200)
def test_a_keyword_inside_a_longer_word_is_not_that_keyword(word: str, more: str) -> None:
    glued = detect(word + more)
    if (word + more).upper() not in KEYWORDS:  # STOP + ALL is STOPALL, itself a keyword
        assert glued is None or glued.word != word
    assert detect(more + word) is None or (more + word).upper() in KEYWORDS


@given(keyword, st.sampled_from(["please", "don't", "ALL", "now", "7"]), edges)
@examples(200)
def test_a_keyword_with_another_word_is_for_the_assistant(word: str, other: str, gap: str) -> None:
    assert detect(f"{word} {gap}{other}") is None
    assert detect(f"{other}{gap} {word}") is None


# --- GSM-7 and segments -----------------------------------------------------------------


@given(hostile_text)
@examples(300)
def test_normalize_never_raises_never_costs_more_and_is_stable(text: str) -> None:
    normal = normalize(text)
    assert isinstance(normal, str)
    assert segments(normal) <= segments(text)
    assert normalize(normal) == normal


@given(hostile_text)
@examples(300)
def test_the_count_agrees_with_an_independent_encoder(text: str) -> None:
    length = measure(text)
    septets = gsm7_septets(text)
    if septets is not None:
        assert length.encoding == "GSM-7"
        assert length.units == len(septets)
        single, multi = 160, 153
    else:
        assert length.encoding == "UCS-2"
        assert length.units == utf16_units(text)
        single, multi = 70, 67
    if length.units <= single:
        assert length.segments == 1
    else:
        # Parts are filled greedily without splitting an escape or a surrogate pair, so
        # each part holds `multi` units, or one fewer where a pair would not fit.
        assert math.ceil(length.units / multi) <= length.segments
        assert length.segments <= math.ceil(length.units / (multi - 1))


@given(st.text(st.sampled_from(sorted(set(_BASIC_TABLE) - {"\x1b"})), max_size=700))
@examples(150)
def test_plain_gsm7_text_splits_at_160_then_153(text: str) -> None:
    expected = 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    assert measure(text).segments == expected


@given(st.text(st.characters(min_codepoint=0x400, max_codepoint=0x4FF), max_size=400))
@examples(150)
def test_plain_ucs2_text_splits_at_70_then_67(text: str) -> None:  # Cyrillic: one unit each
    expected = 1 if len(text) <= 70 else math.ceil(len(text) / 67)
    assert measure(text).segments == expected


@given(hostile_text, hostile_text)
@examples(300)
def test_segments_never_drop_as_text_is_added(text: str, more: str) -> None:
    assert segments(text) <= segments(text + more)


@given(hostile_text | st.text(min_size=1500, max_size=2500), st.integers(4, MAX_BODY))
@examples(200)
def test_truncate_fits_the_limit_and_keeps_a_prefix(text: str, limit: int) -> None:
    cut = truncate(text, limit)
    assert utf16_units(cut) <= limit
    if cut != text:
        assert cut.endswith("...")
        assume(cut[:-3])
        assert text.startswith(cut[:-3])
