"""Who may call the desk: every route needs an agent's session or the API token, but a few.

Default deny: a request middleware checks every request before routing, so a route added
later is protected without anyone remembering to. Public are only the health check, the
sign-in page, static assets, webhooks (each checks its provider's signature), the chat
widget's files and the demo store's page and, in the embedded mode, the SMS simulator.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.agents import SignedIn, same_token, session_for
from bot.services import Services

COOKIE = "pigeon_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PUBLIC_EXACT = ("/healthz", "/login", "/demo")
PUBLIC_PREFIXES = ("/static/", "/webhooks/", "/chat/")
SIMULATOR_PREFIX = "/simulator"


@dataclass(frozen=True)
class Caller:
    """Who made the request: an agent (with the session's CSRF token) or an API client."""

    agent: SignedIn | None  # None: the bearer token

    @property
    def agent_id(self) -> int | None:
        return self.agent.agent_id if self.agent else None


def install(app: Sanic, *, simulator: bool) -> None:
    """Refuse anonymous requests to every route but the public ones."""

    async def check(request: Request) -> HTTPResponse | None:
        if is_public(request.path, simulator=simulator):
            return None
        caller = await identify(request)
        if caller is None:
            return refuse(request)
        if caller.agent and request.method not in SAFE_METHODS and not _csrf_ok(request, caller):
            return response.json({"error": "missing or wrong CSRF token"}, status=403)
        request.ctx.caller = caller
        return None

    app.register_middleware(check, "request")


def is_public(path: str, *, simulator: bool) -> bool:
    if path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES):
        return True
    return simulator and (path == SIMULATOR_PREFIX or path.startswith(SIMULATOR_PREFIX + "/"))


async def identify(request: Request) -> Caller | None:
    services: Services = request.app.ctx.services
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        ok = same_token(header[len("Bearer ") :].strip(), services.settings.desk_api_token)
        return Caller(None) if ok else None
    token = request.cookies.get(COOKIE)
    if not token:
        return None

    def lookup() -> SignedIn | None:
        with services.db.read() as session:
            return session_for(session, token, services.clock)

    agent = await asyncio.to_thread(lookup)
    return Caller(agent) if agent else None


def refuse(request: Request) -> HTTPResponse:
    """401: JSON for the API, the sign-in page for a browser."""
    if request.path.startswith("/api/") or "text/html" not in request.headers.get("Accept", ""):
        return response.json({"error": "sign in or send the API token"}, status=401)
    from bot.desk.pages import sign_in_page  # the page renders with the templates

    return sign_in_page(request, status=401, next_path=request.path)


def _csrf_ok(request: Request, caller: Caller) -> bool:
    given = request.headers.get(CSRF_HEADER)
    if not given and (request.content_type or "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        given = request.form.get(CSRF_FIELD)
    return same_token(given, caller.agent.csrf_token if caller.agent else None)


def caller_of(request: Request) -> Caller:
    return request.ctx.caller
