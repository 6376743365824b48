"""POST /webhooks/twilio/status on the desk: signed callbacks move a text forward, never back."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.consent import ConsentState, consent_state
from bot.desk.app import STATUS_PATH, create_app
from bot.inbox import customer_for_phone, thread_for
from bot.oms.demo import DemoStore
from bot.outbox import enqueue
from bot.services import Services
from bot.sms.dispatcher import Dispatcher
from bot.sms.pacing import Pacer
from bot.sms.twilio_gateway import TwilioGateway
from bot.store import Database
from bot.store.models import Message, OutboxItem
from tests.fakes.twilio import FakeTwilio, HttpReply, signed_form_post
from tests.http import serving

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "5f2a" * 8
FROM = "+12065550100"
TO = "+12065550101"
SID = "SM" + "1" * 32
PUBLIC = "https://pigeon.example.com"


def _services(db: Database, clock: FixedClock, **settings: Any) -> Services:
    settings = {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from_number": FROM,
        **settings,
    }
    return Services(Settings(**settings), db, DemoStore(db, clock), clock)


def _queue(db: Database, clock: FixedClock, body: str = "on its way") -> int:
    with db.write() as session:
        conversation = thread_for(session, customer_for_phone(session, TO), "sms", clock)
        return enqueue(session, conversation, body, "reply", to_phone=TO, clock=clock).id


@pytest.fixture
def message_id(db: Database, clock: FixedClock) -> int:
    """A text the dispatcher handed to Twilio as SID (status 'queued')."""
    item_id = _queue(db, clock)
    with db.write() as session:
        item = session.get(OutboxItem, item_id)
        item.status, item.provider_sid = "sent", SID
        session.get(Message, item.message_id).external_id = SID
        return item.message_id


@pytest.fixture
async def desk(db: Database, clock: FixedClock) -> AsyncIterator[str]:
    app = create_app(_services(db, clock), f"desk_{uuid.uuid4().hex}", dispatch=False)
    async with serving(app) as base:
        yield base + STATUS_PATH


def _callback(status: str, sid: str = SID, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": FROM,
        "To": TO,
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        **extra,
    }


async def _post(url: str, status: str, **kw: Any) -> HttpReply:
    token = kw.pop("token", AUTH_TOKEN)
    return await signed_form_post(url, _callback(status, **kw.pop("form", {})), token, **kw)


def _message(db: Database, message_id: int) -> Message:
    with db.read() as session:
        return session.get(Message, message_id)


def _opted_out(db: Database) -> bool:
    with db.read() as session:
        return consent_state(session, TO) is ConsentState.OPTED_OUT


async def test_sent_then_delivered_moves_forward(db: Database, desk: str, message_id: int) -> None:
    assert (await _post(desk, "sent")).status == 204
    assert _message(db, message_id).status == "sent"
    assert (await _post(desk, "delivered")).status == 204
    assert _message(db, message_id).status == "delivered"


async def test_a_late_sent_after_delivered_stays_delivered(
    db: Database, desk: str, message_id: int
) -> None:
    await _post(desk, "delivered")
    reply = await _post(desk, "sent")
    assert 200 <= reply.status < 300
    assert _message(db, message_id).status == "delivered"


async def test_undelivered_keeps_the_error_code(db: Database, desk: str, message_id: int) -> None:
    await _post(desk, "undelivered", form={"ErrorCode": "30003"})
    message = _message(db, message_id)
    assert (message.status, message.error_code) == ("undelivered", "30003")
    assert not _opted_out(db)


async def test_21610_in_a_callback_opts_the_number_out(
    db: Database, desk: str, message_id: int
) -> None:
    await _post(desk, "failed", form={"ErrorCode": "21610"})
    assert (_message(db, message_id).status, _message(db, message_id).error_code) == (
        "failed",
        "21610",
    )
    assert _opted_out(db)


async def test_an_unsigned_callback_is_refused(db: Database, desk: str, message_id: int) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.post(desk, data=_callback("delivered", ErrorCode="21610")) as answer,
    ):
        assert answer.status == 403
    assert _message(db, message_id).status == "queued"
    assert not _opted_out(db)


@pytest.mark.parametrize(
    "forgery",
    [
        {"token": "0" * 32},
        {"sign_url": PUBLIC + STATUS_PATH},
        {"form": {"AccountSid": "AC" + "f" * 32}},
    ],
    ids=["wrong-token", "other-url", "foreign-account"],
)
async def test_a_forged_callback_is_refused(
    db: Database, desk: str, message_id: int, forgery: dict[str, Any]
) -> None:
    assert (await _post(desk, "delivered", **forgery)).status == 403
    assert _message(db, message_id).status == "queued"


async def test_an_unknown_sid_is_acknowledged_and_changes_nothing(
    db: Database, desk: str, message_id: int
) -> None:
    reply = await _post(desk, "failed", form={"MessageSid": "SM" + "9" * 32, "ErrorCode": "21610"})
    assert 200 <= reply.status < 300
    assert _message(db, message_id).status == "queued"
    assert not _opted_out(db)


async def test_a_callback_without_a_status_is_a_bad_request(desk: str, message_id: int) -> None:
    assert (await _post(desk, "")).status == 400


async def test_behind_a_proxy_the_public_url_is_what_is_signed(
    db: Database, clock: FixedClock, message_id: int
) -> None:
    services = _services(db, clock, public_url=PUBLIC)
    app = create_app(services, f"desk_{uuid.uuid4().hex}", dispatch=False)
    async with serving(app) as base:
        internal = await _post(base + STATUS_PATH, "sent")
        public = await _post(base + STATUS_PATH, "delivered", sign_url=PUBLIC + STATUS_PATH)
    assert (internal.status, public.status) == (403, 204)
    assert _message(db, message_id).status == "delivered"


async def test_callbacks_from_the_fake_twilio_reach_the_text_it_sent(
    db: Database, clock: FixedClock, desk: str
) -> None:
    item_id = _queue(db, clock, "tracked")
    async with (
        FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake,
        TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, from_number=FROM, api_url=fake.url) as gateway,
    ):
        dispatcher = Dispatcher(
            db, gateway, clock, pacer=Pacer(100), quiet_hours=None, status_callback=desk
        )
        assert await dispatcher.run_once()
        [sent] = fake.messages
        for status in ("sent", "delivered", "sent"):
            assert (await fake.send_status(sent.sid, status)).status == 204
    with db.read() as session:
        message = session.get(Message, session.get(OutboxItem, item_id).message_id)
    assert (message.external_id, message.status) == (sent.sid, "delivered")


async def test_the_desk_dispatches_queued_texts_to_twilio_in_the_background(
    db: Database, clock: FixedClock
) -> None:
    async with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        services = _services(db, clock, public_url=PUBLIC, twilio_api_url=fake.url)
        gateway = TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, from_number=FROM, api_url=fake.url)
        app = create_app(services, f"desk_{uuid.uuid4().hex}", gateway=gateway)
        async with serving(app) as base:
            item_id = _queue(db, clock, "Your order shipped.")
            deadline = time.monotonic() + 30  # generous: the machine may be busy
            while not fake.messages:
                assert time.monotonic() < deadline, "the desk never sent the text"
                await asyncio.sleep(0.02)
            [sent] = fake.messages
            assert (sent.to, sent.from_, sent.body) == (TO, FROM, "Your order shipped.")
            assert sent.status_callback == PUBLIC + STATUS_PATH
            callback = _callback("delivered", sid=sent.sid)
            reply = await signed_form_post(
                base + STATUS_PATH, callback, AUTH_TOKEN, sign_url=sent.status_callback
            )
            assert reply.status == 204
    with db.read() as session:
        item = session.get(OutboxItem, item_id)
        message = session.get(Message, item.message_id)
    assert (item.status, item.provider_sid) == ("sent", sent.sid)
    assert message.status == "delivered"
    assert fake.attempts == 1
