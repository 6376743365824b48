"""Shopify's webhooks: signed, stored once by webhook id, answered at once, applied after."""

from __future__ import annotations

import hmac
import json
import logging

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.notify.payloads import sign
from bot.notify.receipts import Webhook, insert_webhooks
from bot.services import Services
from bot.sms.turns import AcksFirst
from bot.store.batching import GroupWriter

log = logging.getLogger(__name__)

PATH = "/webhooks/shopify"
MAX_BODY_BYTES = 512 * 1024  # Shopify's order payloads with many lines stay well under


def register(app: Sanic) -> None:
    services: Services = app.ctx.services

    def write(hooks):
        return insert_webhooks(services.db, hooks, services.clock)

    app.ctx.shopify_writer = GroupWriter(write, "shopify-receipts")
    app.ctx.shopify_acks = AcksFirst()  # the notifier applies webhooks in the lulls between them
    app.add_route(receive, PATH, methods=["POST"])


def is_authentic(body: bytes, signature: str | None, secret: str | None) -> bool:
    """X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 of the raw body, compared in constant time."""
    if not secret or not signature or not signature.isascii():  # base64 is ASCII
        return False
    return hmac.compare_digest(sign(body, secret).encode(), signature.strip().encode())


async def receive(request: Request) -> HTTPResponse:
    acks: AcksFirst = request.app.ctx.shopify_acks
    acks.started()
    try:
        return await _receive(request)
    finally:
        acks.finished()


async def _receive(request: Request) -> HTTPResponse:
    services: Services = request.app.ctx.services
    settings = services.settings
    body = request.body or b""
    if len(body) > MAX_BODY_BYTES:
        return response.text("request body too large", status=413)
    secret = settings.shopify_webhook_secret
    if not is_authentic(body, request.headers.get("X-Shopify-Hmac-Sha256"), secret):
        if not secret:
            log.warning("Shopify webhook refused: SHOPIFY_WEBHOOK_SECRET is not set")
        return response.text("invalid signature", status=401)
    shop = request.headers.get("X-Shopify-Shop-Domain")
    if settings.shopify_shop and shop and shop.lower() != settings.shopify_shop:
        return response.text("webhook from another shop", status=401)
    webhook_id = (request.headers.get("X-Shopify-Webhook-Id") or "").strip()
    topic = (request.headers.get("X-Shopify-Topic") or "").strip().lower()
    if not _is_token(webhook_id, 128) or not _is_token(topic, 64):
        return response.text("X-Shopify-Webhook-Id and X-Shopify-Topic are required", status=400)
    try:
        text = body.decode("utf-8")
        json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested past what json reads
        return response.text("the body is not JSON", status=400)
    writer: GroupWriter = request.app.ctx.shopify_writer
    new = await writer.submit(Webhook(webhook_id, topic, text))  # durable before the 200
    if not new:
        log.info("Shopify %s webhook repeated; already stored", topic)
    return response.empty(status=200)


def _is_token(value: str, limit: int) -> bool:
    """Printable ASCII, as Shopify's ids and topics are (Sanic hands other bytes over as
    lone surrogates, which no database stores)."""
    return 0 < len(value) <= limit and value.isascii() and value.isprintable()
