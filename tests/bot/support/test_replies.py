"""replies.yml: every text an action sends, checked for SMS and against the code that sends it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.sms.gsm import is_gsm7, segments
from bot.support.replies import REPLIES_FILE, RepliesError, load, placeholders, reply

ROOT = Path(__file__).resolve().parents[3]
SOURCES = sorted([*(ROOT / "actions").rglob("*.py"), *(ROOT / "bot").rglob("*.py")])

# Long but real values for every placeholder: the demo store's longest names and lists.
REALISTIC = {
    "order_number": "10452",
    "order": "#10452",
    "orders": "#10452, #10451 or #10450",
    "items": "Alpine Fleece Pullover (Archive Sale) (M / Oatmeal), "
    "Ridgeline Rain Jacket (M / Moss) or Packable Puffer Jacket (S / Sky Blue)",
    "reasons": "Alpine Fleece Pullover (Archive Sale) is final sale and "
    "Daypack 20L was delivered more than 30 days ago",
    "return_id": "10234",
    "total": "$1,234.50",
    "support_hours": Settings().support_hours,
    "store_name": Settings().store_name,
}


def reply_calls() -> Iterator[tuple[str, ast.Call]]:
    """Every call of reply(...) in actions/ and bot/, with where it is."""
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "reply"
            ):
                yield f"{path.relative_to(ROOT)}:{node.lineno}", node


CALLS = list(reply_calls())


def called_name(where: str, call: ast.Call) -> str:
    first = call.args[0] if call.args else None
    assert isinstance(first, ast.Constant), f"{where}: name the reply with a literal"
    assert isinstance(first.value, str), where
    return first.value


@pytest.mark.parametrize("name", sorted(load()))
def test_every_reply_fits_one_or_two_sms_with_realistic_values(name: str) -> None:
    needed = placeholders(load()[name])
    assert needed <= set(REALISTIC), f"add a realistic value for {needed - set(REALISTIC)}"
    text = reply(name, **{key: REALISTIC[key] for key in needed})
    assert "{" not in text
    assert is_gsm7(text), f"not GSM-7: {text!r}"
    assert segments(text) <= 2, f"{segments(text)} segments: {text!r}"


def test_the_scan_finds_the_actions_replies() -> None:
    assert len(CALLS) > 20
    assert any(where.startswith("actions/forms.py") for where, _ in CALLS)


def test_every_reply_the_code_sends_exists() -> None:
    missing = {
        f"{where}: {name}"
        for where, call in CALLS
        if (name := called_name(where, call)) not in load()
    }
    assert missing == set()


def test_every_reply_is_sent_somewhere() -> None:
    used = {called_name(where, call) for where, call in CALLS}
    assert set(load()) - used == set(), "in replies.yml but never sent"


def test_the_code_fills_exactly_the_placeholders_of_each_text() -> None:
    mismatches = []
    for where, call in CALLS:
        name = called_name(where, call)
        assert not any(k.arg is None for k in call.keywords), f"{where}: no **values"
        given = {k.arg for k in call.keywords}
        needed = placeholders(load()[name])
        if given != needed:
            mismatches.append(f"{where}: {name} gets {sorted(given)}, needs {sorted(needed)}")
    assert mismatches == []


def test_texts_are_whitespace_tidy() -> None:
    for name, text in load().items():
        assert text == " ".join(text.split()), name
        assert text, name


# Mistakes in the code or in the file, each with a RepliesError that says what is wrong.


def write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "replies.yml"
    path.write_text(content, encoding="utf-8")
    return path


def test_a_missing_placeholder_value_names_it(tmp_path: Path) -> None:
    path = write(tmp_path, "replies:\n  kept: 'OK, order {order} stays, {name}.'\n")
    with pytest.raises(RepliesError, match=r"reply 'kept' needs name, order"):
        reply("kept", path)
    with pytest.raises(RepliesError, match=r"reply 'kept' needs name"):
        reply("kept", path, order="#1003")
    assert reply("kept", path, order="#1003", name="Ava") == "OK, order #1003 stays, Ava."


def test_an_unknown_reply_is_named(tmp_path: Path) -> None:
    with pytest.raises(RepliesError, match=r"no reply named 'nope'"):
        reply("nope", write(tmp_path, "replies:\n  hi: Hello\n"))


def test_the_real_file_is_the_default() -> None:
    assert REPLIES_FILE == ROOT / "replies.yml"
    with pytest.raises(RepliesError, match="replies.yml: reply 'order_not_found' needs order"):
        reply("order_not_found")


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("replies: [unclosed\n", "unreadable"),
        ("- just\n- a list\n", "expected 'replies:'"),
        ("other: {}\n", "expected 'replies:'"),
        ("replies: some text\n", "expected 'replies:'"),
        ("replies:\n  hi: Hello\n  bye:\n", "reply 'bye' is not a text"),
        ("replies:\n  hi: Hello\n  bye: [a, b]\n", "reply 'bye' is not a text"),
        ("replies:\n  hi: 'Order {order'\n", "reply 'hi' has a malformed placeholder"),
        ("replies:\n  hi: 'Order }'\n", "reply 'hi' has a malformed placeholder"),
        ("replies:\n  hi: 'Order {}'\n", "reply 'hi' has a placeholder that is not a name"),
        ("replies:\n  hi: 'Order {0}'\n", "reply 'hi' has a placeholder that is not a name"),
        ("replies:\n  hi: 'Order {o.name}'\n", "reply 'hi' has a placeholder that is not a name"),
        ("replies:\n  hi: 'Order {o!r}'\n", "reply 'hi' has a malformed placeholder"),
        ("", "expected 'replies:'"),
    ],
)
def test_a_malformed_file_is_a_clear_error(tmp_path: Path, content: str, complaint: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(RepliesError, match=complaint) as caught:
        load(path)
    assert str(path) in str(caught.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RepliesError, match="unreadable"):
        load(tmp_path / "absent.yml")


def test_literal_braces_are_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, "replies:\n  hi: 'Use {{braces}} for {name}'\n")
    assert reply("hi", path, name="Ava") == "Use {braces} for Ava"
