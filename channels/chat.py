"""The web chat channel: the widget's messages in, the visitor's thread out. Thin: see bot.chat.

Routes (under /webhooks/chat/): `POST session` issues a visitor token; `POST webhook`
stores a message (bearer token) and answers with its id before the assistant runs;
`GET messages?after=<id>` is the visitor's thread since that id; `GET /` is health.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.chat import cors, limits, tokens
from bot.chat.history import PAGE, visible
from bot.chat.inbound import BadChat, ChatText, Pending, parse, store, unanswered
from bot.chat.replies import record_reply
from bot.services import Services, services_from_env
from bot.sms.inbound import assistant_text, is_unanswered, mark_many
from bot.sms.turns import AssistantThread, SenderQueues
from bot.support.wording import with_choices

log = logging.getLogger(__name__)

REPLAY_WINDOW = timedelta(hours=24)
MAX_TURNS = 20  # turns in progress at once; more wait their turn

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class ChatOutput(OutputChannel):
    """Writes the assistant's messages to the visitor's thread; the widget fetches them."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @classmethod
    def name(cls) -> str:
        return "chat"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        s = self.services
        await asyncio.to_thread(record_reply, s.db, recipient_id, text, s.clock)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_message(recipient_id, with_choices(text, buttons), **kwargs)

    async def send_custom_json(self, recipient_id: str, json_message: dict, **kwargs: Any) -> None:
        log.warning("custom payload for %s dropped: the chat widget shows text", recipient_id)


class ChatInput(InputChannel):
    """The widget's endpoints: a message is stored before it is acknowledged, then answered."""

    def __init__(self, services: Services | None = None) -> None:
        self._services = services
        self._key: bytes | None = None
        self._storing = SenderQueues()  # a visitor's messages are stored, and queued, in order
        self._answering = SenderQueues()  # ... and answered in that order
        # Turns run on a loop of their own (as the SMS channel's do): a turn computing on the
        # server's loop would hold back every webhook, the SMS channel's acknowledgements too.
        self._assistant = AssistantThread("chat-assistant")
        self._turns = asyncio.Semaphore(MAX_TURNS)
        self._tasks: set[asyncio.Task] = set()
        self._messages = limits.message_window()  # per visitor
        self._sessions = limits.session_window()  # per client address

    @classmethod
    def name(cls) -> str:
        return "chat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ChatInput:
        return cls()  # settings come from the environment (bot.config), not credentials.yml

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = services_from_env()  # shared by the server's channels
        return self._services

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = tokens.signing_key(self.services.settings.rasa_token)
        return self._key

    def get_output_channel(self) -> OutputChannel:
        return ChatOutput(self.services)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint(f"chat_webhook_{id(self)}", __name__)

        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def session(request: Request) -> HTTPResponse:
            return await self.session(request)

        async def webhook(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        async def messages(request: Request) -> HTTPResponse:
            return await self.messages(request)

        async def preflight(request: Request) -> HTTPResponse:
            return response.empty(status=204 if self._origin_ok(request) else 403)

        async def add_headers(request: Request, answer: HTTPResponse) -> None:
            origin = request.headers.get("Origin")
            origins = self.services.settings.chat_origins
            found = cors.headers(origins, origin, preflight=request.method == "OPTIONS")
            answer.headers.update(found)
            answer.headers["Cache-Control"] = "no-store"  # tokens and threads are private

        async def started(app, loop) -> None:
            self._spawn(self.replay_unanswered(on_new_message))

        async def stop(app, loop) -> None:
            self._assistant.close()  # turns still running are replayed at the next start

        bp.add_route(health, "/", methods=["GET"])
        bp.add_route(session, "/session", methods=["POST"])
        bp.add_route(webhook, "/webhook", methods=["POST"])
        bp.add_route(messages, "/messages", methods=["GET"])
        for path in ("/session", "/webhook", "/messages"):
            bp.add_route(preflight, path, methods=["OPTIONS"], name=f"preflight{path[1:]}")
        bp.middleware(add_headers, "response")
        bp.after_server_start(started)
        bp.after_server_stop(stop)
        return bp

    async def session(self, request: Request) -> HTTPResponse:
        """A new visitor: a token for the widget to keep (nothing is stored until they write)."""
        if not self._origin_ok(request):
            return _error("this site may not use the chat", 403)
        wait = self._sessions.allow(request.ip or "unknown")
        if wait:
            return _too_many("too many new chats from this address; try again later", wait)
        return response.json({"token": tokens.issue(self.key)})

    async def receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """Store the message, answer with its id, then let the assistant take its turn."""
        sender = self._visitor(request)
        if isinstance(sender, HTTPResponse):
            return sender
        wait = self._messages.allow(sender)
        if wait:
            return _too_many("you are sending messages too quickly; wait a moment", wait)
        try:
            chat = parse(request.body or b"", sender)
        except BadChat as exc:
            return _error(str(exc), exc.status)
        job = self._storing.add(sender, lambda: self._store_and_queue(chat, on_new_message))
        try:
            message_id = await asyncio.shield(job)
        except Exception as exc:  # nothing stored: the widget sends the same id again
            log.error("could not store a chat message from %s (%s)", sender, type(exc).__name__)
            return _error("the message could not be stored; send it again", 503)
        return response.json({"id": message_id})

    async def _store_and_queue(self, chat: ChatText, on_new_message: OnNewMessage) -> int:
        s = self.services
        stored = await asyncio.to_thread(store, s.db, chat, s.clock)
        if not stored.duplicate:  # a repeated id was queued (or answered) the first time
            pending = Pending(stored.message_id, chat.sender_id, chat.external_id, chat.text)
            self._answering.add(chat.sender_id, lambda: self.answer(pending, on_new_message))
        return stored.message_id

    async def messages(self, request: Request) -> HTTPResponse:
        """The visitor's thread after message `after` (the widget polls this)."""
        sender = self._visitor(request)
        if isinstance(sender, HTTPResponse):
            return sender
        try:
            after = int(request.args.get("after") or 0)
        except ValueError:
            return _error("after must be a message id", 400)
        s = self.services
        try:
            found = await asyncio.to_thread(visible, s.db, sender, max(after, 0))
        except Exception as exc:
            log.error("could not read the chat thread of %s (%s)", sender, type(exc).__name__)
            return _error("the conversation cannot be read right now", 503)
        return response.json({"messages": [m.as_json() for m in found], "more": len(found) == PAGE})

    async def answer(self, pending: Pending, on_new_message: OnNewMessage) -> None:
        """Run one turn (callers queue it behind the visitor's earlier messages), then record
        that it was answered, or visibly failed."""
        error = None
        try:
            async with self._turns:
                await self._assistant.run(on_new_message(self._user_message(pending)))
        except Exception as exc:  # recorded on the message: never a silent drop
            log.exception("assistant failed on a chat message from %s", pending.sender_id)
            error = f"assistant failed: {type(exc).__name__}"
        try:
            await asyncio.to_thread(mark_many, self.services.db, [(pending.message_id, error)])
        except Exception:
            log.exception("could not record the outcome of chat message %d", pending.message_id)

    async def replay_unanswered(self, on_new_message: OnNewMessage) -> None:
        """Answer messages stored before a stop but never answered."""
        since = self.services.clock.now() - REPLAY_WINDOW
        try:
            left = await asyncio.to_thread(unanswered, self.services.db, since)
        except Exception:  # they stay stored and unanswered, shown so in the inbox
            log.exception("could not look for unanswered chat messages; next start tries again")
            return
        for pending in left:
            self._answering.add(pending.sender_id, self._replay(pending, on_new_message))
        if left:
            log.info("answering %d chat message(s) left over from before a restart", len(left))

    def _replay(self, pending: Pending, on_new_message: OnNewMessage):
        async def turn() -> None:
            if await asyncio.to_thread(is_unanswered, self.services.db, pending.message_id):
                await self.answer(pending, on_new_message)

        return turn

    async def idle(self) -> None:
        """Wait until every message received so far is stored and answered (tests, shutdown)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))
        await self._storing.idle()
        await self._answering.idle()

    def _user_message(self, pending: Pending) -> UserMessage:
        return UserMessage(
            text=assistant_text(pending.text),
            output_channel=self.get_output_channel(),
            sender_id=pending.sender_id,
            input_channel=self.name(),
            message_id=pending.external_id,
            metadata={"message_id": pending.message_id},
        )

    def _visitor(self, request: Request) -> str | HTTPResponse:
        """The visitor's sender id, from the bearer token; or the refusal to send."""
        if not self._origin_ok(request):
            return _error("this site may not use the chat", 403)
        token = tokens.bearer(request.headers.get("Authorization"))
        if not tokens.is_valid(self.key, token):
            return _error("send the visitor token: Authorization: Bearer <token>", 401)
        return tokens.sender_for(token)

    def _origin_ok(self, request: Request) -> bool:
        return cors.allows(self.services.settings.chat_origins, request.headers.get("Origin"))

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _error(message: str, status: int) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def _too_many(message: str, wait: float) -> HTTPResponse:
    answer = _error(message, 429)
    answer.headers["Retry-After"] = str(max(1, round(wait)))
    return answer
