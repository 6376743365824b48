"""The desk's SMS simulator: a phone in the browser, texting the real signed SMS webhook."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.desk.app import create_app
from bot.desk.simulator import PAGE
from bot.inbox import customer_for_phone, record_inbound, record_outbound, thread_for
from bot.oms.demo import DemoStore
from bot.oms.demo_seed import seed
from bot.services import Services
from bot.store import Database
from bot.store.models import Customer, Message
from channels.sms import SmsInput
from tests.http import serving

AUTH_TOKEN = "7e3b" * 8
PHONE = "+12065550101"
DEMO_DATA = Path(__file__).resolve().parents[3] / "data" / "demo"


def _services(db: Database, clock: FixedClock, **settings: Any) -> Services:
    settings.setdefault("twilio_auth_token", AUTH_TOKEN)
    return Services(Settings(**settings), db, DemoStore(db, clock), clock)


@asynccontextmanager
async def _desk(services: Services, **kw: Any) -> AsyncIterator[aiohttp.ClientSession]:
    kw.setdefault("dispatch", False)
    app = create_app(services, f"desk_{uuid.uuid4().hex}", **kw)
    async with serving(app) as base, aiohttp.ClientSession(base_url=base) as client:
        yield client


async def _reply_to(message: UserMessage) -> None:
    await message.output_channel.send_text_message(message.sender_id, "reply to: " + message.text)


@asynccontextmanager
async def _rasa(services: Services) -> AsyncIterator[tuple[str, SmsInput]]:
    """A served SmsInput, as the Rasa server mounts it; its base URL is the desk's RASA_URL."""
    channel = SmsInput(services)
    app = Sanic(f"rasa_{uuid.uuid4().hex}")
    app.blueprint(channel.blueprint(_reply_to), url_prefix="/webhooks/sms")
    async with serving(app) as base:
        yield base, channel
        await channel.idle()


def _text(db: Database, clock: FixedClock, phone: str, body: str, direction: str = "in") -> int:
    with db.write() as session:
        if direction == "in":
            return record_inbound(
                session, phone=phone, channel="sms", body=body, clock=clock
            ).message_id
        conversation = thread_for(session, customer_for_phone(session, phone), "sms", clock)
        return record_outbound(session, conversation, author="assistant", body=body).id


async def _json(client: aiohttp.ClientSession, method: str, path: str, **kw: Any):
    async with client.request(method, path, **kw) as answer:
        return answer.status, await answer.json()


# --- the page ---


async def test_the_page_is_served(db: Database, clock: FixedClock) -> None:
    async with _desk(_services(db, clock)) as client, client.get("/simulator") as answer:
        assert answer.status == 200
        assert answer.content_type == "text/html"
        assert "Pigeon SMS simulator" in await answer.text()


def test_the_page_renders_customer_text_only_through_text_content() -> None:
    html = PAGE.read_text(encoding="utf-8")
    assert "textContent = m.body" in html
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in html
    assert not re.search(r"\son[a-z]+\s*=", html.split("<script>")[0])  # no inline handlers


# --- customers and messages ---


async def test_demo_customers_are_listed(db: Database, clock: FixedClock) -> None:
    seed(db, DEMO_DATA, clock)
    with db.read() as session:
        expected = [
            {"name": c.name, "phone": c.phone}
            for c in session.execute(
                select(Customer)
                .where(Customer.phone.is_not(None), Customer.name.is_not(None))
                .order_by(Customer.id)
            ).scalars()
        ]
    async with _desk(_services(db, clock)) as client:
        status, body = await _json(client, "GET", "/simulator/customers")
    assert status == 200
    assert expected
    assert body["customers"] == expected[:20]


async def test_messages_are_polled_after_an_id(db: Database, clock: FixedClock) -> None:
    first = _text(db, clock, PHONE, "hi")
    second = _text(db, clock, PHONE, "Hello! How can I help?", "out")
    third = _text(db, clock, PHONE, "<script>alert(1)</script>")
    _text(db, clock, "+12065550199", "someone else")
    async with _desk(_services(db, clock)) as client:
        _, everything = await _json(client, "GET", f"/simulator/messages?phone={PHONE}&after=0")
        _, later = await _json(
            client, "GET", "/simulator/messages", params={"phone": PHONE, "after": str(first)}
        )
        _, none = await _json(client, "GET", f"/simulator/messages?phone={PHONE}&after={third}")
    assert [m["id"] for m in everything["messages"]] == [first, second, third]
    assert [(m["direction"], m["body"]) for m in later["messages"]] == [
        ("out", "Hello! How can I help?"),
        ("in", "<script>alert(1)</script>"),
    ]
    assert everything["messages"][0]["author"] == "customer"
    assert none == {"messages": []}


@pytest.mark.parametrize("query", ["phone=banana", "phone=", "", f"phone={PHONE}&after=x"], ids=str)
async def test_a_bad_phone_or_after_is_a_bad_request(
    db: Database, clock: FixedClock, query: str
) -> None:
    async with _desk(_services(db, clock)) as client:
        status, body = await _json(client, "GET", f"/simulator/messages?{query}")
    assert status == 400
    assert "error" in body


# --- sending through the real webhook ---


async def test_a_sent_text_goes_through_the_signed_webhook_and_is_answered(
    db: Database, clock: FixedClock
) -> None:
    async with _rasa(_services(db, clock)) as (rasa_url, channel):
        services = _services(db, clock, rasa_url=rasa_url)
        async with _desk(services) as client:
            status, body = await _json(
                client, "POST", "/simulator/send", json={"phone": "(206) 555-0101", "text": "hi!"}
            )
            assert (status, body["sent"]) == (200, True)
            await channel.idle()
            _, thread = await _json(client, "GET", f"/simulator/messages?phone={PHONE}")
    with db.read() as session:
        inbound = session.execute(select(Message).where(Message.direction == "in")).scalar_one()
    assert (inbound.body, inbound.external_id, inbound.status) == ("hi!", body["sid"], "handled")
    assert [(m["direction"], m["body"]) for m in thread["messages"]] == [
        ("in", "hi!"),
        ("out", "reply to: hi!"),
    ]


async def test_a_reply_arrives_as_delivered_through_the_desks_dispatcher(
    db: Database, clock: FixedClock
) -> None:
    async with _rasa(_services(db, clock)) as (rasa_url, channel):
        services = _services(db, clock, rasa_url=rasa_url)
        async with _desk(services, dispatch=True) as client:
            await _json(client, "POST", "/simulator/send", json={"phone": PHONE, "text": "hello"})
            await channel.idle()
            deadline = time.monotonic() + 10
            while True:
                _, thread = await _json(client, "GET", f"/simulator/messages?phone={PHONE}")
                if thread["messages"][-1]["status"] == "delivered":
                    break
                assert time.monotonic() < deadline, thread
                await asyncio.sleep(0.05)
    assert [(m["author"], m["body"]) for m in thread["messages"]] == [
        ("customer", "hello"),
        ("assistant", "reply to: hello"),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        {"phone": "banana", "text": "hi"},
        {"phone": PHONE, "text": "   "},
        {"phone": PHONE},
        {"phone": PHONE, "text": "x" * 1601},
        ["not", "an", "object"],
    ],
    ids=["bad-phone", "blank", "no-text", "too-long", "not-an-object"],
)
async def test_a_bad_send_is_a_bad_request(db: Database, clock: FixedClock, payload: Any) -> None:
    async with _desk(_services(db, clock)) as client:
        status, body = await _json(client, "POST", "/simulator/send", json=payload)
    assert status == 400
    assert "error" in body


async def test_an_unreachable_assistant_is_a_502(db: Database, clock: FixedClock) -> None:
    services = _services(db, clock, rasa_url="http://127.0.0.1:9")
    async with _desk(services) as client:
        status, body = await _json(
            client, "POST", "/simulator/send", json={"phone": PHONE, "text": "hi"}
        )
    assert status == 502
    assert "not reachable" in body["error"]


async def test_a_refused_webhook_is_a_502(db: Database, clock: FixedClock) -> None:
    async with _rasa(_services(db, clock, twilio_auth_token="another" * 4)) as (rasa_url, _):
        services = _services(db, clock, rasa_url=rasa_url)
        async with _desk(services) as client:
            status, body = await _json(
                client, "POST", "/simulator/send", json={"phone": PHONE, "text": "hi"}
            )
    assert status == 502
    assert "403" in body["error"]
    with db.read() as session:
        assert session.execute(select(Message)).first() is None


# --- only without Twilio ---


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/simulator"),
        ("GET", "/simulator/customers"),
        ("GET", f"/simulator/messages?phone={PHONE}"),
        ("POST", "/simulator/send"),
    ],
)
async def test_the_simulator_is_absent_when_twilio_is_configured(
    db: Database, clock: FixedClock, method: str, path: str
) -> None:
    services = _services(
        db,
        clock,
        twilio_account_sid="AC" + "1" * 32,
        twilio_from_number="+12065550100",
        desk_api_token="desk-token",
    )
    async with _desk(services) as client:
        async with client.request(method, path, json={}) as answer:
            assert answer.status == 401  # with Twilio on, it is not public, and
        headers = {"Authorization": "Bearer desk-token"}
        async with client.request(method, path, json={}, headers=headers) as answer:
            assert answer.status == 404  # not there at all
