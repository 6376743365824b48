import dataclasses
import math
import random
import unicodedata

import pytest

from bot.sms.gsm import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_BODY,
    REPLACEMENTS,
    SmsLength,
    encoding,
    is_gsm7,
    measure,
    normalize,
    segments,
    truncate,
)

UCS2_CHAR = "ł"  # one UTF-16 unit, not in GSM-7
EMOJI = "😀"  # a surrogate pair: two UTF-16 units


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_basic_alphabet_has_the_127_characters_of_gsm_03_38() -> None:
    assert len(GSM7_BASIC) == 127  # 128 codes less the escape
    assert "\x1b" not in GSM7_BASIC


def test_extension_table_is_the_ten_escaped_characters() -> None:
    assert frozenset("^{}\\[]~|€\f") == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize("char", list("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r"))
def test_accented_and_greek_letters_of_the_table_are_gsm7(char: str) -> None:
    assert is_gsm7(char)


@pytest.mark.parametrize("char", list("çáíóúâêîôûëïÿãõÀÈÌÒÙÁÍÓÚœŒ`\t\x1bł©®™"))
def test_lookalikes_outside_the_table_are_not_gsm7(char: str) -> None:
    assert not is_gsm7(char)
    assert encoding(char) == "UCS-2"


def test_ascii_printables_are_gsm7_except_backtick() -> None:
    printable = {chr(c) for c in range(0x20, 0x7F)}
    assert {c for c in printable if not is_gsm7(c)} == {"`"}


@pytest.mark.parametrize(
    ("length", "expected"),
    [(1, 1), (159, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_segments_at_the_boundaries(length: int, expected: int) -> None:
    assert segments("a" * length) == expected


def test_empty_body_is_one_gsm7_segment() -> None:
    assert measure("") == SmsLength("GSM-7", 0, 1)


def test_extension_characters_count_two_septets() -> None:
    assert measure("€" * 80) == SmsLength("GSM-7", 160, 1)
    assert measure("€" * 80 + "a") == SmsLength("GSM-7", 161, 2)
    assert measure("{}") == SmsLength("GSM-7", 4, 1)
    assert segments("a" * 158 + "^") == 1
    assert segments("a" * 159 + "^") == 2  # 161 septets in 160 characters


def test_escape_pair_is_not_split_across_segments() -> None:
    # 152 + 2 would be 154 septets: the € moves to the second segment, leaving a third.
    split = "a" * 152 + "€" + "a" * 152
    assert measure(split) == SmsLength("GSM-7", 306, 3)
    fits = "a" * 151 + "€" + "a" * 153
    assert measure(fits) == SmsLength("GSM-7", 306, 2)


@pytest.mark.parametrize(
    ("length", "expected"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_segments_at_the_boundaries(length: int, expected: int) -> None:
    assert segments(UCS2_CHAR * length) == expected


def test_one_non_gsm_character_makes_the_whole_message_ucs2() -> None:
    body = "a" * 69 + UCS2_CHAR
    assert measure(body) == SmsLength("UCS-2", 70, 1)
    assert measure(body + "a") == SmsLength("UCS-2", 71, 2)
    assert measure("€" * 69 + UCS2_CHAR) == SmsLength("UCS-2", 70, 1)  # no escapes in UCS-2


def test_emoji_count_two_units() -> None:
    assert measure(EMOJI * 35) == SmsLength("UCS-2", 70, 1)
    assert measure(EMOJI * 35 + "a") == SmsLength("UCS-2", 71, 2)


def test_surrogate_pair_is_not_split_across_segments() -> None:
    split = UCS2_CHAR * 66 + EMOJI + UCS2_CHAR * 66
    assert measure(split) == SmsLength("UCS-2", 134, 3)
    fits = UCS2_CHAR * 65 + EMOJI + UCS2_CHAR * 67
    assert measure(fits) == SmsLength("UCS-2", 134, 2)


def test_max_body_lengths() -> None:
    assert MAX_BODY == 1600
    assert measure("a" * MAX_BODY) == SmsLength("GSM-7", 1600, 11)
    assert measure(UCS2_CHAR * MAX_BODY) == SmsLength("UCS-2", 1600, 24)


def test_sms_length_is_frozen() -> None:
    length = measure("hi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        length.segments = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("It\u2019s here", "It's here"),
        ("\u2018quoted\u2019", "'quoted'"),
        ("\u201cquoted\u201d", '"quoted"'),
        ("\u201eGerman\u201c", '"German"'),
        ("\u00abFrench\u00bb", '"French"'),
        ("5\u2032 11\u2033", "5' 11\""),
        ("rock \u0060n\u00b4 roll", "rock 'n' roll"),
        ("9\u20135 Mon\u2013Fri", "9-5 Mon-Fri"),
        ("wait\u2014what", "wait-what"),
        ("\u22125 \u2010 \u2011 \u2012 \u2015", "-5 - - - -"),
        ("Soon\u2026", "Soon..."),
        ("\u2022 one\n\u25e6 two\n\u2023 three\n\u2043 four", "- one\n- two\n- three\n- four"),
        ("10\u00a0USD", "10 USD"),
        ("10\u202fUSD", "10 USD"),
        ("a\u2002b\u2003c\u2009d\u200ae\u3000f", "a b c d e f"),
        ("col1\tcol2", "col1 col2"),
        ("zero\u200bwidth\u2060joined\ufeff", "zerowidthjoined"),
        ("hyphen\u00adated", "hyphenated"),
        ("line\u2028break\u2029para", "line\nbreak\npara"),
        ("a\u2000b\u2001c", "a b c"),  # en/em quads: NFC makes them en/em spaces
        ("Cafe\u0301", "Café"),  # decomposed accent from macOS: composed, and GSM-7
        ("e\u200b\u0301", "é"),  # a zero-width space between letter and accent
        ("\u212bngstr\u00f6m \u2126", "Ångström Ω"),  # Angstrom and ohm signs are Å and Ω
    ],
)
def test_normalize_table(raw: str, expected: str) -> None:
    assert normalize(raw) == expected
    assert is_gsm7(expected)


@pytest.mark.parametrize(
    "text",
    [
        "Café Müller, Ñandú, Ärger, Øresund, Åse, Æsir, straße, É, Ç, ò, ì, ù, à",
        "a plain GSM-7 message {with} [brackets] ~tilde~ |pipe| ^caret^ \\ €5\f",
        "line one\r\nline two",
        "Thanks 😀",
        "👨\u200d👩\u200d👧 family",  # the zero-width joiner holds the emoji together
        "❤\ufe0f",
        "ご注文ありがとうございます",
        "Garçon, crème brûlée, façade",  # ç is not GSM-7 (only Ç is): the text stays UCS-2
        "Acme™ ©2026 ®",
        "Ελληνικά",
        "Привет",
    ],
)
def test_normalize_keeps_gsm7_text_and_what_has_no_gsm7_equivalent(text: str) -> None:
    assert normalize(text) == text


def test_normalize_still_cleans_text_that_stays_ucs2() -> None:
    assert normalize("Garçon\u2019s caf\u00e9\u2026 😀") == "Garçon's café... 😀"


def test_normalize_keeps_the_original_when_the_ellipsis_would_cost_a_segment() -> None:
    text = EMOJI + "\u2026" * 68  # 70 units: one UCS-2 segment; "..." would make it four
    assert segments(text) == 1
    assert normalize(text) == text


def test_normalized_text_turns_gsm7_and_saves_segments() -> None:
    pasted = "\u201cYour order\u2019s on its way\u201d \u2014 " + "x" * 60
    assert measure(pasted).encoding == "UCS-2"
    assert measure(pasted).segments == 2
    assert measure(normalize(pasted)) == SmsLength("GSM-7", 88, 1)


def test_replacement_keys_are_stable_under_nfc_and_map_into_gsm7() -> None:
    for key, value in REPLACEMENTS.items():
        char = chr(key)
        assert unicodedata.normalize("NFC", char) == char
        assert not unicodedata.decomposition(char) or unicodedata.decomposition(char)[0] == "<"
        assert not is_gsm7(char)
        assert set(value) <= GSM7_BASIC


def test_truncate_leaves_a_body_within_the_limit() -> None:
    assert truncate("a" * MAX_BODY) == "a" * MAX_BODY
    assert truncate(EMOJI * 800) == EMOJI * 800
    assert truncate("") == ""


def test_truncate_cuts_at_a_word_boundary() -> None:
    assert truncate("hello world again", 14) == "hello world..."
    assert truncate("hello world again", 13) == "hello..."
    assert truncate("one, two three", 10) == "one..."


def test_truncate_cuts_a_single_long_word_where_it_must() -> None:
    assert truncate("a" * (MAX_BODY + 1)) == "a" * (MAX_BODY - 3) + "..."


def test_truncate_a_long_body_of_words() -> None:
    result = truncate("word " * 400)
    assert len(result) <= MAX_BODY
    assert result.endswith("word...")
    assert result == "word " * 318 + "word..."


def test_truncate_counts_utf16_units_and_keeps_surrogate_pairs_whole() -> None:
    result = truncate(EMOJI * 1000)
    assert result == EMOJI * 798 + "..."
    assert utf16_units(result) == 1599


def test_truncate_rejects_a_limit_with_no_room_for_text() -> None:
    with pytest.raises(ValueError, match="limit"):
        truncate("hello", 3)


POOL = (
    list("abcdefghijklmnopqrstuvwxyz ABC,.!?0123") * 4
    + list(GSM7_EXTENSION)
    + list("éèÇÑüÄåßΩ\n")
    + [chr(k) for k in REPLACEMENTS]
    + ["\u0301", "\u0308", "\u2000", "\u212b", "\u2126", "\u1fef", "\u0958", "\U0001d160"]
    + ["ç", "ł", "中", "™", EMOJI, "👍", "\u200d", "\ufe0f"]
)


def generated(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        length = rng.choice([rng.randint(0, 80), rng.randint(60, 400)])
        texts.append("".join(rng.choice(POOL) for _ in range(length)))
    return texts


def test_normalize_is_idempotent_and_never_costs_segments() -> None:
    for text in generated(400, seed=3803):
        once = normalize(text)
        assert normalize(once) == once, repr(text)
        assert segments(once) <= segments(text), repr(text)


def test_measure_agrees_with_the_encodings() -> None:
    for text in generated(300, seed=160):
        check_length(text, measure(text))


def check_length(text: str, length: SmsLength) -> None:
    """Units match an independent count; segments lie between the ideal and one lost per part."""
    assert (length.encoding == "GSM-7") is is_gsm7(text), repr(text)
    if length.encoding == "UCS-2":
        assert length.units == utf16_units(text), repr(text)
        single, multi = 70, 67
    else:
        assert length.units == len(text) + sum(c in GSM7_EXTENSION for c in text), repr(text)
        single, multi = 160, 153
    if length.units <= single:
        assert length.segments == 1, repr(text)
    else:  # greedy packing wastes at most one unit per segment
        assert math.ceil(length.units / multi) <= length.segments, repr(text)
        assert length.segments <= math.ceil(length.units / (multi - 1)), repr(text)


def test_truncate_fits_and_keeps_a_prefix() -> None:
    for text in generated(200, seed=1600):
        result = truncate(text, 90)
        assert utf16_units(result) <= 90, repr(text)
        if utf16_units(text) <= 90:
            assert result == text
        else:
            assert result.endswith("..."), repr(text)
            assert text.startswith(result[:-3]), repr(text)


def test_generated_strings_cover_both_encodings_and_long_bodies() -> None:
    texts = generated(400, seed=3803)
    assert {encoding(t) for t in texts} == {"GSM-7", "UCS-2"}
    assert any(segments(t) >= 3 for t in texts)
    assert any(normalize(t) != t for t in texts)
