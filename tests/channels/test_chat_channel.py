"""The web chat channel over real HTTP, as the widget calls it: tokens, storing, turns, history.

The channel's blueprint is mounted on a Sanic app as Rasa mounts it and served on loopback;
the assistant is a recording coroutine that answers through the channel's output channel.
One test mounts it on Rasa's own app (`rasa run` without --cors) for the CORS preflight.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from sqlalchemy import func, select

from bot.agents import create_agent
from bot.chat import limits, tokens
from bot.chat.inbound import ChatText, store
from bot.clock import FixedClock
from bot.config import Settings
from bot.desk_inbox import note
from bot.inbox import record_outbound
from bot.oms.demo import DemoStore
from bot.services import Services
from bot.store import Database
from bot.store.models import Agent, Conversation, Message
from channels.chat import ChatInput, ChatOutput
from tests.http import serving

RASA_TOKEN = "rasa-token-for-tests"
SHOP = "https://shop.example.com"


class Assistant:
    """Stands in for Rasa's on_new_message: records each turn and replies through the channel."""

    def __init__(self, *, gate: threading.Event | None = None, fail_on: str | None = None) -> None:
        self.gate, self.fail_on = gate, fail_on
        # Turns run on the channel's assistant thread, so the gate is a thread-safe one.
        self.turns: list[UserMessage] = []
        self.loops: set[asyncio.AbstractEventLoop] = set()

    async def __call__(self, message: UserMessage) -> None:
        self.turns.append(message)
        self.loops.add(asyncio.get_running_loop())
        while self.gate is not None and not self.gate.is_set():
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.001 * (len(self.turns) % 3))  # turns that take varying time
        if self.fail_on is not None and self.fail_on in message.text:
            raise RuntimeError("the model fell over")
        await message.output_channel.send_text_message(
            message.sender_id, "reply to: " + message.text
        )

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.turns]


class Widget:
    """Calls the channel as the widget does: a token, then messages with their own ids."""

    def __init__(self, client: aiohttp.ClientSession, base: str, origin: str | None = None) -> None:
        self.client, self.base, self.token = client, base, ""
        self.headers = {"Origin": origin} if origin else {}

    async def start(self) -> Widget:
        status, body, _ = await self.call("POST", "session")
        assert status == 200
        self.token = body["token"]
        return self

    @property
    def sender(self) -> str:
        return tokens.sender_for(self.token)

    async def call(
        self, method: str, path: str, token: str | None = None, **kw: Any
    ) -> tuple[int, Any, Any]:
        headers = {**self.headers, **kw.pop("headers", {})}
        token = self.token if token is None else token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with self.client.request(
            method, f"{self.base}/{path}", headers=headers, **kw
        ) as answer:
            raw = await answer.read()
            body = json.loads(raw) if answer.content_type == "application/json" else raw
            return answer.status, body, answer.headers

    async def send(self, text: str, client_id: str | None = None, **kw: Any) -> tuple[int, Any]:
        payload = {"text": text, "id": client_id or uuid.uuid4().hex}
        status, body, _ = await self.call("POST", "webhook", json=payload, **kw)
        return status, body

    async def history(self, after: int = 0) -> list[dict]:
        status, body, _ = await self.call("GET", f"messages?after={after}")
        assert status == 200, body
        return body["messages"]


def _services(db: Database, clock: FixedClock, **settings: Any) -> Services:
    settings.setdefault("rasa_token", RASA_TOKEN)
    return Services(Settings(**settings), db, DemoStore(db, clock), clock)


@asynccontextmanager
async def _served(
    services: Services, assistant: Assistant
) -> AsyncIterator[tuple[str, ChatInput, aiohttp.ClientSession]]:
    channel = ChatInput(services)
    app = Sanic(f"chat_{uuid.uuid4().hex}")
    app.blueprint(channel.blueprint(assistant), url_prefix="/webhooks/chat")
    async with serving(app) as base, aiohttp.ClientSession() as client:
        yield base + "/webhooks/chat", channel, client
        await channel.idle()


def _inbound(db: Database) -> list[Message]:
    with db.read() as session:
        query = select(Message).where(Message.direction == "in").order_by(Message.id)
        return list(session.scalars(query))


def _said(history: list[dict]) -> list[tuple[str, str]]:
    return [(m["author"], m["text"]) for m in history]


# --- tokens ---


async def test_health_answers_ok(db: Database, clock: FixedClock) -> None:
    async with _served(_services(db, clock), Assistant()) as (base, _, client):
        status, body, _ = await Widget(client, base).call("GET", "", token="")
    assert (status, body) == (200, {"status": "ok"})


async def test_a_session_issues_a_new_signed_token_and_stores_nothing(
    db: Database, clock: FixedClock
) -> None:
    async with _served(_services(db, clock), Assistant()) as (base, _, client):
        first, second = await Widget(client, base).start(), await Widget(client, base).start()
    key = tokens.signing_key(RASA_TOKEN)
    assert tokens.is_valid(key, first.token)
    assert first.token != second.token
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 0


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        "a" * 64,
        tokens.issue(tokens.signing_key("another rasa token")),
    ],
    ids=["none", "malformed", "unsigned", "other-key"],
)
async def test_without_a_token_the_channel_issued_nothing_is_stored_or_read(
    db: Database, clock: FixedClock, token: str
) -> None:
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (base, _, client):
        widget = Widget(client, base)
        sent = await widget.call(
            "POST", "webhook", token=token, json={"text": "hi", "id": "m-1234567"}
        )
        read = await widget.call("GET", "messages?after=0", token=token)
    assert (sent[0], read[0]) == (401, 401)
    assert "Bearer" in sent[1]["error"]
    assert _inbound(db) == []
    assert assistant.turns == []


async def test_a_token_in_the_query_string_is_not_accepted(db: Database, clock: FixedClock) -> None:
    async with _served(_services(db, clock), Assistant()) as (base, _, client):
        widget = await Widget(client, base).start()
        status, _, _ = await widget.call("GET", f"messages?after=0&token={widget.token}", token="")
    assert status == 401


# --- storing and answering ---


async def test_a_message_is_stored_before_the_200_and_answered_once(
    db: Database, clock: FixedClock
) -> None:
    gate = threading.Event()  # the assistant may not answer until the test has looked
    assistant = Assistant(gate=gate)
    async with _served(_services(db, clock), assistant) as (base, channel, client):
        widget = await Widget(client, base).start()
        status, body = await widget.send("where is my order?", "m-0001-abcd")
        assert status == 200
        [message] = _inbound(db)
        assert body == {"id": message.id}
        assert (message.body, message.status, message.channel) == (
            "where is my order?",
            "received",
            "chat",
        )
        gate.set()
        await channel.idle()
        history = await widget.history()
    [turn] = assistant.turns
    [loop] = assistant.loops
    assert loop is not asyncio.get_running_loop()  # the turn ran on the assistant's thread
    assert (turn.text, turn.sender_id, turn.input_channel) == (
        "where is my order?",
        widget.sender,
        "chat",
    )
    assert turn.metadata == {"message_id": message.id}
    assert _inbound(db)[0].status == "handled"
    assert _said(history) == [
        ("customer", "where is my order?"),
        ("assistant", "reply to: where is my order?"),
    ]
    with db.read() as session:
        conversation = session.get(Conversation, message.conversation_id)
        assert (conversation.channel, conversation.sender_id) == ("chat", widget.sender)
        assert widget.token not in conversation.sender_id


async def test_a_retried_message_is_stored_once_and_answered_once(
    db: Database, clock: FixedClock
) -> None:
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (base, channel, client):
        widget = await Widget(client, base).start()
        answers = await asyncio.gather(*(widget.send("hi", "m-0001-abcd") for _ in range(3)))
        await channel.idle()
        late = await widget.send("hi", "m-0001-abcd")  # a retry after the answer
        await channel.idle()
        history = await widget.history()
    [message] = _inbound(db)
    assert answers == [(200, {"id": message.id})] * 3
    assert late == (200, {"id": message.id})
    assert assistant.texts == ["hi"]
    assert _said(history) == [("customer", "hi"), ("assistant", "reply to: hi")]


async def test_a_visitors_messages_are_answered_in_the_order_stored(
    db: Database, clock: FixedClock
) -> None:
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (base, channel, client):
        widget = await Widget(client, base).start()
        answers = await asyncio.gather(*(widget.send(f"text {n}") for n in range(12)))
        await channel.idle()
        history = await widget.history()
    assert {status for status, _ in answers} == {200}
    stored = [m.body for m in _inbound(db)]
    assert sorted(stored) == sorted(f"text {n}" for n in range(12))
    assert assistant.texts == stored
    replies = [text for author, text in _said(history) if author == "assistant"]
    assert replies == [f"reply to: {body}" for body in stored]


async def test_a_visitors_next_message_waits_for_the_turn_before_it(
    db: Database, clock: FixedClock
) -> None:
    gate = threading.Event()
    assistant = Assistant(gate=gate)
    async with _served(_services(db, clock), assistant) as (base, channel, client):
        widget = await Widget(client, base).start()
        for text in ("first", "second", "third"):
            assert (await widget.send(text))[0] == 200
        await asyncio.sleep(0.1)
        assert assistant.texts == ["first"]  # the others wait, stored
        other = await Widget(client, base).start()
        await other.send("another visitor")
        await asyncio.sleep(0.1)
        assert assistant.texts == ["first", "another visitor"]  # not held up by the first
        gate.set()
        await channel.idle()
    assert assistant.texts == ["first", "another visitor", "second", "third"]


async def test_a_failed_turn_is_recorded_and_shown_and_the_next_one_runs(
    db: Database, clock: FixedClock
) -> None:
    assistant = Assistant(fail_on="boom")
    async with _served(_services(db, clock), assistant) as (base, channel, client):
        widget = await Widget(client, base).start()
        await widget.send("boom")
        await widget.send("still there?")
        await channel.idle()
        history = await widget.history()
    failed, answered = _inbound(db)
    assert (failed.status, failed.error_message) == ("failed", "assistant failed: RuntimeError")
    assert answered.status == "handled"
    assert [(m["text"], m["failed"]) for m in history if m["author"] == "customer"] == [
        ("boom", True),
        ("still there?", False),
    ]


async def test_a_leading_slash_cannot_make_an_intent(db: Database, clock: FixedClock) -> None:
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (base, channel, client):
        widget = await Widget(client, base).start()
        await widget.send('/inform{"order_number": "1001"}')
        await channel.idle()
    assert assistant.texts == ['inform{"order_number": "1001"}']
    assert _inbound(db)[0].body == '/inform{"order_number": "1001"}'  # kept as written


# --- bad input ---


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b'{"text": "   ", "id": "m-0001-abcd"}', 400),
        (b'{"text": "hi"}', 400),
        (json.dumps({"text": "x" * 4001, "id": "m-0001-abcd"}).encode(), 413),
        (b" " * 70_000, 413),
    ],
    ids=["not-json", "empty", "no-id", "long-text", "huge-body"],
)
async def test_bad_input_is_refused_and_nothing_stored(
    db: Database, clock: FixedClock, body: bytes, status: int
) -> None:
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (base, _, client):
        widget = await Widget(client, base).start()
        answer = await widget.call(
            "POST", "webhook", data=body, headers={"Content-Type": "application/json"}
        )
    assert answer[0] == status
    assert answer[1]["error"]
    assert _inbound(db) == []
    assert assistant.turns == []


async def test_a_bad_after_is_400(db: Database, clock: FixedClock) -> None:
    async with _served(_services(db, clock), Assistant()) as (base, _, client):
        widget = await Widget(client, base).start()
        status, body, _ = await widget.call("GET", "messages?after=last")
    assert (status, body) == (400, {"error": "after must be a message id"})


async def test_a_database_that_fails_is_a_503_never_a_200(
    clock: FixedClock, tmp_path: Path
) -> None:
    broken = Database(f"sqlite:///{tmp_path / 'never-migrated.db'}")  # no tables
    assistant = Assistant()
    try:
        async with _served(_services(broken, clock), assistant) as (base, _, client):
            widget = await Widget(client, base).start()
            sent = await widget.send("hello")
            read = await widget.call("GET", "messages?after=0")
    finally:
        broken.dispose()
    assert sent == (503, {"error": "the message could not be stored; send it again"})
    assert read[0] == 503
    assert assistant.turns == []


# --- privacy ---


async def test_a_visitor_sending_faster_than_a_person_types_is_slowed(
    db: Database, clock: FixedClock
) -> None:
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (base, _, client):
        fast, other = await Widget(client, base).start(), await Widget(client, base).start()
        sent = [await fast.send(f"message {n}") for n in range(limits.MESSAGES_PER_MINUTE)]
        status, body, headers = await fast.call(
            "POST", "webhook", json={"text": "one too many", "id": uuid.uuid4().hex}
        )
        other_status, _ = await other.send("hello")  # the limit is per visitor
    assert all(code == 200 for code, _ in sent)
    assert (status, body) == (429, {"error": "you are sending messages too quickly; wait a moment"})
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert other_status == 200
    assert "one too many" not in [m.body for m in _inbound(db)]  # refused, not stored


async def test_new_chats_from_one_address_are_limited(db: Database, clock: FixedClock) -> None:
    async with _served(_services(db, clock), Assistant()) as (base, _, client):
        widget = Widget(client, base)
        codes = [
            (await widget.call("POST", "session", token=""))[0]
            for _ in range(limits.SESSIONS_PER_10_MINUTES + 1)
        ]
    assert codes[:-1] == [200] * limits.SESSIONS_PER_10_MINUTES
    assert codes[-1] == 429


async def test_two_visitors_never_see_each_others_messages(db: Database, clock: FixedClock) -> None:
    async with _served(_services(db, clock), Assistant()) as (base, channel, client):
        ann, bob = await Widget(client, base).start(), await Widget(client, base).start()
        await ann.send("ann: order 1001", "m-0001-abcd")
        await bob.send("bob: order 1002", "m-0001-abcd")  # the same client id, too
        await channel.idle()
        ann_sees, bob_sees = await ann.history(), await bob.history()
    assert _said(ann_sees) == [
        ("customer", "ann: order 1001"),
        ("assistant", "reply to: ann: order 1001"),
    ]
    assert _said(bob_sees) == [
        ("customer", "bob: order 1002"),
        ("assistant", "reply to: bob: order 1002"),
    ]
    assert len(_inbound(db)) == 2


async def test_an_agent_reply_is_shown_with_the_agents_name_and_notes_never(
    db: Database, clock: FixedClock
) -> None:
    async with _served(_services(db, clock), Assistant()) as (base, channel, client):
        widget = await Widget(client, base).start()
        await widget.send("I want to talk to a person")
        await channel.idle()
        seen = await widget.history()
        with db.write() as session:
            create_agent(session, "sam@example.com", "correct horse battery", clock, name="Sam")
            sam = session.scalars(select(Agent)).one()
            conv = session.scalars(select(Conversation)).one()
            note(session, conv.id, "internal: refund him quietly", sam.id, clock)
            record_outbound(
                session,
                conv,
                author="agent",
                body="Hi, Sam here.",
                status="sent",
                agent_id=sam.id,
                clock=clock,
            )
        new = await widget.history(seen[-1]["id"])
    assert [(m["author"], m["name"], m["text"]) for m in new] == [("agent", "Sam", "Hi, Sam here.")]
    assert "refund" not in json.dumps(new)


# --- CORS ---


async def test_any_site_may_use_the_chat_by_default(db: Database, clock: FixedClock) -> None:
    async with _served(_services(db, clock), Assistant()) as (base, _, client):
        widget = Widget(client, base, origin="https://any.example")
        preflight = await widget.call(
            "OPTIONS",
            "webhook",
            token="",
            headers={
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        await widget.start()
        status, _, headers = await widget.call("GET", "messages?after=0")
    assert preflight[0] == 204
    assert preflight[2]["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in preflight[2]["Access-Control-Allow-Headers"]
    assert "POST" in preflight[2]["Access-Control-Allow-Methods"]
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Cache-Control"] == "no-store"


async def test_with_chat_origins_only_those_sites_may(db: Database, clock: FixedClock) -> None:
    services = _services(db, clock, chat_origins=(SHOP,))
    assistant = Assistant()
    async with _served(services, assistant) as (base, channel, client):
        shop = await Widget(client, base, origin=SHOP).start()
        status, _ = await shop.send("from the shop")
        _, _, headers = await shop.call("GET", "messages?after=0")
        evil = Widget(client, base, origin="https://evil.example")
        evil.token = shop.token  # even with a good token
        refused = await evil.send("from elsewhere")
        refused_read = await evil.call("GET", "messages?after=0")
        refused_session = await evil.call("POST", "session", token="")
        refused_preflight = await evil.call(
            "OPTIONS", "webhook", token="", headers={"Access-Control-Request-Method": "POST"}
        )
        await channel.idle()
    assert status == 200
    assert (headers["Access-Control-Allow-Origin"], headers["Vary"]) == (SHOP, "Origin")
    assert refused[0] == refused_read[0] == refused_session[0] == refused_preflight[0] == 403
    assert "Access-Control-Allow-Origin" not in refused_preflight[2]
    assert assistant.texts == ["from the shop"]


async def test_the_preflight_passes_in_rasas_own_app(db: Database, clock: FixedClock) -> None:
    """`rasa run` without --cors installs sanic-cors for no origin, which answers every
    OPTIONS itself: the channel's headers must still be on that answer."""
    with warnings.catch_warnings():  # matplotlib, imported by rasa.core.run, uses old pyparsing
        warnings.simplefilter("ignore", DeprecationWarning)
        from rasa.core.run import configure_app

    channel = ChatInput(_services(db, clock))
    app = configure_app(
        input_channels=[channel], cors=None, auth_token="t", enable_api=True, use_uvloop=False
    )
    async with serving(app) as base, aiohttp.ClientSession() as client:
        widget = Widget(client, base + "/webhooks/chat", origin=SHOP)
        preflight = await widget.call(
            "OPTIONS",
            "webhook",
            token="",
            headers={
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        await widget.start()
        _, _, headers = await widget.call("GET", "messages?after=0")
    assert preflight[0] in (200, 204)
    assert preflight[2]["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in preflight[2]["Access-Control-Allow-Headers"]
    assert headers["Access-Control-Allow-Origin"] == "*"


# --- restarts and the output channel ---


async def test_messages_stored_before_a_restart_are_answered_once_at_start(
    db: Database, clock: FixedClock
) -> None:
    ann, bob = "chat-" + "a" * 32, "chat-" + "b" * 32
    waiting = store(db, ChatText(ann, "m-0001-abcd", "left over"), clock)
    done = store(db, ChatText(bob, "m-0001-abcd", "answered before"), clock)
    with db.write() as session:
        session.get(Message, done.message_id).status = "handled"
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (_, channel, _):
        await channel.idle()
        await asyncio.gather(*(channel.replay_unanswered(assistant) for _ in range(3)))
        await channel.idle()
    assert assistant.texts == ["left over"]
    with db.read() as session:
        assert session.get(Message, waiting.message_id).status == "handled"


async def test_buttons_are_sent_as_choices_and_custom_payloads_dropped(
    db: Database, clock: FixedClock
) -> None:
    sender = "chat-" + "a" * 32
    output = ChatOutput(_services(db, clock))
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    await output.send_response(sender, {"text": "Cancel #1003?", "buttons": buttons})
    await output.send_response(sender, {"custom": {"carousel": []}})
    with db.read() as session:
        bodies = session.scalars(select(Message.body).where(Message.direction == "out")).all()
    assert bodies == ["Cancel #1003? (Reply: Yes; No)"]
