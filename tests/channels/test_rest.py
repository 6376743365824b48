"""Rasa's REST channel behind RASA_TOKEN: its caller picks the sender id, so strangers may not."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from channels.rest import TokenRestInput
from tests.http import serving

TOKEN = "rasa-token-for-tests"
AVA = {"sender": "+12065550101", "message": "where is my order"}


class Heard:
    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(message.sender_id, "on its way")


@pytest.fixture
async def rest(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Any, Heard]]:
    heard = Heard()
    channel = TokenRestInput(getattr(request, "param", TOKEN))
    app = Sanic(f"rest_{uuid.uuid4().hex}")
    app.blueprint(channel.blueprint(heard), url_prefix="/webhooks/rest")
    async with serving(app) as base, aiohttp.ClientSession(base_url=base) as client:
        yield client, heard


@pytest.mark.parametrize(
    "stranger",
    [
        {},
        {"params": {"token": TOKEN + "x"}},
        {"params": {"token": ""}},
        {"headers": {"Authorization": f"Bearer {TOKEN[:-1]}"}},
        {"headers": {"Authorization": f"Basic {TOKEN}"}},
    ],
)
async def test_a_stranger_cannot_speak_as_a_customer(rest, stranger: dict) -> None:
    client, heard = rest
    async with client.post("/webhooks/rest/webhook", json=AVA, **stranger) as answer:
        assert answer.status == 401
        assert await answer.json() == {"error": "send the Rasa token"}
    assert heard.messages == []


@pytest.mark.parametrize(
    "caller", [{"params": {"token": TOKEN}}, {"headers": {"Authorization": f"Bearer {TOKEN}"}}]
)
async def test_with_the_token_the_assistant_answers(rest, caller: dict) -> None:
    client, heard = rest
    async with client.post("/webhooks/rest/webhook", json=AVA, **caller) as answer:
        assert answer.status == 200
        assert await answer.json() == [{"recipient_id": AVA["sender"], "text": "on its way"}]
    assert [m.sender_id for m in heard.messages] == [AVA["sender"]]


@pytest.mark.parametrize("rest", [None], indirect=True)
async def test_without_a_token_configured_no_one_gets_in(rest, monkeypatch) -> None:
    monkeypatch.delenv("RASA_TOKEN", raising=False)
    client, heard = rest
    for kw in ({}, {"params": {"token": ""}}, {"params": {"token": "None"}}):
        async with client.post("/webhooks/rest/webhook", json=AVA, **kw) as answer:
            assert answer.status == 401
    assert heard.messages == []


async def test_the_health_check_stays_public(rest) -> None:
    client, _ = rest
    async with client.get("/webhooks/rest/") as answer:
        assert answer.status == 200
        assert await answer.json() == {"status": "ok"}
