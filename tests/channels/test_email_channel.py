"""The email channel over real HTTP and real SMTP: Inbound Parse in, one threaded email out.

The channel's blueprint is mounted on a Sanic app as Rasa mounts it (/webhooks/email),
served on loopback, and posted to as SendGrid posts (multipart/form-data). The assistant
is a recording coroutine that answers through the channel's output channel; the reply
is sent by the desk's EmailSender to an SMTP server (aiosmtpd) on loopback.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.config import Settings
from bot.email.form import read_form
from bot.email.inbound import accept_email
from bot.email.parse import parse
from bot.email.sender import EmailSender
from bot.email.smtp import SmtpTransport
from bot.oms.demo import DemoStore
from bot.services import Services
from bot.store import Database
from bot.store.models import EmailOutboxItem, Message
from channels.email import EmailInput
from tests.fakes.sendgrid import InboundEmailForm
from tests.fakes.smtp import FakeSmtp
from tests.http import serving

SECRET = "s3cret-" + "x" * 30
PREFIX = "/webhooks/email"


class Assistant:
    """Stands in for Rasa's on_new_message: records each turn and answers through the channel."""

    def __init__(
        self,
        *,
        replies: Callable[[str], list[str]] | None = None,
        fail: bool = False,
        gate: threading.Event | None = None,
        delays: dict[str, float] | None = None,
    ) -> None:
        self.replies = replies or (lambda text: [f"reply to: {text}"])
        self.fail = fail
        self.gate = gate  # when given, every turn waits until the test opens it
        self.delays = delays or {}
        self.turns: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.turns.append(message)
        while self.gate is not None and not self.gate.is_set():
            await asyncio.sleep(0.005)
        await asyncio.sleep(self.delays.get(message.text, 0.0))
        if self.fail:
            raise RuntimeError("the model fell over")
        for text in self.replies(message.text):
            await message.output_channel.send_text_message(message.sender_id, text)

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.turns]


@dataclass(frozen=True)
class Reply:
    status: int
    text: str
    headers: dict[str, str]


def _services(db: Database, clock: FixedClock, **settings: Any) -> Services:
    settings.setdefault("email_inbound_secret", SECRET)
    settings.setdefault("store_name", "Pigeon Supply Co.")
    settings.setdefault("support_email", "support@pigeon.example")
    return Services(Settings(**settings), db, DemoStore(db, clock), clock)


@asynccontextmanager
async def _served(
    services: Services, assistant: Assistant, **kw: Any
) -> AsyncIterator[tuple[str, EmailInput]]:
    """The base URL of a served EmailInput, and the channel (to wait until it is idle)."""
    channel = EmailInput(services, **kw)
    app = Sanic(f"email_{uuid.uuid4().hex}")
    app.blueprint(channel.blueprint(assistant), url_prefix=PREFIX)
    async with serving(app) as base:
        yield base + PREFIX, channel
        await channel.idle()


async def _post(
    url: str,
    form: InboundEmailForm | None = None,
    *,
    body: bytes | None = None,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    if form is not None:
        content_type, body = form.encode()
    sent = {"Content-Type": content_type or "", **(headers or {})}
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as client,
        client.post(url, data=body, headers=sent) as answer,
    ):
        return Reply(answer.status, await answer.text(), dict(answer.headers))


def _basic(password: str, user: str = "sendgrid") -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _inbound(db: Database) -> list[Message]:
    with db.read() as session:
        query = select(Message).where(Message.direction == "in").order_by(Message.id)
        return list(session.execute(query).scalars())


def _outbox(db: Database) -> list[EmailOutboxItem]:
    with db.read() as session:
        return list(session.execute(select(EmailOutboxItem).order_by(EmailOutboxItem.id)).scalars())


def _count(db: Database, model: Any) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


async def _send_all(services: Services, smtp: FakeSmtp) -> list[EmailMessage]:
    transport = SmtpTransport(f"smtp://127.0.0.1:{smtp.port}", timeout=5.0)
    sender = EmailSender(
        services.db, transport, services.clock, sender=services.settings.email_sender
    )
    while await sender.run_once():
        pass
    return smtp.messages


async def _eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


# --- the happy path, end to end ---


async def test_health_answers_ok(db: Database, clock: FixedClock) -> None:
    async with (
        _served(_services(db, clock), Assistant()) as (url, _),
        aiohttp.ClientSession() as client,
        client.get(url + "/") as answer,
    ):
        assert answer.status == 200
        assert await answer.json() == {"status": "ok"}


async def test_an_email_is_stored_before_the_200_and_answered_once_by_smtp(
    db: Database, clock: FixedClock
) -> None:
    services = _services(db, clock)
    gate = threading.Event()  # the assistant may not run before the test has looked
    assistant = Assistant(gate=gate)
    form = InboundEmailForm(
        subject="Re: Your order #1001",
        message_id="<CAKx-ava2@mail.gmail.com>",
        in_reply_to="<ours1@pigeon.example>",
        references=["<ava1@mail.gmail.com>", "<ours1@pigeon.example>"],
        text=(
            "Hi, it still hasn't arrived.\n\nAva\n\n"
            "On Mon, Jun 15, 2026 at 10:00 AM Pigeon Supply Co. <support@pigeon.example> wrote:\n"
            "> Your order #1001 shipped.\n"
        ),
        html="<p>Hi, it still hasn't arrived.</p>",
    )
    async with _served(services, assistant) as (url, channel):
        reply = await _post(f"{url}/inbound/{SECRET}", form)
        assert reply.status == 200
        [stored] = _inbound(db)  # on disk by the time SendGrid heard back
        assert (stored.status, stored.body) == ("received", "Hi, it still hasn't arrived.\n\nAva")
        gate.set()
        await channel.idle()
    [turn] = assistant.turns
    assert turn.text == "Hi, it still hasn't arrived.\n\nAva"  # no quoted history
    assert (turn.sender_id, turn.input_channel) == ("ava@example.com", "email")
    assert turn.message_id == "<CAKx-ava2@mail.gmail.com>"
    assert turn.metadata == {"message_id": stored.id}
    assert _inbound(db)[0].status == "handled"
    with FakeSmtp() as smtp:
        [mail] = await _send_all(services, smtp)
    assert smtp.recorder.recipients == [["ava@example.com"]]
    assert mail["Subject"] == "Re: Your order #1001"
    assert mail["In-Reply-To"] == "<CAKx-ava2@mail.gmail.com>"
    assert mail["References"].split() == [
        "<ava1@mail.gmail.com>",
        "<ours1@pigeon.example>",
        "<CAKx-ava2@mail.gmail.com>",
    ]
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["Message-ID"].endswith("@pigeon.example>")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("reply to: Hi, it still hasn't arrived.")
    assert "\n-- \nPigeon Supply Co. customer support\n" in text
    assert "<p>reply to: Hi, it still hasn&#x27;t arrived.</p>" in html
    assert "Pigeon Supply Co. customer support" in html
    [out] = _outbox(db)
    assert out.status == "sent"
    with db.read() as session:
        sent = session.get(Message, out.message_id)
        assert (sent.direction, sent.author, sent.channel, sent.status) == (
            "out",
            "assistant",
            "email",
            "sent",
        )
        assert sent.email_meta["message_id"] == mail["Message-ID"]


async def test_basic_auth_with_the_secret_as_password_is_accepted(
    db: Database, clock: FixedClock
) -> None:
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (url, _):
        reply = await _post(f"{url}/inbound", InboundEmailForm(), headers=_basic(SECRET))
    assert reply.status == 200
    assert assistant.texts == ["Hi, where is my order #1001?\n\nThanks,\nAva"]
    assert len(_outbox(db)) == 1


async def test_everything_the_assistant_says_in_a_turn_is_one_email(
    db: Database, clock: FixedClock
) -> None:
    class WithButtons(Assistant):
        async def __call__(self, message: UserMessage) -> None:
            self.turns.append(message)
            out = message.output_channel
            await out.send_text_message(message.sender_id, "Order #1001 shipped with UPS.")
            buttons = [{"title": "Track it", "payload": "/track"}, {"title": "Talk to a person"}]
            await out.send_text_with_buttons(message.sender_id, "Anything else?", buttons)

    async with _served(_services(db, clock), WithButtons()) as (url, _):
        assert (await _post(f"{url}/inbound/{SECRET}", InboundEmailForm())).status == 200
    [item] = _outbox(db)
    assert item.body_text.startswith(
        "Order #1001 shipped with UPS.\n\nAnything else?\n\n"
        "You can reply with one of:\n- Track it\n- Talk to a person\n\n-- \n"
    )


# --- authentication ---


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/inbound/wrong-secret", {}, 403),
        (f"/inbound/{SECRET}x", {}, 403),
        ("/inbound", _basic("wrong"), 403),
        ("/inbound", {"Authorization": "Bearer " + SECRET}, 401),
        ("/inbound", {}, 401),
    ],
    ids=["wrong-url-secret", "longer-secret", "wrong-basic", "not-basic", "no-auth"],
)
async def test_without_the_secret_nothing_is_stored(
    db: Database, clock: FixedClock, path: str, headers: dict[str, str], status: int
) -> None:
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (url, _):
        reply = await _post(url + path, InboundEmailForm(), headers=headers)
    assert reply.status == status
    if status == 401:
        assert reply.headers["WWW-Authenticate"].startswith("Basic")
    assert _count(db, Message) == 0
    assert assistant.turns == []


async def test_an_unset_secret_refuses_everything(db: Database, clock: FixedClock) -> None:
    services = _services(db, clock, email_inbound_secret=None)
    async with _served(services, Assistant()) as (url, _):
        in_url = await _post(url + "/inbound/anything", InboundEmailForm())
        empty = await _post(url + "/inbound", InboundEmailForm(), headers=_basic(""))
    assert (in_url.status, empty.status) == (403, 403)
    assert in_url.text == "inbound email is off: EMAIL_INBOUND_SECRET is not set"
    assert _count(db, Message) == 0


# --- bad input: a clear 4xx, nothing stored ---


async def test_a_body_that_is_not_a_form_is_a_400(db: Database, clock: FixedClock) -> None:
    async with _served(_services(db, clock), Assistant()) as (url, _):
        reply = await _post(
            f"{url}/inbound/{SECRET}", body=b'{"from": "a@b.c"}', content_type="application/json"
        )
        broken = await _post(
            f"{url}/inbound/{SECRET}", body=b"garbage", content_type="multipart/form-data"
        )
    assert (reply.status, broken.status) == (400, 400)
    assert "multipart/form-data" in reply.text
    assert _count(db, Message) == 0


async def test_a_missing_sender_is_a_400(db: Database, clock: FixedClock) -> None:
    async with _served(_services(db, clock), Assistant()) as (url, _):
        reply = await _post(f"{url}/inbound/{SECRET}", InboundEmailForm(sender=""))
    assert reply.status == 400
    assert reply.text == "from is missing"
    assert _count(db, Message) == 0


async def test_a_body_over_the_limit_is_a_413(db: Database, clock: FixedClock) -> None:
    big = InboundEmailForm(attachments=[("big.bin", "application/octet-stream", b"x" * 20_000)])
    content_type, body = big.encode()

    async def streamed() -> AsyncIterator[bytes]:  # chunked: no Content-Length to go by
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    async with _served(_services(db, clock), Assistant(), max_body=10_000) as (url, _):
        declared = await _post(f"{url}/inbound/{SECRET}", big)
        async with (
            aiohttp.ClientSession() as client,
            client.post(
                f"{url}/inbound/{SECRET}", data=streamed(), headers={"Content-Type": content_type}
            ) as answer,
        ):
            chunked = answer.status
        small = await _post(f"{url}/inbound/{SECRET}", InboundEmailForm())
    assert (declared.status, chunked, small.status) == (413, 413, 200)
    assert "10,000 bytes" in declared.text
    assert len(_inbound(db)) == 1  # the small one


# --- what is never answered, or answered once ---


async def test_a_repeated_message_id_is_answered_once(db: Database, clock: FixedClock) -> None:
    assistant = Assistant()
    form = InboundEmailForm(message_id="<once@mail.example.com>")
    async with _served(_services(db, clock), assistant) as (url, channel):
        first = await _post(f"{url}/inbound/{SECRET}", form)
        await channel.idle()
        again = await _post(f"{url}/inbound/{SECRET}", form)
    assert (first.status, again.status) == (200, 200)
    assert len(assistant.turns) == 1
    assert len(_inbound(db)) == 1
    assert len(_outbox(db)) == 1


@pytest.mark.parametrize(
    "form",
    [
        InboundEmailForm(extra_headers={"Auto-Submitted": "auto-replied"}, subject="Out of office"),
        InboundEmailForm(sender="MAILER-DAEMON@mx.example.com", envelope_from=""),
        InboundEmailForm(sender="Pigeon Supply Co. <support@pigeon.example>"),
    ],
    ids=["out-of-office", "bounce", "our-own-address"],
)
async def test_auto_replies_bounces_and_loops_are_stored_but_not_answered(
    db: Database, clock: FixedClock, form: InboundEmailForm
) -> None:
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (url, _):
        assert (await _post(f"{url}/inbound/{SECRET}", form)).status == 200
    [stored] = _inbound(db)
    assert stored.status == "held"
    assert assistant.turns == []
    assert _outbox(db) == []


async def test_a_silent_assistant_sends_nothing(db: Database, clock: FixedClock) -> None:
    assistant = Assistant(replies=lambda text: [])  # paused for an agent: Rasa says nothing
    async with _served(_services(db, clock), assistant) as (url, _):
        assert (await _post(f"{url}/inbound/{SECRET}", InboundEmailForm())).status == 200
    assert len(assistant.turns) == 1
    assert _inbound(db)[0].status == "handled"
    assert _outbox(db) == []


async def test_a_failed_turn_is_recorded_on_the_email(db: Database, clock: FixedClock) -> None:
    async with _served(_services(db, clock), Assistant(fail=True)) as (url, _):
        assert (await _post(f"{url}/inbound/{SECRET}", InboundEmailForm())).status == 200
    [stored] = _inbound(db)
    assert (stored.status, stored.error_message) == ("failed", "assistant failed: RuntimeError")
    assert _outbox(db) == []


async def test_one_senders_emails_are_answered_in_order(db: Database, clock: FixedClock) -> None:
    assistant = Assistant(delays={"first": 0.3})
    async with _served(_services(db, clock), assistant) as (url, channel):
        for text in ("first", "second", "third"):
            form = InboundEmailForm(text=text)
            assert (await _post(f"{url}/inbound/{SECRET}", form)).status == 200
        await channel.idle()
    assert assistant.texts == ["first", "second", "third"]
    assert [i.body_text.split("\n")[0] for i in _outbox(db)] == [
        "reply to: first",
        "reply to: second",
        "reply to: third",
    ]


async def test_emails_left_unanswered_by_a_restart_are_answered_at_start(
    db: Database, clock: FixedClock
) -> None:
    services = _services(db, clock)
    waiting = InboundEmailForm(text="answer me", message_id="<waiting@example.com>")
    email = parse(read_form(*waiting.encode()))
    accepted = accept_email(db, email, services.settings, services.oms, clock)
    assert accepted.turn is not None  # stored, then the server stopped before the turn
    assistant = Assistant()
    async with _served(services, assistant) as (_, channel):
        await _eventually(lambda: len(assistant.turns) == 1)
        await channel.idle()
    assert assistant.texts == ["answer me"]
    assert _inbound(db)[0].status == "handled"
    assert len(_outbox(db)) == 1
    async with _served(services, Assistant()) as (_, channel):  # a second start: nothing left
        await channel.idle()
    assert len(_outbox(db)) == 1


async def test_a_database_that_is_down_is_a_503_so_sendgrid_retries(clock: FixedClock) -> None:
    gone = Database("postgresql://nobody@127.0.0.1:9/none")
    services = Services(Settings(email_inbound_secret=SECRET), gone, DemoStore(gone, clock), clock)
    try:
        async with _served(services, Assistant()) as (url, _):
            reply = await _post(f"{url}/inbound/{SECRET}", InboundEmailForm())
    finally:
        gone.dispose()
    assert reply.status == 503
    assert reply.text == "could not store the email; try again later"
