"""Reading the demo store's YAML so every mistake is reported as `file: where: what`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from bot.errors import PigeonError
from bot.oms.demo_dates import parse_when


class DemoDataError(PigeonError, ValueError):
    """A demo file is missing or wrong; the one-line message names the file and the place."""


def load_yaml(path: Path) -> Node:
    """The parsed document at `path`, as the root Node of its tree."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DemoDataError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DemoDataError(f"{path}: cannot read the file ({exc})") from None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DemoDataError(f"{path}: {_yaml_problem(exc)}") from None
    return Node(str(path), "", value)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "invalid YAML"
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    return f"{where}not valid YAML ({problem})"


@dataclass(frozen=True)
class Node:
    """A value from a demo file with its place in it, e.g. orders[2].items[0].sku."""

    file: str
    path: str
    value: Any

    def fail(self, message: str) -> DemoDataError:
        where = f"{self.file}: {self.path}: " if self.path else f"{self.file}: "
        return DemoDataError(where + " ".join(message.split()))

    def child(self, key: str | int, value: Any) -> Node:
        if isinstance(key, int):
            return Node(self.file, f"{self.path}[{key}]", value)
        return Node(self.file, f"{self.path}.{key}" if self.path else key, value)

    def fields(self, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Node]:
        """The mapping's fields; a missing required field or an unknown one is an error."""
        if not isinstance(self.value, dict):
            raise self.fail(f"expected a mapping of fields, got {_kind(self.value)}")
        for key in self.value:
            if key not in required and key not in optional:
                known = ", ".join(required + optional)
                raise self.fail(f"unknown field {key!r} (known fields: {known})")
        for key in required:
            if self.value.get(key) is None:
                raise self.fail(f"missing field {key!r}")
        return {k: self.child(k, v) for k, v in self.value.items() if v is not None}

    def items(self, *, allow_empty: bool = False) -> list[Node]:
        if not isinstance(self.value, list):
            raise self.fail(f"expected a list, got {_kind(self.value)}")
        if not self.value and not allow_empty:
            raise self.fail("the list is empty")
        return [self.child(i, v) for i, v in enumerate(self.value)]

    def text(self) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            raise self.fail(f"expected text, got {_kind(self.value)}; put it in quotes")
        return " ".join(self.value.split())

    def choice(self, allowed: tuple[str, ...], what: str) -> str:
        value = self.text()
        if value not in allowed:
            raise self.fail(f"unknown {what} {value!r} (known: {', '.join(allowed)})")
        return value

    def texts(self) -> tuple[str, ...]:
        return tuple(item.text() for item in self.items())

    def integer(self, minimum: int = 0, maximum: int = 2**31 - 1) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.fail(f"expected a whole number, got {_kind(self.value)}")
        if not minimum <= self.value <= maximum:
            raise self.fail(f"{self.value} is out of range ({minimum} to {maximum})")
        return self.value

    def flag(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail(f"expected yes or no, got {_kind(self.value)}")
        return self.value

    def money(self) -> Decimal:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float, str)):
            raise self.fail(f"expected a price like 68.00, got {_kind(self.value)}")
        try:
            amount = Decimal(str(self.value).strip().lstrip("$"))
        except InvalidOperation:
            raise self.fail(f"expected a price like 68.00, got {self.value!r}") from None
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
            raise self.fail(f"{self.value!r} is not a price in dollars and cents")
        return amount.quantize(Decimal("0.01"))

    def when(self, now: datetime) -> datetime:
        if not isinstance(self.value, str):
            raise self.fail(f"expected a date phrase like '3 days ago', got {_kind(self.value)}")
        try:
            return parse_when(self.value, now)
        except ValueError as exc:
            raise self.fail(str(exc)) from None


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return f"{type(value).__name__} {value!r}"
