"""The agents' pages: sign-in, the conversation list, a thread with the customer beside it.

Server-rendered with Jinja2 (every value escaped), forms carry the session's CSRF token,
and a little JavaScript polls the JSON API so new messages appear without reloading.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import agents
from bot import desk_inbox as inbox
from bot.desk.api import hand_back
from bot.desk.guard import COOKIE, Caller, caller_of
from bot.notify.assistant import AssistantUnavailable
from bot.oms.base import Order, OrderSystemError
from bot.services import Services
from bot.store.models import CHANNELS, CONVERSATION_STATUSES

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True),  # customer text is untrusted everywhere
    trim_blocks=True,
    lstrip_blocks=True,
)
RECENT_ORDERS = 5
MEDIA_TIMEOUT = aiohttp.ClientTimeout(total=20)


def register(app: Sanic) -> None:
    app.add_route(home, "/", methods=["GET"])
    app.add_route(sign_in_form, "/login", methods=["GET"])
    app.add_route(sign_in, "/login", methods=["POST"])
    app.add_route(sign_out, "/logout", methods=["POST"])
    app.add_route(conversation_list, "/inbox", methods=["GET"])
    app.add_route(conversation_page, "/inbox/<conversation_id:int>", methods=["GET"])
    app.add_route(act, "/inbox/<conversation_id:int>/<action:str>", methods=["POST"])
    app.add_route(picture, "/media/<message_id:int>/<index:int>", methods=["GET"])
    app.static("/static", str(HERE / "static"), name="desk_static")


def render(name: str, code: int = 200, /, **context) -> HTTPResponse:
    """Positional HTTP status, so a template variable may be called `status` (the list filter)."""
    html = ENV.get_template(name).render(**context)
    return response.html(html, status=code, headers={"X-Frame-Options": "DENY"})


def sign_in_page(
    request: Request, *, status: int = 200, next_path: str = "/inbox", error: str | None = None
) -> HTTPResponse:
    return render("login.html", status, next_path=_local(next_path), error=error)


async def home(request: Request) -> HTTPResponse:
    return response.redirect("/inbox")


async def sign_in_form(request: Request) -> HTTPResponse:
    return sign_in_page(request, next_path=request.args.get("next") or "/inbox")


async def sign_in(request: Request) -> HTTPResponse:
    services: Services = request.app.ctx.services
    email = (request.form.get("email") or "").strip()
    password = request.form.get("password") or ""
    next_path = _local(request.form.get("next") or "/inbox")
    address = request.remote_addr or request.ip or "unknown"

    def attempt() -> tuple[str, agents.SignedIn] | str | None:
        with services.db.write() as session:
            if agents.too_many_failures(session, email, address, services.clock):
                return "limited"
            return agents.sign_in(session, email, password, address, services.clock)

    outcome = await asyncio.to_thread(attempt)
    if outcome == "limited":
        error = "Too many failed sign-ins. Wait a few minutes, then try again."
        return sign_in_page(request, status=429, next_path=next_path, error=error)
    if outcome is None:
        error = "That email and password do not match an agent."
        return sign_in_page(request, status=401, next_path=next_path, error=error)
    token, _ = outcome
    redirect = response.redirect(next_path)
    _set_cookie(redirect, token, services, max_age=int(agents.SESSION_LIFETIME.total_seconds()))
    return redirect


async def sign_out(request: Request) -> HTTPResponse:
    services: Services = request.app.ctx.services
    token = request.cookies.get(COOKIE)

    def forget() -> None:
        with services.db.write() as session:
            agents.sign_out(session, token)

    await asyncio.to_thread(forget)
    redirect = response.redirect("/login")
    _set_cookie(redirect, "", services, max_age=0)
    return redirect


async def conversation_list(request: Request) -> HTTPResponse:
    services: Services = request.app.ctx.services
    caller = caller_of(request)
    status = request.args.get("status") or None
    channel = request.args.get("channel") or None

    def load() -> list[inbox.ConversationRow]:
        with services.db.read() as session:
            return inbox.conversations(
                session, status=status, channel=channel, agent_id=caller.agent_id
            )

    try:
        rows = await asyncio.to_thread(load)
    except inbox.InboxError as exc:
        return response.text(str(exc), status=400)
    return render(
        "inbox.html",
        me=caller.agent,
        csrf=_csrf(caller),
        rows=rows,
        status=status,
        channel=channel,
        statuses=CONVERSATION_STATUSES,
        channels=CHANNELS,
    )


@dataclass(frozen=True)
class OrdersView:
    orders: list[Order]
    error: str | None = None


async def conversation_page(request: Request, conversation_id: int) -> HTTPResponse:
    services: Services = request.app.ctx.services
    caller = caller_of(request)

    def load():
        with services.db.write() as session:  # reading it marks it read
            conv = inbox.conversation(session, conversation_id)
            messages = inbox.thread(session, conversation_id)
            side = inbox.sidebar(session, conversation_id)
            if caller.agent_id:
                inbox.mark_read(session, conversation_id, caller.agent_id, services.clock)
            assignee = conv.assignee.email if conv.assignee else None
            return conv, messages, side, assignee

    try:
        conv, messages, side, assignee = await asyncio.to_thread(load)
    except inbox.NotFound as exc:
        return response.text(str(exc), status=404)
    orders = await _orders(services, side.phone, side.email)
    return render(
        "conversation.html",
        me=caller.agent,
        csrf=_csrf(caller),
        conv=conv,
        assignee=assignee,
        messages=messages,
        side=side,
        orders=orders,
        last_id=max((m.id for m in messages), default=0),
    )


async def act(request: Request, conversation_id: int, action: str) -> HTTPResponse:
    """The thread page's forms: reply, note, assign (to me), resolve; then back to the thread."""
    services: Services = request.app.ctx.services
    caller = caller_of(request)
    text = request.form.get("text") or ""
    back = response.redirect(f"/inbox/{conversation_id}")
    me = caller.agent.email if caller.agent else None
    if action == "resolve":
        return await _resolve(request, conversation_id, back)
    actions = {
        "reply": lambda s: inbox.reply(
            s, conversation_id, text, caller.agent_id, services.clock, services.settings
        ),
        "note": lambda s: inbox.note(s, conversation_id, text, caller.agent_id, services.clock),
        "assign": lambda s: inbox.assign(s, conversation_id, me),
    }
    if action not in actions:
        return response.text(f"unknown action {action!r}", status=404)

    def run() -> None:
        with services.db.write() as session:
            actions[action](session)

    try:
        await asyncio.to_thread(run)
    except inbox.NotFound as exc:
        return response.text(str(exc), status=404)
    except inbox.InboxError as exc:
        return response.text(str(exc), status=400)
    return back


async def _resolve(request: Request, conversation_id: int, back: HTTPResponse) -> HTTPResponse:
    services: Services = request.app.ctx.services
    try:
        await hand_back(services, request.app.ctx.assistant, conversation_id)
    except inbox.NotFound as exc:
        return response.text(str(exc), status=404)
    except AssistantUnavailable:
        return response.text(
            "The assistant could not be resumed, so the conversation stays as it was. "
            "Try again in a moment.",
            status=503,
        )
    return back


async def picture(request: Request, message_id: int, index: int) -> HTTPResponse:
    """An MMS picture, fetched with the Twilio credentials (Twilio's media URLs need them)."""
    services: Services = request.app.ctx.services
    settings = services.settings

    def lookup() -> str:
        with services.db.read() as session:
            return inbox.media_url(session, message_id, index)

    try:
        url = await asyncio.to_thread(lookup)
    except inbox.NotFound as exc:
        return response.text(str(exc), status=404)
    allowed = {_origin(settings.twilio_api_url), "https://api.twilio.com"}
    if _origin(url) not in allowed:  # only Twilio's media: never a URL a sender made up
        return response.text("not a Twilio media URL", status=404)
    auth = None
    if settings.twilio_account_sid and settings.twilio_auth_token:
        auth = aiohttp.BasicAuth(settings.twilio_account_sid, settings.twilio_auth_token)
    try:
        async with (
            aiohttp.ClientSession(timeout=MEDIA_TIMEOUT) as client,
            client.get(url, auth=auth) as got,
        ):
            if got.status != 200:
                return response.text(f"Twilio answered {got.status}", status=502)
            kind = got.headers.get("Content-Type", "application/octet-stream")
            if not kind.startswith(("image/", "video/", "audio/")):
                kind = "application/octet-stream"
            return response.raw(await got.read(), content_type=kind)
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return response.text("Twilio could not be reached", status=502)


async def _orders(services: Services, phone: str | None, email: str | None) -> OrdersView:
    def load() -> list[Order]:
        found: dict[str, Order] = {}
        if phone:
            found.update((o.id, o) for o in services.oms.orders_for_phone(phone))
        if email:
            found.update((o.id, o) for o in services.oms.orders_for_email(email))
        return sorted(found.values(), key=lambda o: o.created_at, reverse=True)[:RECENT_ORDERS]

    try:
        return OrdersView(await asyncio.to_thread(load))
    except OrderSystemError as exc:
        log.warning("order system unavailable for the inbox sidebar: %s", exc)
        return OrdersView([], "The order system could not be reached.")


def _csrf(caller: Caller) -> str:
    return caller.agent.csrf_token if caller.agent else ""


def _set_cookie(resp: HTTPResponse, token: str, services: Services, *, max_age: int) -> None:
    resp.cookies[COOKIE] = token
    cookie = resp.cookies[COOKIE]
    cookie["httponly"] = True
    cookie["samesite"] = "Lax"
    cookie["path"] = "/"
    cookie["max-age"] = max_age
    if (services.settings.public_url or "").startswith("https://"):
        cookie["secure"] = True


def _local(path: str) -> str:
    """Only a path on this site: never redirect a signed-in agent elsewhere."""
    parts = urlsplit(path)
    odd = path.startswith("//") or "\\" in path or any(ord(c) < 32 for c in path)
    if parts.scheme or parts.netloc or not path.startswith("/") or odd:
        return "/inbox"
    return path


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
