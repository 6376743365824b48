"""A desk served on loopback by a thread of its own, for synchronous property tests.

Hypothesis drives plain functions best: each example is a blocking HTTP request to an app
whose event loop runs in another thread, so no example shares a loop with the test.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.clock import FixedClock
from bot.config import Settings
from bot.desk.app import create_app
from bot.inbox import customer_for_phone, record_inbound, thread_for
from bot.oms.demo import DemoStore
from bot.outbox import enqueue
from bot.services import Services
from bot.store import Database
from bot.store.models import Message, OutboxItem
from channels.sms import SmsInput
from tests.http import serving

TOKEN = "desk-api-token-for-hostile-tests"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "3e7c" * 8
SHOPIFY_SECRET = "shpss_" + "5" * 32
PHONE, STORE = "+12065550101", "+12065550100"
SMS_PATH = "/webhooks/sms/webhook"
SENT_SID = "SM" + "4" * 32  # a text the dispatcher handed to Twilio
START_TIMEOUT = 30.0
T = TypeVar("T")


@dataclass
class FakeAssistant:
    """The desk's view of Rasa: resuming is recorded, triggering never happens here."""

    resumed: list[str] = field(default_factory=list)

    async def trigger(self, sender_id: str, entities: Mapping[str, str]) -> None:
        raise AssertionError("no alerts are sent by these tests")

    async def resume(self, sender_id: str) -> None:
        self.resumed.append(sender_id)

    async def close(self) -> None:
        return None


def desk_settings(**overrides: Any) -> Settings:
    """A desk with real Twilio and Shopify switched on, so every webhook checks its signature."""
    values = {
        "desk_api_token": TOKEN,
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from_number": STORE,
        "shopify_webhook_secret": SHOPIFY_SECRET,
        **overrides,
    }
    return Settings(**values)


def seed(db: Database, clock: FixedClock) -> dict[str, int]:
    """One customer with an SMS, a chat and an email thread, and a text sent as SENT_SID."""
    ids = {}
    for channel in ("sms", "chat", "email"):
        with db.write() as session:
            stored = record_inbound(
                session, phone=PHONE, channel=channel, body=f"hello by {channel}", clock=clock
            )
            ids[channel] = stored.conversation_id
    with db.write() as session:
        conversation = thread_for(session, customer_for_phone(session, PHONE), "sms", clock)
        item = enqueue(session, conversation, "on its way", "reply", to_phone=PHONE, clock=clock)
        item.status, item.provider_sid = "sent", SENT_SID
        session.get(Message, item.message_id).external_id = SENT_SID
        ids["sent"] = session.get(OutboxItem, item.id).message_id
    return ids


@dataclass(frozen=True)
class Served:
    base: str
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(START_TIMEOUT)


@contextmanager
def served_app(app: Sanic) -> Iterator[Served]:
    """`app` served on loopback by a loop in a daemon thread until the block ends."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="hostile-desk", daemon=True)
    thread.start()
    context = serving(app)
    try:
        base = asyncio.run_coroutine_threadsafe(context.__aenter__(), loop).result(START_TIMEOUT)
        try:
            yield Served(base, loop)
        finally:
            stop = context.__aexit__(None, None, None)
            asyncio.run_coroutine_threadsafe(stop, loop).result(START_TIMEOUT)
            asyncio.run_coroutine_threadsafe(_cancel_the_rest(), loop).result(START_TIMEOUT)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(START_TIMEOUT)
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


async def _cancel_the_rest() -> None:
    """End what the server leaves on its loop (a client's idle keep-alive connection)."""
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


@contextmanager
def served_desk(db: Database, clock: FixedClock, **settings: Any) -> Iterator[str]:
    services = Services(desk_settings(**settings), db, DemoStore(db, clock), clock)
    app = create_app(
        services,
        f"desk_{uuid.uuid4().hex}",
        assistant=FakeAssistant(),
        dispatch=False,
        notify=False,
        email=False,
    )
    with served_app(app) as served:
        yield served.base


@dataclass
class SmsChannel:
    """The SMS channel's webhook as Rasa mounts it, and the turns its assistant was given."""

    url: str
    turns: list[UserMessage]
    idle: Callable[[], None]  # waits until every text so far is stored, sorted and answered


@contextmanager
def served_sms_channel(db: Database, clock: FixedClock) -> Iterator[SmsChannel]:
    services = Services(desk_settings(), db, DemoStore(db, clock), clock)
    channel, turns = SmsInput(services), []

    async def assistant(message: UserMessage) -> None:
        turns.append(message)

    app = Sanic(f"sms_{uuid.uuid4().hex}")
    app.blueprint(channel.blueprint(assistant), url_prefix="/webhooks/sms")
    with served_app(app) as served:
        sms = SmsChannel(served.base + SMS_PATH, turns, lambda: served.run(channel.idle()))
        try:
            yield sms
        finally:
            sms.idle()
