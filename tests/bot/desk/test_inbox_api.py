"""The inbox's JSON API over real HTTP: the shapes it promises and what each call changes."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.agents import create_agent
from bot.clock import FixedClock
from bot.config import Settings
from bot.desk.app import create_app
from bot.inbox import customer_for_phone, record_inbound, record_outbound, thread_for
from bot.notify.assistant import AssistantUnavailable
from bot.oms.demo import DemoStore
from bot.services import Services
from bot.store import Database
from bot.store.models import (
    Agent,
    Conversation,
    Customer,
    EmailOutboxItem,
    Message,
    OutboxItem,
)
from tests.http import serving

TOKEN = "desk-api-token-for-tests"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
ANN, BOB, PASSWORD = "ann@example.com", "bob@example.com", "correct horse battery"
ALICE, BRUNO = "+12065550101", "+12065550102"
MINUTE = timedelta(minutes=1)


@dataclass
class FakeAssistant:
    """Records what the desk asks of Rasa; `fail` makes resume raise as an unreachable Rasa."""

    fail: bool = False
    resumed: list[str] = field(default_factory=list)
    closed: bool = False

    async def trigger(self, sender_id: str, entities: Mapping[str, str]) -> None:
        raise AssertionError("the inbox never triggers intents")

    async def resume(self, sender_id: str) -> None:
        self.resumed.append(sender_id)
        if self.fail:
            raise AssistantUnavailable("Rasa answered 502: bad gateway")

    async def close(self) -> None:
        self.closed = True


@dataclass
class Desk:
    client: aiohttp.ClientSession
    assistant: FakeAssistant
    csrf: str = ""

    async def call(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        async with self.client.request(method, path, **kw) as answer:
            if answer.content_type == "application/json":
                return answer.status, await answer.json()
            return answer.status, await answer.text()

    async def api(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        """A call as the API client (bearer token), or as the signed-in agent with `csrf`."""
        headers = kw.pop("headers", None) or ({"X-CSRF-Token": self.csrf} if self.csrf else BEARER)
        return await self.call(method, path, json=body, headers=headers, **kw)

    async def sign_in(self, conversation_id: int, email: str = ANN) -> None:
        """Sign in as a browser does, and read the CSRF token off a thread's page."""
        form = {"email": email, "password": PASSWORD, "next": "/inbox"}
        status, _ = await self.call("POST", "/login", data=form, allow_redirects=False)
        assert status == 302
        page = f"/inbox/{conversation_id}"
        status, html = await self.call("GET", page, headers={"Accept": "text/html"})
        assert status == 200
        self.csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


@asynccontextmanager
async def _desk(db: Database, clock: FixedClock, *, fail: bool = False) -> AsyncIterator[Desk]:
    services = Services(Settings(desk_api_token=TOKEN), db, DemoStore(db, clock), clock)
    assistant = FakeAssistant(fail=fail)
    app = create_app(
        services, f"desk_{uuid.uuid4().hex}", assistant=assistant, dispatch=False, notify=False
    )
    jar = aiohttp.CookieJar(unsafe=True)  # keep cookies for 127.0.0.1
    async with serving(app) as base, aiohttp.ClientSession(base_url=base, cookie_jar=jar) as c:
        yield Desk(c, assistant)
    assert assistant.closed


def _agents(db: Database, clock: FixedClock) -> dict[str, int]:
    with db.write() as session:
        return {e: create_agent(session, e, PASSWORD, clock).id for e in (ANN, BOB)}


def _inbound(db: Database, clock: FixedClock, phone: str, body: str, channel: str = "sms"):
    with db.write() as session:
        return record_inbound(session, phone=phone, channel=channel, body=body, clock=clock)


def _seed(db: Database, clock: FixedClock) -> dict[str, int]:
    """Alice texted, then emailed, then the assistant's answer failed; then Bruno texted.

    A minute apart each, and the clock is left a minute after Bruno (see `_iso`).
    """
    sms = _inbound(db, clock, ALICE, "where is my order?")
    clock.advance(MINUTE)
    mail = _inbound(db, clock, ALICE, "me again, by email", channel="email")
    clock.advance(MINUTE)
    with db.write() as session:
        alice = customer_for_phone(session, ALICE)
        alice.name, alice.email = "Alice", "alice@example.com"
        conv = thread_for(session, alice, "sms", clock)
        out = record_outbound(
            session, conv, author="assistant", body="On its way!", status="failed", clock=clock
        )
        out.error_code = "30007"
        conv.status, conv.handoff_reason = "pending", "refund"
        session.get(Conversation, mail.conversation_id).status = "resolved"
    clock.advance(MINUTE)
    bruno = _inbound(db, clock, BRUNO, "hi")
    clock.advance(MINUTE)  # replies and notes come after everything above
    return {
        "alice_sms": sms.conversation_id,
        "alice_email": mail.conversation_id,
        "bruno": bruno.conversation_id,
        "m1": sms.message_id,
        "m2": mail.message_id,
        "m3": out.id,
        "m4": bruno.message_id,
    }


def _iso(clock: FixedClock, minutes: int) -> str:
    """When `_seed`'s message number `minutes` (from 0) was written."""
    return (clock.now() - timedelta(minutes=4 - minutes)).isoformat()


def _count(db: Database, model) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def _conversation(db: Database, conversation_id: int) -> Conversation:
    with db.read() as session:
        conv = session.get(Conversation, conversation_id)
        session.expunge(conv)
        return conv


# --- listing ---


async def test_conversations_newest_activity_first(db: Database, clock: FixedClock) -> None:
    ids = _seed(db, clock)
    async with _desk(db, clock) as desk:
        status, body = await desk.api("GET", "/api/conversations")
    assert status == 200
    alice = {"phone": ALICE, "email": "alice@example.com", "name": "Alice"}
    assert body == {
        "conversations": [
            {
                "id": ids["bruno"],
                "status": "open",
                "channel": "sms",
                "customer": {"phone": BRUNO, "email": None, "name": None},
                "assignee": None,
                "handoff_reason": None,
                "last_message_at": _iso(clock, 3),
            },
            {
                "id": ids["alice_sms"],
                "status": "pending",
                "channel": "sms",
                "customer": alice,
                "assignee": None,
                "handoff_reason": "refund",
                "last_message_at": _iso(clock, 2),
            },
            {
                "id": ids["alice_email"],
                "status": "resolved",
                "channel": "email",
                "customer": alice,
                "assignee": None,
                "handoff_reason": None,
                "last_message_at": _iso(clock, 1),
            },
        ]
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?status=pending", ["alice_sms"]),
        ("?status=open", ["bruno"]),
        ("?channel=email", ["alice_email"]),
        ("?channel=sms", ["bruno", "alice_sms"]),
        ("?status=resolved&channel=sms", []),
        ("?status=&channel=", ["bruno", "alice_sms", "alice_email"]),
    ],
)
async def test_conversations_filtered(
    db: Database, clock: FixedClock, query: str, expected: list[str]
) -> None:
    ids = _seed(db, clock)
    async with _desk(db, clock) as desk:
        status, body = await desk.api("GET", f"/api/conversations{query}")
    assert status == 200
    assert [c["id"] for c in body["conversations"]] == [ids[name] for name in expected]


@pytest.mark.parametrize("query", ["?status=closed", "?channel=fax", "?status=OPEN"])
async def test_a_bad_filter_is_400(db: Database, clock: FixedClock, query: str) -> None:
    async with _desk(db, clock) as desk:
        status, body = await desk.api("GET", f"/api/conversations{query}")
    assert status == 400
    assert "must be one of" in body["error"]


async def test_agents_see_what_is_unread_for_them(db: Database, clock: FixedClock) -> None:
    ids = _seed(db, clock)
    _agents(db, clock)
    async with _desk(db, clock) as desk:
        await desk.sign_in(ids["bruno"])  # opens Bruno's thread: read
        _, body = await desk.api("GET", "/api/conversations")
    unread = {c["id"]: c["unread"] for c in body["conversations"]}
    assert unread == {ids["bruno"]: False, ids["alice_sms"]: True, ids["alice_email"]: True}


# --- one customer's thread ---


async def test_the_thread_is_the_customer_on_every_channel(db: Database, clock: FixedClock) -> None:
    ids = _seed(db, clock)
    with db.write() as session:  # what the email channel keeps of an email
        session.get(Message, ids["m2"]).email_meta = {
            "subject": "Order?",
            "attachments": [{"filename": "receipt.pdf", "content_type": "application/pdf"}],
        }
    expected = [
        {
            "id": ids["m1"],
            "direction": "in",
            "author": "customer",
            "body": "where is my order?",
            "channel": "sms",
            "status": "received",
            "error_code": None,
            "created_at": _iso(clock, 0),
            "conversation_id": ids["alice_sms"],
            "subject": None,
            "attachments": [],
        },
        {
            "id": ids["m2"],
            "direction": "in",
            "author": "customer",
            "body": "me again, by email",
            "channel": "email",
            "status": "received",
            "error_code": None,
            "created_at": _iso(clock, 1),
            "conversation_id": ids["alice_email"],
            "subject": "Order?",
            "attachments": ["receipt.pdf"],
        },
        {
            "id": ids["m3"],
            "direction": "out",
            "author": "assistant",
            "body": "On its way!",
            "channel": "sms",
            "status": "failed",
            "error_code": "30007",
            "created_at": _iso(clock, 2),
            "conversation_id": ids["alice_sms"],
            "subject": None,
            "attachments": [],
        },
    ]
    async with _desk(db, clock) as desk:
        by_sms = await desk.api("GET", f"/api/conversations/{ids['alice_sms']}/messages")
        by_email = await desk.api("GET", f"/api/conversations/{ids['alice_email']}/messages")
        path = f"/api/conversations/{ids['alice_sms']}/messages?after={ids['m1']}"
        after = await desk.api("GET", path)
        bruno = await desk.api("GET", f"/api/conversations/{ids['bruno']}/messages")
    assert by_sms == (200, {"messages": expected})
    assert by_email == by_sms
    assert after == (200, {"messages": expected[1:]})
    assert [m["id"] for m in bruno[1]["messages"]] == [ids["m4"]]


async def test_the_thread_of_nothing(db: Database, clock: FixedClock) -> None:
    ids = _seed(db, clock)
    async with _desk(db, clock) as desk:
        missing = await desk.api("GET", "/api/conversations/999/messages")
        bad = await desk.api("GET", f"/api/conversations/{ids['bruno']}/messages?after=x")
    assert missing == (404, {"error": "no conversation 999"})
    assert bad == (400, {"error": "after must be a message id"})


# --- replies and notes ---


async def test_an_agents_reply_is_queued_for_sms(db: Database, clock: FixedClock) -> None:
    ids, agents = _seed(db, clock), _agents(db, clock)
    async with _desk(db, clock) as desk:
        await desk.sign_in(ids["bruno"])
        path = f"/api/conversations/{ids['bruno']}/reply"
        status, body = await desk.api("POST", path, {"text": "  Hello Bruno!  "})
    assert status == 201
    assert body == {"message": {"id": body["message"]["id"], "status": "queued"}}
    with db.read() as session:
        item = session.execute(select(OutboxItem)).scalar_one()
        message = session.get(Message, body["message"]["id"])
        conv = session.get(Conversation, ids["bruno"])
        assert (item.message_id, item.purpose, item.status) == (message.id, "agent", "queued")
        assert (item.to_phone, item.body) == (BRUNO, "Hello Bruno!")
        assert (message.direction, message.author, message.agent_id) == (
            "out",
            "agent",
            agents[ANN],
        )
        assert message.created_at == clock.now()
        assert conv.assignee_id == agents[ANN]  # who answers, owns it


async def test_an_api_reply_has_no_agent(db: Database, clock: FixedClock) -> None:
    ids = _seed(db, clock)
    async with _desk(db, clock) as desk:
        path = f"/api/conversations/{ids['alice_sms']}/reply"
        status, body = await desk.api("POST", path, {"text": "x" * 1600})  # the most allowed
    assert status == 201
    with db.read() as session:
        item = session.execute(select(OutboxItem)).scalar_one()
        assert (item.purpose, item.to_phone, len(item.body)) == ("agent", ALICE, 1600)
        assert session.get(Message, item.message_id).agent_id is None


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"text": ""}, "the reply is empty"),
        ({"text": "   \n "}, "the reply is empty"),
        ({}, "the reply is empty"),
        ({"text": 42}, "the reply is empty"),
        ({"text": "x" * 1601}, "the reply is 1601 characters; at most 1600"),
    ],
)
async def test_a_bad_reply_is_400(db: Database, clock: FixedClock, body: dict, error: str) -> None:
    ids = _seed(db, clock)
    async with _desk(db, clock) as desk:
        answer = await desk.api("POST", f"/api/conversations/{ids['bruno']}/reply", body)
    assert answer == (400, {"error": error})
    assert _count(db, OutboxItem) == 0


async def test_replies_go_only_where_they_can(db: Database, clock: FixedClock) -> None:
    ids = _seed(db, clock)
    async with _desk(db, clock) as desk:
        missing = await desk.api("POST", "/api/conversations/999/reply", {"text": "hi"})
        not_json = await desk.api(
            "POST", f"/api/conversations/{ids['bruno']}/reply", data="text=hi", headers=BEARER
        )
    assert missing == (404, {"error": "no conversation 999"})
    assert not_json == (400, {"error": "the body is not JSON"})
    assert _count(db, OutboxItem) == 0


async def test_a_reply_on_an_email_thread_is_a_threaded_email(
    db: Database, clock: FixedClock
) -> None:
    ids, agents = _seed(db, clock), _agents(db, clock)
    with db.write() as session:  # what the email channel keeps of Alice's email
        alice_email = session.get(Conversation, ids["alice_email"])
        alice_email.sender_id = "alice@example.com"
        session.get(Message, ids["m2"]).email_meta = {
            "message_id": "<m2@mail.example.com>",
            "subject": "Order?",
            "references": ["<m1@mail.example.com>"],
        }
    async with _desk(db, clock) as desk:
        await desk.sign_in(ids["alice_email"])
        status, body = await desk.api(
            "POST", f"/api/conversations/{ids['alice_email']}/reply", {"text": "It left today."}
        )
    assert status == 201
    assert body["message"]["status"] == "queued"
    assert _count(db, OutboxItem) == 0  # no text message
    with db.read() as session:
        (item,) = session.scalars(select(EmailOutboxItem)).all()
        assert (item.to_address, item.subject) == ("alice@example.com", "Re: Order?")
        assert item.headers["In-Reply-To"] == "<m2@mail.example.com>"
        assert item.headers["References"] == "<m1@mail.example.com> <m2@mail.example.com>"
        assert "It left today." in item.body_text
        message = session.get(Message, item.message_id)
        assert (message.channel, message.author, message.agent_id) == (
            "email",
            "agent",
            agents[ANN],
        )
        conversation = session.get(Conversation, ids["alice_email"])
        assert conversation.status == "open"  # a reply reopens a resolved thread


async def test_an_email_reply_to_a_customer_without_an_address_is_400(
    db: Database, clock: FixedClock
) -> None:
    with db.write() as session:
        stranger = Customer(name="No address")
        session.add(stranger)
        session.flush()
        thread_id = thread_for(session, stranger, "email", clock).id
    async with _desk(db, clock) as desk:
        status, body = await desk.api(
            "POST", f"/api/conversations/{thread_id}/reply", {"text": "hi"}
        )
    assert status == 400
    assert "email" in body["error"]
    assert _count(db, EmailOutboxItem) == 0


async def test_a_reply_on_a_chat_thread_waits_for_the_visitors_widget(
    db: Database, clock: FixedClock
) -> None:
    agents = _agents(db, clock)
    with db.write() as session:
        visitor = Customer(name="Web visitor")
        session.add(visitor)
        session.flush()
        chat = thread_for(session, visitor, "chat", clock)
        chat.sender_id = "chat-" + "b" * 32
        chat.status = "pending"
        session.flush()
        chat_id = chat.id
    async with _desk(db, clock) as desk:
        await desk.sign_in(chat_id)
        status, body = await desk.api(
            "POST", f"/api/conversations/{chat_id}/reply", {"text": "Hi, Sam here"}
        )
        too_long = await desk.api(
            "POST", f"/api/conversations/{chat_id}/reply", {"text": "x" * 4001}
        )
    assert status == 201
    assert body["message"]["status"] == "sent"
    assert too_long == (400, {"error": "the reply is 4001 characters; at most 4000"})
    assert _count(db, OutboxItem) == 0  # nothing to text: the widget fetches it
    with db.read() as session:
        message = session.get(Message, body["message"]["id"])
        assert (message.channel, message.author, message.body) == ("chat", "agent", "Hi, Sam here")
        assert message.agent_id == agents[ANN]
        assert session.get(Conversation, chat_id).assignee_id == agents[ANN]


async def test_a_note_never_reaches_the_outbox(db: Database, clock: FixedClock) -> None:
    ids, agents = _seed(db, clock), _agents(db, clock)
    async with _desk(db, clock) as desk:
        await desk.sign_in(ids["bruno"])
        path = f"/api/conversations/{ids['bruno']}"
        status, body = await desk.api("POST", f"{path}/note", {"text": "asked about returns"})
        _, thread = await desk.api("GET", f"{path}/messages")
        empty = await desk.api("POST", f"{path}/note", {"text": " "})
        missing = await desk.api("POST", "/api/conversations/999/note", {"text": "hi"})
    assert status == 201
    assert body == {"message": {"id": body["message"]["id"]}}
    assert thread["messages"][-1] == {
        "id": body["message"]["id"],
        "direction": "out",
        "author": "agent",
        "body": "asked about returns",
        "channel": "note",
        "status": "note",
        "error_code": None,
        "created_at": clock.now().isoformat(),
        "conversation_id": ids["bruno"],
        "subject": None,
        "attachments": [],
    }
    assert empty == (400, {"error": "the note is empty"})
    assert missing[0] == 404
    assert _count(db, OutboxItem) == 0
    with db.read() as session:
        assert session.get(Message, body["message"]["id"]).agent_id == agents[ANN]


# --- assigning and resolving ---


async def test_assign_by_email(db: Database, clock: FixedClock) -> None:
    ids, agents = _seed(db, clock), _agents(db, clock)
    path = f"/api/conversations/{ids['bruno']}/assign"
    async with _desk(db, clock) as desk:
        to_bob = await desk.api("POST", path, {"agent": " Bob@Example.com"})
        listed = (await desk.api("GET", "/api/conversations?status=open"))[1]
        unknown = await desk.api("POST", path, {"agent": "carol@example.com"})
        not_text = await desk.api("POST", path, {"agent": 7})
        left_out = await desk.api("POST", path, {})  # the API token is nobody to assign to
        still_bob = _conversation(db, ids["bruno"]).assignee_id
        nobody = await desk.api("POST", path, {"agent": None})
    assert to_bob == (200, {"conversation": {"id": ids["bruno"], "assignee": BOB}})
    assert listed["conversations"][0]["assignee"] == BOB
    assert unknown == (400, {"error": "no active agent 'carol@example.com'"})
    assert not_text[0] == 400
    assert left_out[0] == 400
    assert still_bob == agents[BOB]
    assert nobody == (200, {"conversation": {"id": ids["bruno"], "assignee": None}})
    assert _conversation(db, ids["bruno"]).assignee_id is None


async def test_an_inactive_agent_cannot_be_assigned(db: Database, clock: FixedClock) -> None:
    ids, agents = _seed(db, clock), _agents(db, clock)
    with db.write() as session:
        session.get(Agent, agents[BOB]).is_active = False
    async with _desk(db, clock) as desk:
        answer = await desk.api("POST", f"/api/conversations/{ids['bruno']}/assign", {"agent": BOB})
    assert answer[0] == 400
    assert _conversation(db, ids["bruno"]).assignee_id is None


async def test_assign_without_an_agent_is_to_me(db: Database, clock: FixedClock) -> None:
    ids, agents = _seed(db, clock), _agents(db, clock)
    async with _desk(db, clock) as desk:
        await desk.sign_in(ids["alice_sms"], BOB)
        answer = await desk.api("POST", f"/api/conversations/{ids['alice_sms']}/assign", {})
        missing = await desk.api("POST", "/api/conversations/999/assign", {})
    assert answer == (200, {"conversation": {"id": ids["alice_sms"], "assignee": BOB}})
    assert _conversation(db, ids["alice_sms"]).assignee_id == agents[BOB]
    assert missing[0] == 404


async def test_resolve_resumes_the_assistant_first(db: Database, clock: FixedClock) -> None:
    ids = _seed(db, clock)
    async with _desk(db, clock) as desk:
        answer = await desk.api("POST", f"/api/conversations/{ids['alice_sms']}/resolve")
        resumed = list(desk.assistant.resumed)
        missing = await desk.api("POST", "/api/conversations/999/resolve")
    assert answer == (200, {"conversation": {"id": ids["alice_sms"], "status": "resolved"}})
    assert resumed == [ALICE]
    assert desk.assistant.resumed == [ALICE]  # nothing to resume for a missing thread
    assert missing == (404, {"error": "no conversation 999"})
    conv = _conversation(db, ids["alice_sms"])
    assert (conv.status, conv.resolved_at) == ("resolved", clock.now())


async def test_resolve_changes_nothing_when_rasa_is_down(db: Database, clock: FixedClock) -> None:
    ids = _seed(db, clock)
    async with _desk(db, clock, fail=True) as desk:
        status, body = await desk.api("POST", f"/api/conversations/{ids['alice_sms']}/resolve")
    assert status == 503
    assert "could not be resumed" in body["error"]
    assert desk.assistant.resumed == [ALICE]
    conv = _conversation(db, ids["alice_sms"])
    assert (conv.status, conv.resolved_at) == ("pending", None)


# --- the assistant's handoff ---


async def test_handoff_makes_the_thread_pending(db: Database, clock: FixedClock) -> None:
    ids = _seed(db, clock)
    body = {"sender_id": BRUNO, "reason": "damaged item", "summary": "Reason: damaged item."}
    async with _desk(db, clock) as desk:
        answer = await desk.api("POST", "/api/handoff", body)
        listed = (await desk.api("GET", "/api/conversations?status=pending"))[1]
    hours = Settings().support_hours
    expected = {"id": ids["bruno"], "status": "pending", "support_hours": hours}
    assert answer == (201, {"conversation": expected})
    conv = _conversation(db, ids["bruno"])
    assert (conv.handoff_reason, conv.handoff_summary) == ("damaged item", "Reason: damaged item.")
    assert [c["id"] for c in listed["conversations"]] == [ids["bruno"], ids["alice_sms"]]


async def test_handoff_of_a_stranger_starts_a_thread(db: Database, clock: FixedClock) -> None:
    async with _desk(db, clock) as desk:
        status, body = await desk.api("POST", "/api/handoff", {"sender_id": BRUNO, "reason": "x"})
    assert status == 201
    conv = _conversation(db, body["conversation"]["id"])
    assert (conv.sender_id, conv.channel, conv.status) == (BRUNO, "sms", "pending")
    assert conv.handoff_summary == ""


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "damaged item"},
        {"sender_id": "  ", "reason": "damaged item"},
        {"sender_id": BRUNO},
        {"sender_id": BRUNO, "reason": " "},
        {"sender_id": BRUNO, "reason": "x" * 201},
        {"sender_id": BRUNO, "reason": "damaged item", "summary": 5},
        {"sender_id": BRUNO, "reason": "damaged item", "summary": "x" * 2001},
        [BRUNO, "damaged item"],
        "not JSON at all",
    ],
)
async def test_a_bad_handoff_is_400(db: Database, clock: FixedClock, body: Any) -> None:
    ids = _seed(db, clock)
    async with _desk(db, clock) as desk:
        kw = {"data": body} if isinstance(body, str) else {"json": body}
        status, answer = await desk.call("POST", "/api/handoff", headers=BEARER, **kw)
    assert status == 400
    assert answer["error"]
    assert _conversation(db, ids["bruno"]).status == "open"


# --- who may call ---


@pytest.mark.parametrize("header", ["Bearer wrong-token", f"Bearer {TOKEN}x", TOKEN, "Bearer "])
async def test_a_wrong_token_is_401(db: Database, clock: FixedClock, header: str) -> None:
    ids = _seed(db, clock)
    async with _desk(db, clock) as desk:
        listed = await desk.api("GET", "/api/conversations", headers={"Authorization": header})
        path = f"/api/conversations/{ids['bruno']}/reply"
        replied = await desk.api("POST", path, {"text": "hi"}, headers={"Authorization": header})
    assert listed == (401, {"error": "sign in or send the API token"})
    assert replied[0] == 401
    assert _count(db, OutboxItem) == 0


async def test_no_token_is_configured_so_none_works(db: Database, clock: FixedClock) -> None:
    services = Services(Settings(), db, DemoStore(db, clock), clock)
    app = create_app(services, f"desk_{uuid.uuid4().hex}", dispatch=False, notify=False)
    async with serving(app) as base, aiohttp.ClientSession(base_url=base) as client:
        for header in ("Bearer ", "Bearer None", "Bearer null"):
            async with client.get("/api/conversations", headers={"Authorization": header}) as r:
                assert r.status == 401, header


async def test_a_session_works_and_writes_need_its_csrf_token(
    db: Database, clock: FixedClock
) -> None:
    ids = _seed(db, clock)
    _agents(db, clock)
    path = f"/api/conversations/{ids['bruno']}/reply"
    async with _desk(db, clock) as desk:
        await desk.sign_in(ids["bruno"])
        listed = await desk.call("GET", "/api/conversations")
        bare = await desk.call("POST", path, json={"text": "hi"})
        wrong = await desk.call("POST", path, json={"text": "hi"}, headers={"X-CSRF-Token": "x"})
        in_json = await desk.call("POST", path, json={"text": "hi", "csrf_token": desk.csrf})
        assert _count(db, OutboxItem) == 0
        right = await desk.api("POST", path, {"text": "hi"})
        form = await desk.call(
            "POST",
            f"/inbox/{ids['bruno']}/note",
            data={"text": "from the page", "csrf_token": desk.csrf},
            allow_redirects=False,
        )
    assert listed[0] == 200
    assert len(listed[1]["conversations"]) == 3
    for refused in (bare, wrong, in_json):
        assert refused == (403, {"error": "missing or wrong CSRF token"})
    assert right[0] == 201
    assert form[0] == 302
    assert _count(db, OutboxItem) == 1


async def test_another_sessions_csrf_token_is_refused(db: Database, clock: FixedClock) -> None:
    ids = _seed(db, clock)
    _agents(db, clock)
    async with _desk(db, clock) as bobs, _desk(db, clock) as anns:
        await bobs.sign_in(ids["bruno"], BOB)
        await anns.sign_in(ids["bruno"], ANN)
        path = f"/api/conversations/{ids['bruno']}/note"
        answer = await anns.call(
            "POST", path, json={"text": "hi"}, headers={"X-CSRF-Token": bobs.csrf}
        )
    assert answer[0] == 403


# --- customer text is data, never markup ---


async def test_customer_markup_is_kept_in_json_and_escaped_in_html(
    db: Database, clock: FixedClock
) -> None:
    _agents(db, clock)
    script = "<script>alert(1)</script> & \"quotes\" 'too'"
    stored = _inbound(db, clock, BRUNO, script)
    handoff = {"sender_id": BRUNO, "reason": "<img src=x onerror=alert(2)>", "summary": script}
    async with _desk(db, clock) as desk:
        assert (await desk.api("POST", "/api/handoff", handoff))[0] == 201
        await desk.sign_in(stored.conversation_id)
        _, thread = await desk.api("GET", f"/api/conversations/{stored.conversation_id}/messages")
        _, listed = await desk.api("GET", "/api/conversations")
        status, page = await desk.call(
            "GET", f"/inbox/{stored.conversation_id}", headers={"Accept": "text/html"}
        )
    assert thread["messages"][0]["body"] == script
    assert listed["conversations"][0]["handoff_reason"] == "<img src=x onerror=alert(2)>"
    assert status == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34; &#39;too&#39;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<script>alert" not in page
    assert "<img src=x" not in page


async def test_the_page_shows_every_thread_of_the_customer_and_replies_on_its_own(
    db: Database, clock: FixedClock
) -> None:
    ids = _seed(db, clock)
    _agents(db, clock)
    with db.write() as session:
        email = session.get(Message, ids["m2"])
        email.email_meta = {
            "subject": "<b>Where</b> is it?",
            "attachments": [{"filename": "<photo>.jpg", "content_type": "image/jpeg"}],
        }
        email.status, email.error_message = "held", "an automatic reply (Auto-Submitted)"
    async with _desk(db, clock) as desk:
        await desk.sign_in(ids["alice_email"])
        _, email_page = await desk.call(
            "GET", f"/inbox/{ids['alice_email']}", headers={"Accept": "text/html"}
        )
        _, sms_page = await desk.call(
            "GET", f"/inbox/{ids['alice_sms']}", headers={"Accept": "text/html"}
        )
    assert "Reply by email to alice@example.com" in email_page
    assert "Reply by SMS to +1" in sms_page
    assert "&lt;b&gt;Where&lt;/b&gt; is it?" in email_page  # the subject, escaped
    assert "Attachments (not kept): &lt;photo&gt;.jpg" in email_page
    assert '<span class="why">an automatic reply (Auto-Submitted)</span>' in email_page
    # The sidebar links the customer's other thread, not the one shown.
    assert f'<a href="/inbox/{ids["alice_sms"]}">sms</a>' in email_page
    assert f'<a href="/inbox/{ids["alice_email"]}">email</a>' in sms_page
    assert f'<a href="/inbox/{ids["alice_email"]}">' not in email_page


@pytest.mark.parametrize("query", ["", "?status=pending"])
async def test_the_inbox_page_lists_conversations_escaped(
    db: Database, clock: FixedClock, query: str
) -> None:
    _agents(db, clock)
    stored = _inbound(db, clock, BRUNO, "hi")
    handoff = {"sender_id": BRUNO, "reason": "<img src=x onerror=alert(2)>"}
    async with _desk(db, clock) as desk:
        assert (await desk.api("POST", "/api/handoff", handoff))[0] == 201
        await desk.sign_in(stored.conversation_id)
        status, page = await desk.call("GET", f"/inbox{query}", headers={"Accept": "text/html"})
    assert status == 200
    assert f'href="/inbox/{stored.conversation_id}"' in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<img src=x" not in page
