"""Twilio's status callbacks: delivery news for the texts the dispatcher sent."""

from __future__ import annotations

import asyncio

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.services import Services
from bot.sms.status import record_status
from bot.sms.webhook import twilio_form


def register(app: Sanic, path: str) -> None:
    app.add_route(status_callback, path, methods=["POST"])


async def status_callback(request: Request) -> HTTPResponse:
    services: Services = request.app.ctx.services
    form = twilio_form(request, services.settings)
    if isinstance(form, HTTPResponse):
        return form
    sid, status = form.get("MessageSid", ""), (form.get("MessageStatus") or "").lower()
    if not sid or not status:
        return response.text("MessageSid and MessageStatus are required", status=400)

    error_code = form.get("ErrorCode") or None
    await asyncio.to_thread(record_status, services.db, sid, status, error_code, services.clock)
    return response.empty(status=204)
