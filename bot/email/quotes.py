"""What the customer wrote in this email, without the history it quotes or their signature.

The assistant reads one message at a time; quoted history would make it answer the
store's own words again. Recognised, from the first line that matches:

- an attribution, "On <date>, <name> wrote:" (also wrapped over up to three lines, and
  in French, German, Spanish, Italian, Dutch and Portuguese), and everything after it;
- Outlook's "-----Original Message-----", its "From: ... Sent: ..." header block, and the
  underscore rule Outlook on the web draws above it, and everything after;
- the signature delimiter "-- " and mobile trailers ("Sent from my iPhone",
  "Get Outlook for Android"), and everything after;
- and anywhere, lines quoted with ">".

A customer who answers below the quote (bottom-posting) would be left with nothing by
"everything after": then the unquoted lines after the attribution are what they wrote.
"""

from __future__ import annotations

import re

_WROTE = re.compile(
    r"^(on|le|am|el|il|op|em)\b.{0,400}?"
    r"(wrote|a écrit|schrieb|escribió|ha scritto|scrisse|schreef|escreveu)\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|"
    r"mensaje original|messaggio originale)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s*_{10,}\s*$")
_HEADER_FROM = re.compile(r"^\s*\*?(from|von|de|da|van)\s*:\*?\s+\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(sent|date|gesendet|envoyé|enviado|inviato|verzonden|to|subject)\s*:", re.IGNORECASE
)
_SIGNATURE = re.compile(r"^-- ?$")
_TRAILER = re.compile(
    r"^\s*(sent from my |sent from (outlook|mail|yahoo|gmail|samsung|proton)|sent via |"
    r"get outlook for |envoyé de mon |von meinem .{1,40} gesendet|enviado desde mi )",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"^\s*>")
_BLANKS = re.compile(r"\n{3,}")


def strip_quotes(text: str) -> str:
    """The new text of an email body: quotes, attributions and signatures removed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    end, after = _cut(lines)
    kept = _unquoted(lines[:end])
    if not kept.strip() and after is not None:  # bottom-posted under the quote
        rest = lines[after:]
        kept = _unquoted(rest[: _cut(rest)[0]])
    return _BLANKS.sub("\n\n", kept).strip()


def _cut(lines: list[str]) -> tuple[int, int | None]:
    """Where the customer's own text ends; and, after an attribution, where the quote ends."""
    for i, line in enumerate(lines):
        if _QUOTED.match(line):
            continue
        wrote = _attribution(lines, i)
        if wrote is not None:
            return i, wrote
        if _ORIGINAL.match(line) or _SIGNATURE.match(line) or _TRAILER.match(line):
            return i, None
        if _RULE.match(line) and _header_block(lines, i + 1):
            return i, None
        if _header_block(lines, i):
            return i, None
    return len(lines), None


def _attribution(lines: list[str], i: int) -> int | None:
    """The index after an "On ... wrote:" starting at line i (wrapped over 3 lines at most)."""
    if not re.match(r"^\s*(on|le|am|el|il|op|em)\b", lines[i], re.IGNORECASE):
        return None
    for n in range(1, 4):
        joined = " ".join(part.strip() for part in lines[i : i + n])
        if _WROTE.match(joined):
            return i + n
    return None


def _header_block(lines: list[str], i: int) -> bool:
    """Outlook's quoted headers: a "From:" line followed closely by "Sent:"/"Date:"/"To:"."""
    if i >= len(lines) or not _HEADER_FROM.match(lines[i]):
        return False
    following = [line for line in lines[i + 1 : i + 5] if line.strip()]
    return len(following) >= 2 and all(_HEADER_NEXT.match(line) for line in following[:2])


def _unquoted(lines: list[str]) -> str:
    return "\n".join(line.rstrip() for line in lines if not _QUOTED.match(line))
