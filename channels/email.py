"""The email channel: SendGrid Inbound Parse in, one threaded email reply per email out.

Thin: parsing, storing, loop rules and composing live in bot.email. Each email is stored
before the webhook is answered 200; the assistant's turn runs afterwards, one sender's
emails in order. What the assistant says in a turn is collected and queued as ONE email
(nothing at all when it says nothing, as while a conversation waits for an agent); the
desk's EmailSender sends it by SMTP.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.customers import mask_email
from bot.email import auth
from bot.email.form import BadForm, is_form, read_form
from bot.email.inbound import Turn, accept_email
from bot.email.parse import BadInbound, parse
from bot.email.turns import (
    finish_turn,
    is_unanswered,
    mark_failed,
    queue_unprompted,
    unanswered,
    with_choices,
)
from bot.services import Services, services_from_env
from bot.sms.turns import AssistantThread, SenderQueues

log = logging.getLogger(__name__)

CHALLENGE = {"WWW-Authenticate": 'Basic realm="inbound email"'}
# SendGrid refuses email over 30 MB; the form that carries it is a little larger. Bodies
# over this are refused (413) as they stream in, so a forged giant never sits in memory.
MAX_BODY = 32 * 1024 * 1024
REPLAY_WINDOW = timedelta(hours=24)
MAX_TURNS = 20  # turns in progress at once; more wait their turn

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class EmailOutput(OutputChannel):
    """Collects one turn's messages; the channel sends them as one email after the turn."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    @classmethod
    def name(cls) -> str:
        return "email"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.add(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        titles = [str(b.get("title") or "") for b in buttons]
        await self.add(recipient_id, with_choices(text, titles))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.add(recipient_id, image)

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        await self.add(recipient_id, str(attachment))

    async def send_custom_json(self, recipient_id: str, json_message: dict, **kwargs: Any) -> None:
        log.warning("custom payload for %s dropped: email carries text", mask_email(recipient_id))

    async def add(self, recipient_id: str, text: str) -> None:
        self.texts.append(text)


class EmailNow(EmailOutput):
    """Outside a turn (Rasa's trigger_intent API): each message is its own email at once."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services

    async def add(self, recipient_id: str, text: str) -> None:
        s = self.services
        await asyncio.to_thread(queue_unprompted, s.db, s.settings, s.clock, recipient_id, text)


class EmailInput(InputChannel):
    """SendGrid's Inbound Parse webhook, authenticated, stored and acknowledged first."""

    def __init__(self, services: Services | None = None, *, max_body: int = MAX_BODY) -> None:
        self._services = services
        self.max_body = max_body
        self._answering = SenderQueues()  # a sender's emails, answered in arrival order
        self._assistant = AssistantThread("email-assistant")
        self._turns = asyncio.Semaphore(MAX_TURNS)
        self._replaying: asyncio.Future | None = None

    @classmethod
    def name(cls) -> str:
        return "email"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> EmailInput:
        return cls()  # settings come from the environment (bot.config), not credentials.yml

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = services_from_env()  # shared by the server's channels
        return self._services

    def get_output_channel(self) -> OutputChannel:
        return EmailNow(self.services)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint(f"email_webhook_{id(self)}", __name__)

        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def inbound(request: Request, secret: str | None = None) -> HTTPResponse:
            return await self.receive(request, on_new_message, secret)

        async def started(app, loop) -> None:
            # Emails stored but not answered before a restart; the server need not wait.
            self._replaying = asyncio.ensure_future(self.replay_unanswered(on_new_message))

        async def stop(app, loop) -> None:
            self._assistant.close()

        bp.add_route(health, "/", methods=["GET"])
        bp.add_route(inbound, "/inbound", methods=["POST"], stream=True, name="basic")
        bp.add_route(inbound, "/inbound/<secret:str>", methods=["POST"], stream=True, name="url")
        bp.after_server_start(started)
        bp.after_server_stop(stop)
        return bp

    async def receive(
        self, request: Request, on_new_message: OnNewMessage, secret: str | None
    ) -> HTTPResponse:
        """Authenticate, read, parse, store, answer 200; the turn runs after."""
        settings = self.services.settings
        try:
            auth.check(settings.email_inbound_secret, secret, request.headers.get("authorization"))
        except auth.Refused as exc:
            headers = CHALLENGE if exc.status == 401 else {}
            return response.text(str(exc), status=exc.status, headers=headers)
        content_type = request.headers.get("content-type", "")
        if not is_form(content_type):
            return response.text("expected multipart/form-data (SendGrid Inbound Parse)", 400)
        body = await _read_body(request, self.max_body)
        if body is None:
            return response.text(f"email over {self.max_body:,} bytes refused", 413)
        try:
            email = parse(read_form(content_type, body))
        except (BadForm, BadInbound) as exc:
            return response.text(str(exc), status=400)
        s = self.services
        try:
            accepted = await asyncio.to_thread(
                accept_email, s.db, email, s.settings, s.oms, s.clock
            )
        except SQLAlchemyError:  # not stored: a 5xx, so SendGrid sends it again later
            log.exception("could not store an email from %s", mask_email(email.from_address))
            return response.text("could not store the email; try again later", status=503)
        if accepted.turn is not None:
            self._queue_turn(accepted.turn, on_new_message)
        return response.text("stored" if not accepted.duplicate else "already stored")

    def _queue_turn(self, turn: Turn, on_new_message: OnNewMessage, replayed: bool = False) -> None:
        async def job() -> None:
            if replayed and not await asyncio.to_thread(
                is_unanswered, self.services.db, turn.message_id
            ):
                return
            await self.answer(turn, on_new_message)

        self._answering.add(turn.sender_id, job)

    async def answer(self, turn: Turn, on_new_message: OnNewMessage) -> None:
        """Run one turn and queue its one reply; any failure is recorded on the email."""
        s, output, error = self.services, EmailOutput(), None
        try:
            async with self._turns:
                await self._assistant.run(on_new_message(self._user_message(turn, output)))
        except Exception as exc:  # recorded on the message: never a silent drop
            log.exception("assistant failed on an email from %s", mask_email(turn.sender_id))
            error = f"assistant failed: {type(exc).__name__}"
        try:
            await asyncio.to_thread(
                finish_turn, s.db, s.settings, s.clock, turn, output.texts, error
            )
        except Exception as exc:
            log.exception("could not queue the reply to %s", mask_email(turn.sender_id))
            reason = f"reply not queued: {type(exc).__name__}"
            await asyncio.to_thread(mark_failed, s.db, turn.message_id, reason)

    def _user_message(self, turn: Turn, output: OutputChannel) -> UserMessage:
        return UserMessage(
            text=turn.text,
            output_channel=output,
            sender_id=turn.sender_id,
            input_channel=self.name(),
            message_id=turn.email_id or None,
            metadata={"message_id": turn.message_id},
        )

    async def idle(self) -> None:
        """Wait until every email received so far is answered (tests and shutdown)."""
        if self._replaying is not None:
            await asyncio.wait({self._replaying})
        await self._answering.idle()

    async def replay_unanswered(self, on_new_message: OnNewMessage) -> None:
        """Answer emails stored but not answered before a restart."""
        s = self.services
        try:
            turns = await asyncio.to_thread(unanswered, s.db, s.clock, REPLAY_WINDOW)
        except SQLAlchemyError:
            log.exception("could not look for unanswered emails; they wait for the next start")
            return
        for turn in turns:
            self._queue_turn(turn, on_new_message, replayed=True)
        if turns:
            log.info("answering %d email(s) left over from before a restart", len(turns))


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None when it is over `limit` (by its Content-Length, or as it streams)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    request.stream.request_max_size = limit  # also bounds what Sanic drains after a 413
    chunks, size = [], 0
    try:
        async for chunk in request.stream:
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    except PayloadTooLarge:
        return None
    return b"".join(chunks)
