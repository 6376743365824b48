"""A fake Rasa HTTP API on loopback: trigger_intent and appended events, as the desk calls them.

Like Rasa (Sanic), it reads the conversation id from the raw path, without percent-
decoding: "%2B1206..." is another conversation than "+1206...".

In `compose` mode it does what the real stack does with a shipping alert: the assistant's
action fills the domain.yml response and the SMS output channel queues it (queue_alert).
`silent` is a paused conversation (Rasa answers 200 and says nothing); `down` answers 503.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

from bot.clock import Clock
from bot.notify.deliver import queue_alert
from bot.notify.wording import from_entities, params, render, response_name
from bot.store import Database


@dataclass(frozen=True)
class Trigger:
    sender_id: str
    intent: str
    entities: dict[str, str]
    output_channel: str | None


class FakeRasa:
    def __init__(self, db: Database, clock: Clock, token: str, store_name: str) -> None:
        self.db, self.clock, self.token, self.store_name = db, clock, token, store_name
        self.mode = "compose"
        self.triggers: list[Trigger] = []
        self.events: list[tuple[str, dict]] = []  # (conversation id, event) appended
        self.refused = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeRasa:
        app = web.Application()
        app.router.add_post("/conversations/{sender}/trigger_intent", self._trigger)
        app.router.add_post("/conversations/{sender}/tracker/events", self._append)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _trigger(self, request: web.Request) -> web.Response:
        if request.query.get("token") != self.token:
            return web.json_response({"message": "unauthorized"}, status=401)
        if self.mode == "down":
            self.refused += 1
            return web.json_response({"message": "not ready"}, status=503)
        body: dict[str, Any] = await request.json()
        entities = {str(k): str(v) for k, v in (body.get("entities") or {}).items()}
        trigger = Trigger(
            _conversation_id(request),
            body["name"],
            entities,
            request.query.get("output_channel"),
        )
        self.triggers.append(trigger)
        if self.mode == "compose":
            self._compose(trigger)
        return web.json_response({"tracker": {"sender_id": trigger.sender_id}})

    async def _append(self, request: web.Request) -> web.Response:
        if request.query.get("token") != self.token:
            return web.json_response({"message": "unauthorized"}, status=401)
        if self.mode == "down":
            self.refused += 1
            return web.json_response({"message": "not ready"}, status=503)
        self.events.append((_conversation_id(request), await request.json()))
        return web.json_response({"sender_id": _conversation_id(request)})

    def _compose(self, trigger: Trigger) -> None:
        alert = from_entities(trigger.entities)
        assert alert is not None, f"incomplete alert entities: {trigger.entities}"
        name = response_name(alert.kind, alert.status)
        text = render(name, params(alert, self.store_name, self.clock.now()))
        note = int(trigger.entities["notification_id"])
        queue_alert(self.db, note, trigger.sender_id, text, self.clock, hint=alert.opt_out_hint)


def _conversation_id(request: web.Request) -> str:
    """The id as Rasa's Sanic routes see it: the raw path segment, not percent-decoded."""
    return request.raw_path.split("?", 1)[0].split("/")[2]
