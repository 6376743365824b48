"""The desk: a Sanic app for the inbox, its API, webhooks and the dispatcher."""

from __future__ import annotations

import asyncio
import logging

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.services import Services
from bot.store import DatabaseError

log = logging.getLogger(__name__)


def create_app(services: Services, name: str = "pigeon_desk") -> Sanic:
    """A desk app bound to `services`; nothing global, so tests can make several."""
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.ctx.services = services
    app.add_route(healthz, "/healthz", methods=["GET"])
    return app


async def healthz(request: Request) -> HTTPResponse:
    """200 when the desk can reach its database, 503 otherwise (for load balancers)."""
    services: Services = request.app.ctx.services
    try:
        await asyncio.to_thread(services.db.check)
    except DatabaseError as exc:
        log.warning("health check failed: %s", exc)
        return json({"status": "unavailable", "database": "unreachable"}, status=503)
    return json({"status": "ok", "database": "ok"})
