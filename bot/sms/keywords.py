"""Compliance keywords (STOP, START, HELP): carriers require them honoured before anything else.

A keyword is a body that is exactly one word, in any case, once surrounding whitespace,
punctuation and symbols are set aside: "Stop." and "*STOP*" are keywords, "please stop" is
not. Sentences that ask to stop are still revocations of consent (FCC 24-18) and are the
assistant's to recognise; this module only answers the carrier-standard single-word test.

"OPT-OUT" (any dash) counts as OPTOUT: AWS lists it as a required opt-out keyword and it is
one word, though Twilio's default list has only OPTOUT, so Twilio itself may not block on it.
Missing an opt-out costs more than honouring one that was meant loosely. "OPT OUT" is two
words and goes to the assistant, like "STOP ALL".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum


class KeywordKind(str, Enum):
    """What a keyword asks for; the values match Twilio's OptOutType field."""

    OPT_OUT = "STOP"
    OPT_IN = "START"
    HELP = "HELP"


_WORDS: dict[str, KeywordKind] = {
    **dict.fromkeys(
        ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"),
        KeywordKind.OPT_OUT,
    ),
    **dict.fromkeys(("START", "YES", "UNSTOP"), KeywordKind.OPT_IN),
    **dict.fromkeys(("HELP", "INFO"), KeywordKind.HELP),
}
_ALIASES = {"OPT-OUT": "OPTOUT"}

OPT_OUT_WORDS = frozenset(w for w, k in _WORDS.items() if k is KeywordKind.OPT_OUT)
OPT_IN_WORDS = frozenset(w for w, k in _WORDS.items() if k is KeywordKind.OPT_IN)
HELP_WORDS = frozenset(w for w, k in _WORDS.items() if k is KeywordKind.HELP)


@dataclass(frozen=True)
class Keyword:
    """A compliance keyword found in a body, by its canonical upper-case spelling."""

    kind: KeywordKind
    word: str

    @property
    def conditional(self) -> bool:
        """True for YES: an everyday answer, an opt-in only from an opted-out or asked number."""
        return self.word == "YES"


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"


def _core(body: str) -> str:
    """The body as one comparable token: NFKC, no invisible characters, no edges, dashes as -."""
    text = unicodedata.normalize("NFKC", body)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")  # zero-width and bidi
    start, end = 0, len(text)
    while start < end and not _is_word_char(text[start]):
        start += 1
    while end > start and not _is_word_char(text[end - 1]):
        end -= 1
    core = text[start:end]
    return "".join("-" if unicodedata.category(c) == "Pd" else c for c in core).upper()


def detect(body: str | None) -> Keyword | None:
    """The compliance keyword the body is, or None when it is a message for the assistant."""
    if not body:
        return None
    core = _core(body)
    word = _ALIASES.get(core, core)
    kind = _WORDS.get(word)
    return Keyword(kind, word) if kind else None
