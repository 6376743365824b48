"""The desk's line to the assistant: Rasa's trigger_intent, so alerts live in the conversation."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import quote

import aiohttp

from bot.errors import PigeonError

INTENT = "EXTERNAL_shipment_update"
TIMEOUT = aiohttp.ClientTimeout(total=30, connect=5)


class AssistantUnavailable(PigeonError):
    """Rasa did not take the alert (down, starting, or an error); it is tried again later."""


class Assistant(Protocol):
    async def trigger(self, sender_id: str, entities: Mapping[str, str]) -> None:
        """Have the assistant react to a shipment update in `sender_id`'s conversation."""

    async def close(self) -> None: ...


class RasaAssistant:
    """Rasa's HTTP API, authenticated with RASA_TOKEN; one client session per desk."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url, self.token = url.rstrip("/"), token
        self._session: aiohttp.ClientSession | None = None

    async def trigger(self, sender_id: str, entities: Mapping[str, str]) -> None:
        path = f"/conversations/{quote(sender_id, safe='')}/trigger_intent"
        query = {"output_channel": "sms"}
        if self.token:
            query["token"] = self.token
        body = {"name": INTENT, "entities": dict(entities)}
        try:
            async with self._client().post(self.url + path, params=query, json=body) as reply:
                if reply.status != 200:
                    detail = (await reply.text())[:200]
                    raise AssistantUnavailable(f"Rasa answered {reply.status}: {detail}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise AssistantUnavailable(f"Rasa unreachable at {self.url}: {exc!r}") from None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
