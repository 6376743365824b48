"""The desk's line to the assistant: trigger_intent for alerts, the resume event after a handoff."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import quote

import aiohttp

from bot.errors import PigeonError

INTENT = "EXTERNAL_shipment_update"
TIMEOUT = aiohttp.ClientTimeout(total=30, connect=5)


def conversation_path(sender_id: str) -> str:
    """The sender id as a path segment of Rasa's HTTP API.

    Rasa's routes take the id as written (no percent-decoding): "%2B1206..." would name
    another conversation than the customer's "+1206...". So "+" (and "@" of an email
    thread) stays as it is.
    """
    return quote(sender_id, safe="+@")


class AssistantUnavailable(PigeonError):
    """Rasa did not take the alert (down, starting, or an error); it is tried again later."""


class Assistant(Protocol):
    async def trigger(self, sender_id: str, entities: Mapping[str, str]) -> None:
        """Have the assistant react to a shipment update in `sender_id`'s conversation."""

    async def resume(self, sender_id: str) -> None:
        """Let the assistant answer `sender_id` again after a person handled them."""

    async def close(self) -> None: ...


class RasaAssistant:
    """Rasa's HTTP API, authenticated with RASA_TOKEN; one client session per desk."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url, self.token = url.rstrip("/"), token
        self._session: aiohttp.ClientSession | None = None

    async def trigger(self, sender_id: str, entities: Mapping[str, str]) -> None:
        path = f"/conversations/{conversation_path(sender_id)}/trigger_intent"
        await self._post(path, {"name": INTENT, "entities": dict(entities)}, output_channel="sms")

    async def resume(self, sender_id: str) -> None:
        """Rasa's `resume` event: the conversation paused at a handoff is the assistant's again.

        Then `action_listen`: while paused, Rasa logged the customer's texts but never
        listened after the handoff, and a tracker not left listening matches no rule, so the
        next question would get the fallback instead of its answer.
        """
        path = f"/conversations/{conversation_path(sender_id)}/tracker/events"
        await self._post(path, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])

    async def _post(self, path: str, body: dict | list, **query: str) -> None:
        if self.token:
            query["token"] = self.token
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
