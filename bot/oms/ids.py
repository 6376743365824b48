"""Order numbers and ids as customers and callers give them: "#1001", " 1001 ", 1001."""

from __future__ import annotations

import re

MAX_ID = 2**31 - 1  # PostgreSQL integer columns: a larger number cannot be an id


def parse_id(value: object, *, allow_hash: bool = False) -> int | None:
    """The positive integer `value` names ("#1001", " 1001 ", 1001), or None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if allow_hash and text.startswith("#"):
            text = text[1:].lstrip()
        if not re.fullmatch(r"[0-9]{1,10}", text):
            return None
        number = int(text)
    else:
        return None
    return number if 0 < number <= MAX_ID else None
