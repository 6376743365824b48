"""One customer on three channels, end to end on the whole stack (`python -m bot run`).

Ava texts (Twilio, faked on loopback), emails (an Inbound Parse request, answered through a
real SMTP server on loopback) and chats (the widget's HTTP API); the assistant answers each
on its own channel, and the inbox shows all three threads as one customer's history.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.sendgrid import InboundEmailForm
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio import FakeTwilio, inbound_sms, signed_form_post
from tests.test_stack_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    AVA,
    STORE_NUMBER,
    _desk_api,
    _healthy,
    _texts_to,
    running_stack,
)

EMAIL_SECRET = "stack-test-email-secret"
AVA_EMAIL = "ava@example.com"
AVA_ZIP = "98101"  # data/demo/customers.yml


@pytest.fixture
async def channel_stack(tmp_path: Path) -> AsyncIterator[dict]:
    async with (
        FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake,
        FakeSmtp() as smtp,
        running_stack(
            tmp_path,
            fake,
            SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
            EMAIL_FROM="Pigeon Supply Co. <support@pigeon.example>",
            EMAIL_INBOUND_SECRET=EMAIL_SECRET,
        ) as stack,
    ):
        yield {**stack, "smtp": smtp}


async def _emails_to(smtp: FakeSmtp, address: str, count: int, timeout: float = 90) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = [m for m in smtp.messages if address in str(m["To"])]
        if len(sent) >= count:
            return sent
        await asyncio.sleep(0.5)
    pytest.fail(f"expected {count} email(s) to {address}, SMTP got {len(smtp.messages)}")


class Visitor:
    """A browser's chat widget: a token, then messages and polling, over real HTTP."""

    def __init__(self, client: aiohttp.ClientSession, base: str) -> None:
        self.client, self.base, self.token = client, base, ""

    async def start(self) -> None:
        async with self.client.post(f"{self.base}/session") as answer:
            assert answer.status == 200
            self.token = (await answer.json())["token"]

    async def say(self, text: str) -> None:
        body = {"text": text, "id": str(uuid.uuid4())}
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.client.post(f"{self.base}/webhook", json=body, headers=headers) as answer:
            assert answer.status == 200, await answer.text()

    async def replies(self, count: int, timeout: float = 90) -> list[str]:
        headers = {"Authorization": f"Bearer {self.token}"}
        deadline = time.monotonic() + timeout
        said: list[str] = []
        while time.monotonic() < deadline:
            async with self.client.get(f"{self.base}/messages", headers=headers) as answer:
                messages = (await answer.json())["messages"]
            said = [m["text"] for m in messages if m["author"] != "customer"]
            if len(said) >= count:
                return said
            await asyncio.sleep(0.5)
        pytest.fail(f"expected {count} chat replies, got {said}")


def _text_of(email: EmailMessage) -> str:
    return email.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.slow
async def test_one_customer_texts_emails_and_chats_and_the_inbox_shows_one_history(
    channel_stack: dict,
) -> None:
    await _healthy(channel_stack)
    rasa = f"http://127.0.0.1:{channel_stack['ports']['RASA_PORT']}"

    # A text: answered through Twilio's API.
    form = inbound_sms(ACCOUNT_SID, AVA, STORE_NUMBER, "wheres my order")
    assert (await signed_form_post(f"{rasa}/webhooks/sms/webhook", form, AUTH_TOKEN)).status == 200
    (text_reply,) = await _texts_to(channel_stack["fake"], AVA, 1)
    assert "#1001" in text_reply.body

    # An email, as SendGrid posts it: answered by SMTP, threaded on hers.
    email = InboundEmailForm(
        sender=f"Ava Chen <{AVA_EMAIL}>",
        text="Where is my order 1001?\n\nOn Mon, Jun 1, 2026 Pigeon wrote:\n> old news\n",
        message_id="<ava-1@mail.example.com>",
    )
    kind, body = email.encode()
    async with (
        aiohttp.ClientSession() as client,
        client.post(
            f"{rasa}/webhooks/email/inbound/{EMAIL_SECRET}",
            data=body,
            headers={"Content-Type": kind},
        ) as answer,
    ):
        assert answer.status == 200, await answer.text()
    (mail,) = await _emails_to(channel_stack["smtp"], AVA_EMAIL, 1)
    assert mail["In-Reply-To"] == "<ava-1@mail.example.com>"
    assert mail["Subject"] == "Re: Where is my order?"
    assert "#1001" in _text_of(mail)
    assert mail.get_body(preferencelist=("html",)) is not None

    # A chat: anonymous until she proves #1001 with its ZIP, then answered about it.
    async with aiohttp.ClientSession() as client:
        visitor = Visitor(client, f"{rasa}/webhooks/chat")
        await visitor.start()
        await visitor.say("where is my order #1001")
        asked = await visitor.replies(1)
        assert "ZIP" in asked[0] or "email" in asked[0]
        await visitor.say(f"my zip is {AVA_ZIP}")
        answered = await visitor.replies(2)
        assert "#1001" in answered[-1]

    # The inbox: one customer with three threads, and one history across them.
    listed = await _desk_api(channel_stack, "GET", "/api/conversations")
    avas = [c for c in listed["conversations"] if c["customer"]["phone"] == AVA]
    assert sorted(c["channel"] for c in avas) == ["chat", "email", "sms"]
    assert {c["customer"]["email"] for c in avas} == {AVA_EMAIL}
    sms_thread = next(c for c in avas if c["channel"] == "sms")
    history = await _desk_api(
        channel_stack, "GET", f"/api/conversations/{sms_thread['id']}/messages"
    )
    channels = [m["channel"] for m in history["messages"]]
    assert set(channels) == {"sms", "email", "chat"}
    stored_email = next(m for m in history["messages"] if m["channel"] == "email")
    assert stored_email["subject"] == "Where is my order?"
    assert "old news" not in stored_email["body"]  # quoted history is not what she said
    log = channel_stack["log"].read_text()
    assert AVA_EMAIL not in log  # addresses are masked in logs
