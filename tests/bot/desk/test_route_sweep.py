"""Who may call the desk: every route the app has refuses strangers, but the listed public ones.

The routes come from the app itself, so a route added later is swept too: if it answers
a stranger, or is public without being listed below, this module fails.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
import pytest
from sanic import Sanic

from bot.agents import (
    ATTEMPT_WINDOW,
    MAX_FAILURES_PER_ADDRESS,
    MAX_FAILURES_PER_EMAIL,
    SESSION_LIFETIME,
    create_agent,
    session_for,
    sign_in,
)
from bot.clock import FixedClock
from bot.config import Settings
from bot.desk.app import create_app
from bot.inbox import record_inbound
from bot.oms.demo import DemoStore
from bot.services import Services
from bot.store import Database
from tests.http import serving

TOKEN = "desk-api-token-for-tests"
EMAIL, PASSWORD = "ann@example.com", "correct horse battery"
REFUSED = {"error": "sign in or send the API token"}  # the guard's answer to a stranger
TWILIO = {
    "twilio_account_sid": "AC" + "0" * 32,
    "twilio_auth_token": "7e3b" * 8,
    "twilio_from_number": "+12065550100",
    "shopify_webhook_secret": "shopify-secret",
}

# (route as registered, method): anyone may call these.
PUBLIC = {
    ("/healthz", "GET"),
    ("/login", "GET"),
    ("/login", "POST"),
    ("/static/<__file_uri__:path>", "GET"),
    ("/static/<__file_uri__:path>", "HEAD"),
    # The chat widget, embedded by stores' pages, and the demo store's page that shows it.
    ("/chat/widget.js", "GET"),
    ("/chat/widget.css", "GET"),
    ("/demo", "GET"),
}
# Public to the guard, but each checks its provider's signature: never 2xx unsigned.
SIGNED_WEBHOOKS = {("/webhooks/twilio/status", "POST"), ("/webhooks/shopify", "POST")}
# Public only in the embedded mode (no Twilio account): the SMS simulator.
SIMULATOR = {
    ("/simulator", "GET"),
    ("/simulator/customers", "GET"),
    ("/simulator/messages", "GET"),
    ("/simulator/send", "POST"),
}
# A few that must be swept as protected, so an empty sweep cannot pass.
SURELY_PROTECTED = {
    ("/", "GET"),
    ("/inbox", "GET"),
    ("/logout", "POST"),
    ("/api/conversations", "GET"),
    ("/api/handoff", "POST"),
    ("/api/conversations/<conversation_id:int>/resolve", "POST"),
    ("/media/<message_id:int>/<index:int>", "GET"),
}


def _services(db: Database, clock: FixedClock, **settings: Any) -> Services:
    return Services(Settings(desk_api_token=TOKEN, **settings), db, DemoStore(db, clock), clock)


@asynccontextmanager
async def _served(services: Services) -> AsyncIterator[tuple[Sanic, aiohttp.ClientSession]]:
    app = create_app(services, f"desk_{uuid.uuid4().hex}", dispatch=False, notify=False)
    async with serving(app) as base, aiohttp.ClientSession(base_url=base) as client:
        app.ctx.base_url = base
        yield app, client


async def _call(client: aiohttp.ClientSession, method: str, path: str, **kw: Any):
    kw.setdefault("allow_redirects", False)
    async with client.request(method, path, **kw) as answer:
        body = await answer.read()
        if answer.content_type == "application/json":
            return answer.status, await answer.json()
        return answer.status, body.decode("utf-8", "replace")


def _routes(app: Sanic) -> set[tuple[str, str]]:
    return {("/" + route.path, method) for route in app.router.routes for method in route.methods}


def _concrete(uri: str) -> str:
    """A path that the route matches: ints for <x:int>, a word for anything else."""
    return re.sub(r"<\w+(?::(\w+))?>", lambda m: "1" if m.group(1) == "int" else "word", uri)


def _expired_cookie(db: Database, clock: FixedClock) -> str:
    with db.write() as session:
        create_agent(session, EMAIL, PASSWORD, clock)
        token, _ = sign_in(session, EMAIL, PASSWORD, "127.0.0.1", clock)
    clock.advance(SESSION_LIFETIME)
    return token


# --- the sweep ---


@pytest.mark.parametrize("embedded", [True, False], ids=["embedded", "twilio"])
async def test_every_route_refuses_strangers_but_the_public_ones(
    db: Database, clock: FixedClock, embedded: bool
) -> None:
    expired = _expired_cookie(db, clock)
    services = _services(db, clock, **({} if embedded else TWILIO))
    strangers = {
        "nobody": {},
        "forged session": {"Cookie": f"pigeon_session={uuid.uuid4().hex}"},
        "expired session": {"Cookie": f"pigeon_session={expired}"},
        "wrong token": {"Authorization": f"Bearer {TOKEN}-not"},
    }
    async with _served(services) as (app, client):
        routes = _routes(app)
        assert routes >= PUBLIC | SIGNED_WEBHOOKS | SURELY_PROTECTED
        assert (routes >= SIMULATOR) if embedded else not (routes & SIMULATOR)
        public = PUBLIC | (SIMULATOR if embedded else set())
        wrong = []
        for uri, method in sorted(routes):
            path = _concrete(uri)
            for who, headers in strangers.items():
                headers = {**headers, "Accept": "application/json"}
                if (uri, method) in SIGNED_WEBHOOKS:
                    for signed in (
                        {},
                        {"X-Twilio-Signature": "Zm9v", "X-Shopify-Hmac-Sha256": "x"},
                    ):
                        status, _ = await _call(
                            client,
                            method,
                            path,
                            headers={**headers, **signed},
                            data={"MessageSid": "SM1", "MessageStatus": "delivered"},
                        )
                        if status not in (401, 403):
                            wrong.append(f"{method} {uri} ({who}, unsigned): {status}")
                    continue
                status, body = await _call(client, method, path, headers=headers)
                refused = (status, body) == (401, REFUSED)
                if (uri, method) in public:
                    if refused or status >= 500:
                        wrong.append(f"{method} {uri} ({who}) is public: {status}")
                elif not refused:
                    wrong.append(f"{method} {uri} ({who}) let a stranger in: {status}")
    assert wrong == []


async def test_the_public_routes_answer_strangers(db: Database, clock: FixedClock) -> None:
    async with _served(_services(db, clock)) as (_, client):
        health = await _call(client, "GET", "/healthz")
        css = await _call(client, "GET", "/static/inbox.css")
        form = await _call(client, "GET", "/login")
        simulator = await _call(client, "GET", "/simulator")
    assert health == (200, {"status": "ok", "database": "ok"})
    assert css[0] == 200
    assert form[0] == 200
    assert 'action="/login"' in form[1]
    assert simulator[0] == 200


async def test_with_twilio_the_simulator_is_not_even_known(db: Database, clock: FixedClock) -> None:
    async with _served(_services(db, clock, **TWILIO)) as (_, client):
        for path in ("/simulator", "/simulator/customers"):
            assert await _call(client, "GET", path) == (401, REFUSED)
        sent = await _call(client, "POST", "/simulator/send", json={"to": "+12065550101"})
        assert sent == (401, REFUSED)
        signed_in = await _call(
            client, "GET", "/simulator", headers={"Authorization": f"Bearer {TOKEN}"}
        )
    assert signed_in[0] == 404


@pytest.mark.parametrize(
    "path",
    [
        "/webhooks/../api/conversations",
        "/webhooks/%2e%2e/api/conversations",
        "/webhooks/twilio/status/../../api/conversations",
        "/static/../api/conversations",
        "/static/%2e%2e/api/conversations",
        "/static/..%2f..%2fagents.py",
        "/simulator/../api/conversations",
        "/chat/../api/conversations",
        "/chat/%2e%2e/api/conversations",
        "/demo/../api/conversations",
        "/healthz/../api/conversations",
        "//api/conversations",
        "/healthz/",
        "/login/../inbox",
    ],
)
async def test_public_prefixes_do_not_open_other_routes(
    db: Database, clock: FixedClock, path: str
) -> None:
    """Raw request lines, as an attacker sends them (a client would tidy the dots away)."""
    record = _services(db, clock)
    with db.write() as session:
        record_inbound(session, phone="+12065550101", channel="sms", body="secret", clock=clock)
    async with _served(record) as (app, _):
        base = urlsplit(app.ctx.base_url)
        reader, writer = await asyncio.open_connection(base.hostname, base.port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: desk\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        answer = await reader.read()
        writer.close()
        await writer.wait_closed()
    status = int(answer.split(b" ", 2)[1])
    assert status in (401, 404)
    assert b"secret" not in answer  # no conversation leaked
    assert b"argon2" not in answer  # nor bot/agents.py


# --- sessions ---


async def test_a_browser_stranger_gets_the_sign_in_form(db: Database, clock: FixedClock) -> None:
    async with _served(_services(db, clock)) as (_, client):
        inbox = await _call(client, "GET", "/inbox", headers={"Accept": "text/html"})
        thread = await _call(client, "GET", "/inbox/7", headers={"Accept": "text/html,*/*"})
        api = await _call(client, "GET", "/api/conversations", headers={"Accept": "text/html"})
    for status, page in (inbox, thread):
        assert status == 401
        assert '<form method="post" action="/login" id="sign-in">' in page
        assert 'name="password"' in page
    assert 'name="next" value="/inbox"' in inbox[1]
    assert 'name="next" value="/inbox/7"' in thread[1]
    assert api == (401, REFUSED)  # the API answers JSON, whatever the Accept


async def _sign_in_over_http(client: aiohttp.ClientSession, **form: str) -> tuple[int, Any]:
    fields = {"email": EMAIL, "password": PASSWORD, "next": "/inbox"} | form
    async with client.post("/login", data=fields, allow_redirects=False) as answer:
        return answer, await answer.text()


async def test_a_session_lasts_until_it_expires_or_signs_out(
    db: Database, clock: FixedClock
) -> None:
    with db.write() as session:
        create_agent(session, EMAIL, PASSWORD, clock)
    async with _served(_services(db, clock)) as (_, client):
        answer, _ = await _sign_in_over_http(client)
        cookie = {"Cookie": f"pigeon_session={answer.cookies['pigeon_session'].value}"}
        assert (await _call(client, "GET", "/api/conversations", headers=cookie))[0] == 200
        clock.advance(SESSION_LIFETIME - timedelta(seconds=1))
        assert (await _call(client, "GET", "/api/conversations", headers=cookie))[0] == 200
        clock.advance(timedelta(seconds=1))
        assert await _call(client, "GET", "/api/conversations", headers=cookie) == (401, REFUSED)

        answer, _ = await _sign_in_over_http(client)
        cookie = {"Cookie": f"pigeon_session={answer.cookies['pigeon_session'].value}"}
        with db.read() as session:
            csrf = session_for(session, answer.cookies["pigeon_session"].value, clock).csrf_token
        bare = await _call(client, "POST", "/logout", headers=cookie)
        assert bare[0] == 403  # signing out is a write: it needs the CSRF token too
        out = await _call(client, "POST", "/logout", headers=cookie, data={"csrf_token": csrf})
        assert out[0] == 302
        assert await _call(client, "GET", "/api/conversations", headers=cookie) == (401, REFUSED)


# --- the sign-in page ---


async def test_a_wrong_password_is_401_with_a_message(db: Database, clock: FixedClock) -> None:
    with db.write() as session:
        create_agent(session, EMAIL, PASSWORD, clock)
    async with _served(_services(db, clock)) as (_, client):
        answer, page = await _sign_in_over_http(client, password="not the password")
    assert answer.status == 401
    assert answer.content_type == "text/html"
    assert "That email and password do not match an agent." in page
    assert 'name="next" value="/inbox"' in page
    assert "Set-Cookie" not in answer.headers


async def test_too_many_failures_are_429_even_with_the_password(
    db: Database, clock: FixedClock
) -> None:
    with db.write() as session:
        create_agent(session, EMAIL, PASSWORD, clock)
    async with _served(_services(db, clock)) as (_, client):
        for _ in range(MAX_FAILURES_PER_EMAIL):
            answer, _ = await _sign_in_over_http(client, password="guess")
            assert answer.status == 401
        answer, page = await _sign_in_over_http(client)
        assert answer.status == 429
        assert "Too many failed sign-ins" in page
        assert "Set-Cookie" not in answer.headers
        clock.advance(ATTEMPT_WINDOW)
        answer, _ = await _sign_in_over_http(client)
        assert answer.status == 302


async def test_a_forged_forwarded_for_does_not_dodge_the_address_limit(
    db: Database, clock: FixedClock
) -> None:
    with db.write() as session:
        create_agent(session, EMAIL, PASSWORD, clock)
    async with _served(_services(db, clock)) as (_, client):
        for n in range(MAX_FAILURES_PER_ADDRESS):
            async with client.post(
                "/login",
                data={"email": f"guess{n}@example.com", "password": "guess"},
                headers={"X-Forwarded-For": f"198.51.100.{n}", "X-Real-IP": f"198.51.100.{n}"},
            ) as answer:
                assert answer.status == 401
        answer, _ = await _sign_in_over_http(client)
    assert answer.status == 429


@pytest.mark.parametrize("public_url", [None, "http://desk.example", "https://desk.example"])
async def test_the_session_cookie_is_httponly_and_lax(
    db: Database, clock: FixedClock, public_url: str | None
) -> None:
    with db.write() as session:
        create_agent(session, EMAIL, PASSWORD, clock)
    async with _served(_services(db, clock, public_url=public_url)) as (_, client):
        answer, _ = await _sign_in_over_http(client)
    assert answer.status == 302
    assert answer.headers["Location"] == "/inbox"
    cookie = SimpleCookie(answer.headers["Set-Cookie"])["pigeon_session"]
    assert len(cookie.value) >= 32
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == str(int(SESSION_LIFETIME.total_seconds()))
    assert bool(cookie["secure"]) == (public_url == "https://desk.example")


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.example",
        "https://evil.example",
        "http://evil.example/inbox",
        "evil.example",
        "javascript:alert(1)",
        " //evil.example",
        "/\t/evil.example",
        "\n//evil.example",
        "/\\evil.example",  # a browser reads a bare \ as /
        "/inbox\r\nSet-Cookie: a=b",
    ],
)
async def test_next_off_site_goes_to_the_inbox(
    db: Database, clock: FixedClock, next_path: str
) -> None:
    with db.write() as session:
        create_agent(session, EMAIL, PASSWORD, clock)
    async with _served(_services(db, clock)) as (_, client):
        answer, _ = await _sign_in_over_http(client, next=next_path)
        _, form = await _call(client, "GET", "/login", params={"next": next_path})
    assert answer.status == 302
    assert answer.headers["Location"] == "/inbox"
    assert 'name="next" value="/inbox"' in form


@pytest.mark.parametrize(
    ("next_path", "location"),
    [
        ("/inbox/7?status=open", "/inbox/7?status=open"),
        ("/inbox?channel=sms&status=pending", "/inbox?channel=sms&status=pending"),
    ],
)
async def test_next_on_site_stays_on_site(
    db: Database, clock: FixedClock, next_path: str, location: str
) -> None:
    with db.write() as session:
        create_agent(session, EMAIL, PASSWORD, clock)
    async with _served(_services(db, clock)) as (app, client):
        answer, _ = await _sign_in_over_http(client, next=next_path)
        base = app.ctx.base_url
    assert answer.status == 302
    assert answer.headers["Location"] == location
    assert urlsplit(urljoin(base, location)).netloc == urlsplit(base).netloc
    assert "a" not in answer.cookies


async def test_the_sign_in_form_escapes_next(db: Database, clock: FixedClock) -> None:
    async with _served(_services(db, clock)) as (_, client):
        status, page = await _call(
            client, "GET", "/login", params={"next": '/inbox"><script>alert(1)</script>'}
        )
    assert status == 200
    assert "<script>alert" not in page
    assert 'value="/inbox&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page
