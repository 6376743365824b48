"""The SMS channel: Twilio's webhook in, the outbox out. Thin: the rules live in bot.sms."""

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
from sqlalchemy import select

from bot.heap import HeapFreezer
from bot.notify.deliver import queue_alert
from bot.phone import mask
from bot.services import Services, services_from_env
from bot.sms.inbound import (
    Accepted,
    BadInbound,
    InboundSms,
    Receipt,
    accept_many,
    assistant_text,
    is_unanswered,
    mark_many,
    parse_form,
)
from bot.sms.outbound import enqueue_for_phone
from bot.sms.receipts import ReceiptWriter, unprocessed
from bot.sms.turns import AcksFirst, AssistantThread, SenderQueues
from bot.sms.webhook import twilio_form
from bot.store.batching import GroupWriter
from bot.store.models import Conversation, Message
from bot.support.wording import with_choices

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
REPLAY_WINDOW = timedelta(hours=24)
MAX_TURNS = 100  # turns in progress at once; more wait their turn (the action server is one)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class SmsOutput(OutputChannel):
    """Writes the assistant's texts to the outbox; the desk's dispatcher sends them."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @classmethod
    def name(cls) -> str:
        return "sms"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        services = self.services
        notification = kwargs.get("notification_id")
        if notification:  # a shipping alert: queued once, however often it was triggered
            hint = bool(kwargs.get("opt_out_hint"))
            await asyncio.to_thread(
                queue_alert,
                services.db,
                int(notification),
                recipient_id,
                text,
                services.clock,
                hint=hint,
            )
            return
        purpose = kwargs.get("purpose") or "reply"
        offer = kwargs.get("consent_offer")  # "updates for #1003? Reply YES": YES opts in
        await asyncio.to_thread(
            enqueue_for_phone, services, recipient_id, text, purpose, consent_offer=offer
        )

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await asyncio.to_thread(
            enqueue_for_phone, self.services, recipient_id, "", "reply", media_urls=[image]
        )

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """SMS has no buttons: list the choices as text to reply with."""
        await self.send_text_message(recipient_id, with_choices(text, buttons), **kwargs)

    async def send_custom_json(self, recipient_id: str, json_message: dict, **kwargs: Any) -> None:
        log.warning("custom payload for %s dropped: SMS carries text only", mask(recipient_id))


class SmsInput(InputChannel):
    """Twilio's inbound webhook, checked, stored and acknowledged before the assistant runs."""

    def __init__(self, services: Services | None = None) -> None:
        self._services = services
        self._answering = SenderQueues()  # a sender's texts, answered in arrival order
        # Stored texts wait here, in arrival order, until the burst they came in is answered.
        self._to_sort: list[tuple[InboundSms, int, OnNewMessage]] = []
        self._queueing: asyncio.Task | None = None
        # Turns run on a loop of their own, so acknowledging Twilio never waits for the model.
        self._assistant = AssistantThread("sms-assistant")
        self._acks_first = AcksFirst()  # during a burst, acknowledge every text before answering
        self._turns = asyncio.Semaphore(MAX_TURNS)
        self._heap = HeapFreezer()  # no full collection walks the model mid-burst
        self._writer: ReceiptWriter | None = None
        self._sorter: GroupWriter[Receipt, Accepted | Exception] | None = None
        self._marker: GroupWriter[tuple[int, str | None], None] | None = None
        self._on_new_message: OnNewMessage | None = None
        self._tasks: set[asyncio.Task] = set()

    @classmethod
    def name(cls) -> str:
        return "sms"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SmsInput:
        return cls()  # settings come from the environment (bot.config), not credentials.yml

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = services_from_env()  # shared by the server's channels
        return self._services

    def get_output_channel(self) -> OutputChannel:
        return SmsOutput(self.services)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint(f"sms_webhook_{id(self)}", __name__)

        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def webhook(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        async def started(app, loop) -> None:
            self._heap.loaded()  # Rasa loads its model before the server starts
            # Texts stored but not answered before a restart.
            self._spawn(self.replay_unanswered(on_new_message))

        async def stop(app, loop) -> None:
            self._assistant.close()
            for writer in (self._sorter, self._marker):
                if writer is not None:
                    writer.close()

        bp.add_route(health, "/", methods=["GET"])
        bp.add_route(webhook, "/webhook", methods=["POST"])
        bp.after_server_start(started)
        bp.after_server_stop(stop)
        return bp

    async def receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """Steps 1-6 of the inbound path; step 7 (the assistant) runs after the answer."""
        self._acks_first.started()
        try:
            return await self._receive(request, on_new_message)
        finally:
            self._acks_first.finished()

    async def _receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        settings = self.services.settings
        form = twilio_form(request, settings)
        if isinstance(form, HTTPResponse):
            return form
        try:
            sms = parse_form(form)
        except BadInbound as exc:
            return response.text(str(exc), status=400)
        self._on_new_message = on_new_message
        # Stored durably (a group commit) before Twilio hears back; sorted and answered after.
        await self.writer.store(sms)
        return response.text(EMPTY_TWIML, content_type="text/xml")

    @property
    def writer(self) -> ReceiptWriter:
        if self._writer is None:
            self._writer = ReceiptWriter(self.services.db, self.services.clock, self._stored)
        return self._writer

    @property
    def sorter(self) -> GroupWriter[Receipt, Accepted | Exception]:
        """Sorts texts in groups: a burst's texts share a transaction instead of one each."""
        if self._sorter is None:
            s = self.services
            self._sorter = GroupWriter(
                lambda texts: accept_many(s.db, texts, s.settings, s.clock), "sms-sort"
            )
        return self._sorter

    @property
    def marker(self) -> GroupWriter[tuple[int, str | None], None]:
        """Records answered (or failed) texts in groups, like the sorter."""
        if self._marker is None:
            db = self.services.db
            self._marker = GroupWriter(lambda outcomes: mark_many(db, outcomes), "sms-mark")
        return self._marker

    def _stored(self, sms: InboundSms, receipt_id: int) -> None:
        """A new text is on disk: it is sorted and answered once the burst is acknowledged.

        Nothing is scheduled per text until then (a task each would slow the very
        acknowledgements it waits for); one task queues them all, in arrival order.
        """
        self._to_sort.append((sms, receipt_id, self._on_new_message))
        if self._queueing is None or self._queueing.done():
            self._queueing = asyncio.ensure_future(self._queue_stored())

    async def _queue_stored(self) -> None:
        while self._to_sort:
            await self._acks_first.lull()
            texts, self._to_sort = self._to_sort, []
            for sms, receipt_id, on_new_message in texts:
                self._answering.add(
                    sms.from_phone,
                    lambda s=sms, r=receipt_id, o=on_new_message: self._sort(s, r, o),
                )

    async def _sort(self, sms: InboundSms, receipt_id: int, on_new_message: OnNewMessage) -> None:
        """Thread, keywords, consent; then the assistant's turn when it is the assistant's."""
        accepted = await self.sorter.submit((sms, receipt_id))
        if isinstance(accepted, Exception):  # its receipt stays unprocessed: sorted at restart
            log.error(
                "could not sort a text from %s (%s); it is sorted again at the next start",
                mask(sms.from_phone),
                type(accepted).__name__,
            )
            return
        if accepted.for_assistant:
            await self.answer(sms, accepted.stored.message_id, on_new_message)

    def _queue_turn(self, sms: InboundSms, message_id: int, on_new_message: OnNewMessage) -> None:
        """Queue the turn of a text stored before a restart, unless it has been answered since."""

        async def turn() -> None:
            if await asyncio.to_thread(is_unanswered, self.services.db, message_id):
                await self.answer(sms, message_id, on_new_message)

        self._answering.add(sms.from_phone, turn)

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def answer(self, sms: InboundSms, message_id: int, on_new_message: OnNewMessage) -> None:
        """Run one turn: callers queue it behind the sender's earlier texts."""
        error = None
        try:
            async with self._turns:
                await self._acks_first.lull()
                await self._assistant.run(on_new_message(self._user_message(sms, message_id)))
            self._heap.turn_done()
        except Exception as exc:  # recorded on the message: never a silent drop
            log.exception("assistant failed on a text from %s", mask(sms.from_phone))
            error = f"assistant failed: {type(exc).__name__}"
        await self.marker.submit((message_id, error))

    async def idle(self) -> None:
        """Wait until every text received so far is stored and answered."""
        while True:
            if self._queueing is not None and not self._queueing.done():
                await asyncio.wait({self._queueing})
            await self._answering.idle()
            if not self._to_sort and (self._queueing is None or self._queueing.done()):
                return

    def _user_message(self, sms: InboundSms, message_id: int) -> UserMessage:
        return UserMessage(
            text=assistant_text(sms.body),
            output_channel=self.get_output_channel(),
            sender_id=sms.from_phone,
            input_channel=self.name(),
            message_id=sms.sid,
            metadata={"message_id": message_id, "media": list(sms.media)},
        )

    async def replay_unanswered(self, on_new_message: OnNewMessage) -> None:
        """Finish texts a stop interrupted: stored but not sorted, or sorted but not answered."""
        self._on_new_message = self._on_new_message or on_new_message
        unsorted = await asyncio.to_thread(unprocessed, self.services.db)
        pending = await asyncio.to_thread(self._unanswered)
        for sms, message_id in pending:
            self._queue_turn(sms, message_id, on_new_message)
        for sms, receipt_id in unsorted:
            self._answering.add(
                sms.from_phone, lambda s=sms, r=receipt_id: self._sort(s, r, on_new_message)
            )
        if pending or unsorted:
            log.info(
                "finishing %d text(s) left over from before a restart", len(pending) + len(unsorted)
            )

    def _unanswered(self) -> list[tuple[InboundSms, int]]:
        since = self.services.clock.now() - REPLAY_WINDOW
        with self.services.db.read() as session:
            rows = session.execute(
                select(Message, Conversation)
                .join(Conversation, Message.conversation_id == Conversation.id)
                .where(
                    Message.channel == "sms",
                    Message.direction == "in",
                    Message.status == "received",
                    Message.created_at > since,
                )
                .order_by(Message.id)
            ).all()
            return [
                (
                    InboundSms(
                        m.external_id or "", "", c.sender_id or "", "", m.body, tuple(m.media or ())
                    ),
                    m.id,
                )
                for m, c in rows
                if c.sender_id
            ]
