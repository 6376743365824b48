"""The whole stack against Twilio (a fake Twilio API on loopback): a text in, an answer out.

The same `python -m bot run` as `make run`, with TWILIO_* pointing at the fake: the inbound
webhook is signed as Twilio signs it, and the answer leaves through Twilio's REST API.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.twilio import FakeTwilio, inbound_sms, signed_form_post
from tests.test_stack import free_port, get

ROOT = Path(__file__).parents[1]
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "stack-test-auth-token"
STORE_NUMBER = "+15005550006"
AVA = "+12065550101"
CHLOE = "+12125550103"
SHOPIFY_SECRET = "stack-test-shopify-secret"


@asynccontextmanager
async def running_stack(tmp_path: Path, fake: FakeTwilio, **extra: str) -> AsyncIterator[dict]:
    """`python -m bot run` with Twilio pointing at `fake`; `extra` adds environment variables."""
    ports = {"RASA_PORT": free_port(), "ACTION_PORT": free_port(), "DESK_PORT": free_port()}
    ours = ("PIGEON_", "DATABASE_", "RASA_", "TWILIO_", "PUBLIC_URL", "SMTP_", "EMAIL_", "CHAT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env.update({k: str(v) for k, v in ports.items()})
    env.update(
        PIGEON_DATA_DIR=str(tmp_path),
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER=STORE_NUMBER,
        TWILIO_API_URL=fake.url,
        TWILIO_MPS="20",
        SHOPIFY_WEBHOOK_SECRET=SHOPIFY_SECRET,
        QUIET_HOURS="off",  # the test runs at any hour; tests/bot/notify cover the window
        **extra,
    )
    log = (tmp_path / "stack.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield {
            "fake": fake,
            "ports": ports,
            "process": process,
            "log": tmp_path / "stack.log",
            "env": env,
        }
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


@pytest.fixture
async def twilio_stack(tmp_path: Path) -> AsyncIterator[dict]:
    async with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake, running_stack(tmp_path, fake) as stack:
        yield stack


async def _healthy(stack: dict, timeout: float = 300) -> None:
    ports = stack["ports"]
    urls = [
        f"http://127.0.0.1:{ports['RASA_PORT']}/",
        f"http://127.0.0.1:{ports['ACTION_PORT']}/health",
        f"http://127.0.0.1:{ports['DESK_PORT']}/healthz",
    ]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and stack["process"].poll() is None:
        codes = await asyncio.gather(*(asyncio.to_thread(get, url) for url in urls))
        if all(code == 200 for code in codes):
            return
        await asyncio.sleep(2)
    pytest.fail("stack not healthy:\n" + stack["log"].read_text()[-3000:])


async def _texts_to(fake: FakeTwilio, number: str, count: int, timeout: float = 90) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = [m for m in fake.messages if m.to == number]
        if len(sent) >= count:
            return sent
        await asyncio.sleep(0.5)
    pytest.fail(f"expected {count} text(s) to {number}, Twilio got {fake.messages}")


@pytest.mark.slow
async def test_a_text_to_the_twilio_webhook_is_answered_through_twilios_api(
    twilio_stack: dict,
) -> None:
    await _healthy(twilio_stack)
    fake: FakeTwilio = twilio_stack["fake"]
    webhook = f"http://127.0.0.1:{twilio_stack['ports']['RASA_PORT']}/webhooks/sms/webhook"
    form = inbound_sms(ACCOUNT_SID, AVA, STORE_NUMBER, "wheres my order")

    answer = await signed_form_post(webhook, form, AUTH_TOKEN)
    assert answer.status == 200
    assert "<Response/>" in answer.text

    (reply,) = await _texts_to(fake, AVA, 1)
    assert "#1001" in reply.body
    assert reply.from_ == STORE_NUMBER

    # Twilio retries the same MessageSid: acknowledged, not answered again.
    assert (await signed_form_post(webhook, form, AUTH_TOKEN)).status == 200
    # A forged signature is refused.
    forged = inbound_sms(ACCOUNT_SID, AVA, STORE_NUMBER, "hello")
    assert (await signed_form_post(webhook, forged, "not-the-token")).status == 403

    # STOP: one confirmation from Pigeon, then silence even when the customer writes again.
    stop = inbound_sms(ACCOUNT_SID, AVA, STORE_NUMBER, "STOP")
    assert (await signed_form_post(webhook, stop, AUTH_TOKEN)).status == 200
    confirmation = (await _texts_to(fake, AVA, 2))[1]
    assert "unsubscribed" in confirmation.body.lower()
    later = inbound_sms(ACCOUNT_SID, AVA, STORE_NUMBER, "where is my order")
    assert (await signed_form_post(webhook, later, AUTH_TOKEN)).status == 200
    await asyncio.sleep(5)
    assert len([m for m in fake.messages if m.to == AVA]) == 2


def _simulate(stack: dict, order: str, status: str) -> str:
    """`python -m bot simulate-shipment`, as a store owner demoing Pigeon runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "simulate-shipment", order, status],
        cwd=ROOT,
        env=stack["env"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.slow
async def test_a_signed_shopify_webhook_becomes_one_text_the_customer_can_reply_to(
    twilio_stack: dict,
) -> None:
    await _healthy(twilio_stack)
    fake: FakeTwilio = twilio_stack["fake"]
    webhook = f"http://127.0.0.1:{twilio_stack['ports']['RASA_PORT']}/webhooks/sms/webhook"

    # Ava consented at checkout: the desk gets Shopify's signed webhook, the assistant texts.
    assert "desk answered 200" in _simulate(twilio_stack, "1001", "out_for_delivery")
    (alert,) = await _texts_to(fake, AVA, 1)
    assert alert.body.startswith("Pigeon Supply Co.: your order #1001 is out for delivery")
    assert alert.body.endswith("Reply STOP to opt out.")
    assert alert.from_ == STORE_NUMBER

    # The same news again (Shopify retries, other topics): no second text.
    _simulate(twilio_stack, "1001", "out_for_delivery")

    # Her reply is about the order the alert named, without being asked which.
    question = inbound_sms(ACCOUNT_SID, AVA, STORE_NUMBER, "ok when will it get here?")
    assert (await signed_form_post(webhook, question, AUTH_TOKEN)).status == 200
    _, answer = await _texts_to(fake, AVA, 2)
    assert answer.body.startswith("Order #1001 is out for delivery with UPS today.")

    # Chloe never consented: her order ships without a text, until she accepts the offer.
    _simulate(twilio_stack, "1003", "in_transit")
    status = inbound_sms(ACCOUNT_SID, CHLOE, STORE_NUMBER, "where is my order")
    assert (await signed_form_post(webhook, status, AUTH_TOKEN)).status == 200
    reply, offer = await _texts_to(fake, CHLOE, 2)
    assert "#1003" in reply.body
    assert offer.body.startswith("Want shipping updates for order #1003 by text? Reply YES.")
    yes = inbound_sms(ACCOUNT_SID, CHLOE, STORE_NUMBER, "YES")
    assert (await signed_form_post(webhook, yes, AUTH_TOKEN)).status == 200
    confirmed = (await _texts_to(fake, CHLOE, 3))[2]
    assert "subscribed" in confirmed.body.lower()
    _simulate(twilio_stack, "1003", "out_for_delivery")
    chloe_alert = (await _texts_to(fake, CHLOE, 4))[3]
    assert "#1003 is out for delivery" in chloe_alert.body

    await asyncio.sleep(3)
    assert len([m for m in fake.messages if m.to == AVA]) == 2
    assert len([m for m in fake.messages if m.to == CHLOE]) == 4


async def _desk_api(stack: dict, method: str, path: str, body: dict | None = None) -> dict:
    """The desk's JSON API with the install's DESK_API_TOKEN (generated into the data dir)."""
    secrets = json.loads((Path(stack["env"]["PIGEON_DATA_DIR"]) / "secrets.json").read_text())
    url = f"http://127.0.0.1:{stack['ports']['DESK_PORT']}{path}"
    headers = {"Authorization": f"Bearer {secrets['DESK_API_TOKEN']}"}
    async with (
        aiohttp.ClientSession() as client,
        client.request(method, url, json=body, headers=headers) as answer,
    ):
        assert answer.status in (200, 201), await answer.text()
        return await answer.json()


async def _thread_has(stack: dict, conversation: int, text: str, timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = (await _desk_api(stack, "GET", f"/api/conversations/{conversation}/messages"))[
            "messages"
        ]
        if any(m["body"] == text for m in messages):
            return messages
        await asyncio.sleep(0.5)
    pytest.fail(f"{text!r} never reached conversation {conversation}: {messages}")


@pytest.mark.slow
async def test_a_customer_who_asks_for_a_person_gets_an_agent_then_the_assistant_again(
    twilio_stack: dict,
) -> None:
    await _healthy(twilio_stack)
    fake: FakeTwilio = twilio_stack["fake"]
    webhook = f"http://127.0.0.1:{twilio_stack['ports']['RASA_PORT']}/webhooks/sms/webhook"

    async def text(body: str) -> None:
        form = inbound_sms(ACCOUNT_SID, AVA, STORE_NUMBER, body)
        assert (await signed_form_post(webhook, form, AUTH_TOKEN)).status == 200

    # She asks for a person: told when to expect one, and the thread waits in the inbox.
    await text("I want to talk to a person")
    (told,) = await _texts_to(fake, AVA, 1)
    assert "A person will answer you here (Mon-Fri 9am-6pm ET)" in told.body
    pending = await _desk_api(twilio_stack, "GET", "/api/conversations?status=pending")
    (thread,) = [c for c in pending["conversations"] if c["customer"]["phone"] == AVA]
    assert thread["handoff_reason"] == "customer asked for a person"

    # The assistant is paused: her next text is stored and shown, and nobody answers it yet.
    await text("hello? is anyone there")
    await _thread_has(twilio_stack, thread["id"], "hello? is anyone there")
    await asyncio.sleep(5)
    assert len([m for m in fake.messages if m.to == AVA]) == 1

    # An agent answers from the inbox: the reply leaves by SMS.
    agent_says = "Hi Ava, this is Sam from the store. Your package left our warehouse today."
    path = f"/api/conversations/{thread['id']}"
    await _desk_api(twilio_stack, "POST", f"{path}/reply", {"text": agent_says})
    _, reply = await _texts_to(fake, AVA, 2)
    assert reply.body == agent_says
    messages = await _thread_has(twilio_stack, thread["id"], agent_says)
    assert [m["author"] for m in messages] == ["customer", "assistant", "customer", "agent"]

    # Resolved: the assistant answers her again.
    resolved = await _desk_api(twilio_stack, "POST", f"{path}/resolve")
    assert resolved["conversation"]["status"] == "resolved"
    await text("where is my order")
    answer = (await _texts_to(fake, AVA, 3))[2]
    assert "#1001" in answer.body
