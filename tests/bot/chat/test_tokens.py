"""Visitor tokens: issued and signed by the channel, and never readable from the sender id."""

from __future__ import annotations

import base64
import hashlib
import logging

import pytest

from bot.chat import tokens

KEY = tokens.signing_key("rasa-token-for-tests")


def test_a_token_is_48_random_bytes_urlsafe_and_valid_for_its_key() -> None:
    token = tokens.issue(KEY)
    assert len(token) == 64
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(base64.urlsafe_b64decode(token)) == 48
    assert tokens.is_valid(KEY, token)
    assert tokens.issue(KEY) != token


def test_the_sender_id_is_chat_and_a_sha256_prefix_never_the_token() -> None:
    token = tokens.issue(KEY)
    sender = tokens.sender_for(token)
    assert sender == "chat-" + hashlib.sha256(token.encode()).hexdigest()[:32]
    assert token not in sender
    assert tokens.is_chat_sender(sender)
    assert not tokens.is_chat_sender("+12065550101")
    assert not tokens.is_chat_sender(sender + "0")


def test_a_token_another_key_signed_is_refused() -> None:
    other = tokens.issue(tokens.signing_key("another rasa token"))
    assert not tokens.is_valid(KEY, other)


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "a" * 64,  # the right shape, but not signed
        "short",
        "=" * 64,
        "é" * 64,
    ],
)
def test_tokens_the_channel_did_not_issue_are_refused(token: str | None) -> None:
    assert not tokens.is_valid(KEY, token)


def test_a_token_with_one_character_changed_is_refused() -> None:
    token = tokens.issue(KEY)
    for at in (0, 31, 63):
        changed = token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]
        assert not tokens.is_valid(KEY, changed)


def test_the_key_follows_the_rasa_token() -> None:
    assert tokens.signing_key("same") == tokens.signing_key("same")
    assert tokens.signing_key("same") != tokens.signing_key("other")


def test_without_a_rasa_token_the_key_is_random_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        first, second = tokens.signing_key(None), tokens.signing_key("")
    assert first != second
    assert len(first) == 32
    assert "signed out at every restart" in caplog.text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc  ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
    ],
)
def test_the_bearer_token_is_read_from_the_header(header: str | None, expected: str | None) -> None:
    assert tokens.bearer(header) == expected
