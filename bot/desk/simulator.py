"""The SMS simulator: a page that plays a phone, texting the assistant via the signed webhook.

Served only when no Twilio account is configured (the embedded default).
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import aiohttp
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import select

from bot.phone import normalize
from bot.services import Services
from bot.sms.signature import sign
from bot.sms.simulator import SIMULATOR_ACCOUNT_SID
from bot.store.models import Conversation, Customer, Message

PAGE = Path(__file__).parent / "static" / "simulator.html"
STORE_NUMBER = "+15005550006"  # the number the simulated customer texts
MAX_TEXT = 1600


def register(app: Sanic) -> None:
    app.add_route(page, "/simulator", methods=["GET"])
    app.add_route(customers, "/simulator/customers", methods=["GET"])
    app.add_route(messages, "/simulator/messages", methods=["GET"])
    app.add_route(send, "/simulator/send", methods=["POST"])


async def page(request: Request) -> HTTPResponse:
    return await response.file(PAGE, mime_type="text/html")


async def customers(request: Request) -> HTTPResponse:
    services: Services = request.app.ctx.services

    def load() -> list[dict[str, str]]:
        with services.db.read() as session:
            rows = session.execute(
                select(Customer.name, Customer.phone)
                .where(Customer.phone.is_not(None), Customer.name.is_not(None))
                .order_by(Customer.id)
                .limit(20)
            ).all()
        return [{"name": name, "phone": phone} for name, phone in rows]

    return response.json({"customers": await asyncio.to_thread(load)})


async def messages(request: Request) -> HTTPResponse:
    """The SMS thread of one number, after message id `after` (the page polls this)."""
    services: Services = request.app.ctx.services
    phone = normalize(request.args.get("phone"))
    if phone is None:
        return response.json({"error": "phone must be a phone number"}, status=400)
    try:
        after = int(request.args.get("after") or 0)
    except ValueError:
        return response.json({"error": "after must be a message id"}, status=400)

    def load() -> list[dict]:
        with services.db.read() as session:
            rows = session.execute(
                select(Message)
                .join(Conversation, Message.conversation_id == Conversation.id)
                .join(Customer, Conversation.customer_id == Customer.id)
                .where(Customer.phone == phone, Message.channel == "sms", Message.id > after)
                .order_by(Message.id)
            ).scalars()
            return [_message_json(m) for m in rows]

    return response.json({"messages": await asyncio.to_thread(load)})


def _message_json(m: Message) -> dict:
    return {
        "id": m.id,
        "direction": m.direction,
        "author": m.author,
        "body": m.body,
        "status": m.status,
        "created_at": m.created_at.isoformat(),
    }


async def send(request: Request) -> HTTPResponse:
    """Post the text to the Rasa server's SMS webhook exactly as Twilio would, signed."""
    services: Services = request.app.ctx.services
    payload = request.json if isinstance(request.json, dict) else {}
    phone, text = normalize(str(payload.get("phone") or "")), str(payload.get("text") or "")
    if phone is None or not text.strip() or len(text) > MAX_TEXT:
        return response.json(
            {"error": "need a phone number and a text of 1-1600 characters"}, status=400
        )
    settings = services.settings
    url = f"{settings.rasa_url}/webhooks/sms/webhook"
    form = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": SIMULATOR_ACCOUNT_SID,
        "From": phone,
        "To": STORE_NUMBER,
        "Body": text,
        "NumMedia": "0",
        "SmsStatus": "received",
    }
    headers = {"X-Twilio-Signature": sign(settings.twilio_auth_token or "", url, form)}
    timeout = aiohttp.ClientTimeout(total=10)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as client,
            client.post(url, data=form, headers=headers) as answer,
        ):
            status = answer.status
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return response.json({"error": "the assistant (Rasa server) is not reachable"}, status=502)
    if status != 200:
        return response.json({"error": f"the SMS webhook answered {status}"}, status=502)
    return response.json({"sent": True, "sid": form["MessageSid"]})
