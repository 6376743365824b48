import dataclasses
import random

import pytest

from bot.sms.keywords import (
    HELP_WORDS,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    Keyword,
    KeywordKind,
    detect,
)

EXPECTED = {
    "STOP": KeywordKind.OPT_OUT,
    "STOPALL": KeywordKind.OPT_OUT,
    "UNSUBSCRIBE": KeywordKind.OPT_OUT,
    "CANCEL": KeywordKind.OPT_OUT,
    "END": KeywordKind.OPT_OUT,
    "QUIT": KeywordKind.OPT_OUT,
    "REVOKE": KeywordKind.OPT_OUT,
    "OPTOUT": KeywordKind.OPT_OUT,
    "START": KeywordKind.OPT_IN,
    "YES": KeywordKind.OPT_IN,
    "UNSTOP": KeywordKind.OPT_IN,
    "HELP": KeywordKind.HELP,
    "INFO": KeywordKind.HELP,
}
WRAPPINGS = ["{}", " {} ", "{}.", "{}!", " {}!! ", "*{}*", "{}\n", "\t{}\r\n", '"{}"', "({})"]


def casings(word: str) -> list[str]:
    return [word, word.lower(), word.capitalize(), word[:-1].lower() + word[-1]]


def test_word_lists_are_the_carrier_standard_ones() -> None:
    assert {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"} == (
        OPT_OUT_WORDS
    )
    assert {"START", "YES", "UNSTOP"} == OPT_IN_WORDS
    assert {"HELP", "INFO"} == HELP_WORDS


@pytest.mark.parametrize(("word", "kind"), EXPECTED.items())
def test_every_keyword_in_every_casing_and_wrapping(word: str, kind: KeywordKind) -> None:
    for spelling in casings(word):
        for wrapping in WRAPPINGS:
            body = wrapping.format(spelling)
            assert detect(body) == Keyword(kind, word), repr(body)


@pytest.mark.parametrize(
    "body",
    [
        "Stop.",
        " STOP!! ",
        "*stop*",
        "stop\n",
        "STOP 🛑",
        "...stop...",
        "¡STOP!",
        "\u00a0stop\u3000",
        "\u200bSTOP\u200b",
    ],
)
def test_stop_with_surrounding_noise(body: str) -> None:
    assert detect(body) == Keyword(KeywordKind.OPT_OUT, "STOP")


@pytest.mark.parametrize(
    "body",
    [
        "stop texting me",
        "please stop",
        "stop it",
        "cancel my order",
        "yes please",
        "STOP STOP",
        "help me",
        "info on my order?",
        "the end",
        "S T O P",
        "stop2",
        "st0p",
        "stopp",
        "sto",
        "stop-it",
        "OPT OUT",
        "STOP ALL",
        "stop, please",
        "Stop. Thanks",
    ],
)
def test_sentences_are_for_the_assistant(body: str) -> None:
    assert detect(body) is None


@pytest.mark.parametrize("body", [None, "", " ", "\n", "...", "!?", "🛑", "\u200b", "\u200b\u200d"])
def test_empty_or_wordless_bodies_are_not_keywords(body: str | None) -> None:
    assert detect(body) is None


@pytest.mark.parametrize(
    "body",
    [
        "ＳＴＯＰ",
        "ｓｔｏｐ",
        "ＳＴＯＰ！",
        "S\u200bTOP",
        "ST\u200cOP",
        "S\u2060T\u200dOP",
        "\ufeffSTOP",
    ],
)
def test_fullwidth_and_zero_width_tricks_still_stop(body: str) -> None:
    assert detect(body) == Keyword(KeywordKind.OPT_OUT, "STOP")


# The Russian word, Cyrillic homoglyphs of S-T-O-P, accented letters: none is NFKC-equal.
@pytest.mark.parametrize("body", ["СТОП", "ЅТОР", "stöp", "ştop"])
def test_other_scripts_and_accents_are_not_keywords(body: str) -> None:
    assert detect(body) is None


@pytest.mark.parametrize(
    "body", ["OPT-OUT", "opt-out", "Opt-Out.", "opt\u2011out", "OPT\u2013OUT", "opt\uff0dout"]
)
def test_opt_out_with_a_dash_is_optout(body: str) -> None:
    assert detect(body) == Keyword(KeywordKind.OPT_OUT, "OPTOUT")


def test_only_yes_is_conditional() -> None:
    assert detect("yes") == Keyword(KeywordKind.OPT_IN, "YES")
    assert detect("Yes!").conditional  # type: ignore[union-attr]
    others = [Keyword(kind, word) for word, kind in EXPECTED.items() if word != "YES"]
    assert not any(keyword.conditional for keyword in others)


def test_keyword_is_frozen_and_kinds_match_twilio_opt_out_type() -> None:
    keyword = Keyword(KeywordKind.HELP, "HELP")
    with pytest.raises(dataclasses.FrozenInstanceError):
        keyword.word = "INFO"  # type: ignore[misc]
    assert [KeywordKind(t) for t in ("STOP", "START", "HELP")] == list(KeywordKind)
    assert KeywordKind.OPT_OUT == "STOP"


def test_generated_wrappings_and_sentences() -> None:
    rng = random.Random(2025)
    noise = list(" \t\n.!?*\"'()-~:;,") + ["\u200b", "\u00a0", "🛑", "👍"]
    for _ in range(300):
        word, kind = rng.choice(list(EXPECTED.items()))
        spelling = "".join(c.lower() if rng.random() < 0.5 else c for c in word)
        left = "".join(rng.choices(noise, k=rng.randint(0, 4)))
        right = "".join(rng.choices(noise, k=rng.randint(0, 4)))
        body = left + spelling + right
        assert detect(body) == Keyword(kind, word), repr(body)
        other = rng.choice(["please", "now", "my order", "it", "ok", "2"])
        sentence = rng.choice([f"{body} {other}", f"{other} {body}"])
        assert detect(sentence) is None, repr(sentence)
