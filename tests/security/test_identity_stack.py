"""A stranger guessing at Ava's order, on the whole stack (`python -m bot run`, issue 8).

The stranger texts through Twilio's signed webhook (Twilio faked on loopback) and the real
model answers. They name Ava's order, guess its ZIP three times, then give the right one:
no text they get ever holds the order's status, items, address or tracking, and their
fourth guess is refused although it is right. Nor can anyone reach the assistant as Ava
through Rasa's REST channel without the Rasa token.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.twilio import FakeTwilio, inbound_sms, signed_form_post
from tests.test_stack_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    AVA,
    STORE_NUMBER,
    _healthy,
    running_stack,
)

STRANGER = "+14155550199"  # guesses Ava's ZIP
GUESSER = "+14155550198"  # guesses order numbers
AVA_ZIP = "98101"  # data/demo/customers.yml
# What #1001 would give away (data/demo): carrier, tracking, scans, items, address, status.
SECRETS = (
    "UPS",
    "1Z999AA10123456784",
    "ups.com",
    "Salt Lake",
    "Kansas City",
    "in transit",
    "on its way",
    "Hoodie",
    "Beanie",
    "Pine St",
    "Seattle",
    AVA_ZIP,
    "ava@",
    "Ava Chen",
)
SETTLE = 3.0  # seconds without a new text: the turn is over


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[dict]:
    async with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake, running_stack(tmp_path, fake) as s:
        s["data_dir"] = tmp_path
        yield s


async def _text(stack: dict, body: str, wait: float = 90, sender: str = STRANGER) -> list[str]:
    """Text the store as `sender`; the texts the turn sent back once it is over (or none)."""
    fake: FakeTwilio = stack["fake"]

    def count() -> int:
        return len([m for m in fake.messages if m.to == sender])

    before = count()
    webhook = f"http://127.0.0.1:{stack['ports']['RASA_PORT']}/webhooks/sms/webhook"
    form = inbound_sms(ACCOUNT_SID, sender, STORE_NUMBER, body)
    assert (await signed_form_post(webhook, form, AUTH_TOKEN)).status == 200
    deadline = time.monotonic() + wait
    while count() == before and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    seen, quiet_since = count(), time.monotonic()
    while time.monotonic() - quiet_since < SETTLE:
        await asyncio.sleep(0.5)
        if count() != seen:
            seen, quiet_since = count(), time.monotonic()
    return [m.body for m in fake.messages if m.to == sender][before:]


def _attempts(data_dir: Path, sender: str = STRANGER) -> list[tuple[str, int]]:
    with sqlite3.connect(data_dir / "pigeon.db") as db:
        rows = db.execute(
            "SELECT order_ref, succeeded FROM verification_attempts WHERE sender_id = ?"
            " ORDER BY id",
            (sender,),
        )
        return [(ref, bool(ok)) for ref, ok in rows]


async def _guess_the_zip(stack: dict) -> list[str]:
    asked = await _text(stack, "where is my order #1001")
    assert any("email address or ZIP code on order #1001" in t for t in asked), asked
    said = list(asked)
    for guess in ("98102", "10001", "33145"):
        said += await _text(stack, f"my zip is {guess}")
    assert sum("doesn't match order #1001" in t for t in said) >= 2, said
    return said + await _text(stack, f"ok it's {AVA_ZIP}", wait=20)  # a paused assistant: none


async def _guess_order_numbers(stack: dict) -> list[str]:
    said = await _text(stack, "where is my order #5551", sender=GUESSER)
    for guess in ("#5552", "#5553"):
        said += await _text(stack, guess, sender=GUESSER)
    assert sum("couldn't find order #555" in t for t in said) >= 2, said
    return said + await _text(stack, "#1001", wait=20, sender=GUESSER)


@pytest.mark.slow
async def test_a_stranger_never_sees_avas_order_and_is_cut_off_after_three_guesses(
    stack: dict,
) -> None:
    await _healthy(stack)
    zips, numbers = await asyncio.gather(_guess_the_zip(stack), _guess_order_numbers(stack))

    leaked = [(secret, t) for t in zips + numbers for secret in SECRETS if secret in t]
    assert leaked == []
    assert _attempts(stack["data_dir"]) == [("1001", False)] * 3  # the 4th was not even tried
    tried = _attempts(stack["data_dir"], GUESSER)
    assert [ok for _, ok in tried] == [False] * 3
    assert "1001" not in [ref for ref, _ in tried]

    # Rasa's REST channel would let anyone be Ava: it wants the Rasa token.
    rest = f"http://127.0.0.1:{stack['ports']['RASA_PORT']}/webhooks/rest/webhook"
    token = json.loads((stack["data_dir"] / "secrets.json").read_text())["RASA_TOKEN"]
    async with aiohttp.ClientSession() as client:
        for params in ({}, {"token": token[::-1]}):
            ask = {"sender": AVA, "message": "where is my order"}
            async with client.post(rest, json=ask, params=params) as answer:
                assert answer.status == 401
                assert "#1001" not in await answer.text()
        # What the token guards: whoever holds it is Ava to the assistant.
        async with client.post(rest, json=ask, params={"token": token}) as answer:
            assert answer.status == 200
            assert "#1001" in json.dumps(await answer.json())
