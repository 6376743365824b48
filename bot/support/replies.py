"""The texts the actions send, kept in replies.yml so designers can edit them without code."""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.errors import PigeonError

REPLIES_FILE = Path(__file__).resolve().parents[2] / "replies.yml"


class RepliesError(PigeonError):
    """replies.yml is missing a reply or a placeholder; the message says which."""


@lru_cache(maxsize=4)
def load(path: Path = REPLIES_FILE) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RepliesError(f"{path}: unreadable ({exc})") from None
    replies = data.get("replies") if isinstance(data, dict) else None
    if not isinstance(replies, dict):
        raise RepliesError(f"{path}: expected 'replies:' mapping names to texts")
    return {str(name): _checked(path, str(name), text) for name, text in replies.items()}


def _checked(path: Path, name: str, text: object) -> str:
    """The text, whitespace tidied, once it is sure to fill in: every {placeholder} a plain name."""
    if not isinstance(text, str):
        raise RepliesError(f"{path}: reply {name!r} is not a text")
    try:
        fields = [(f, c, s) for _, f, s, c in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise RepliesError(f"{path}: reply {name!r} has a malformed placeholder ({exc})") from None
    for field, conversion, spec in fields:
        if not field.isidentifier():
            raise RepliesError(
                f"{path}: reply {name!r} has a placeholder that is not a name: {{{field}}}"
            )
        if conversion or spec:
            raise RepliesError(
                f"{path}: reply {name!r} has a malformed placeholder: write {{{field}}}"
            )
    return " ".join(text.split())


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def reply(name: str, path: Path = REPLIES_FILE, /, **values: Any) -> str:
    """The reply called `name`, with its {placeholders} filled from `values`."""
    texts = load(path)
    if name not in texts:
        raise RepliesError(f"{path.name}: no reply named {name!r}")
    missing = placeholders(texts[name]) - set(values)
    if missing:
        raise RepliesError(f"{path.name}: reply {name!r} needs {', '.join(sorted(missing))}")
    return texts[name].format(**values)
