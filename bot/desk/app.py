"""The desk: a Sanic app for the inbox, its API, webhooks and the outbox dispatcher."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.desk import api, chat_widget, guard, pages, shopify_webhooks, simulator, twilio_webhooks
from bot.email.sender import EmailSender
from bot.email.smtp import transport_for
from bot.notify.assistant import Assistant, RasaAssistant
from bot.notify.worker import Notifier
from bot.services import Services
from bot.sms.dispatcher import Dispatcher
from bot.sms.gateway import SmsGateway
from bot.sms.pacing import Pacer
from bot.sms.simulator import SimulatorGateway
from bot.store import DatabaseError

log = logging.getLogger(__name__)
STATUS_PATH = "/webhooks/twilio/status"


def create_app(
    services: Services,
    name: str = "pigeon_desk",
    *,
    gateway: SmsGateway | None = None,
    assistant: Assistant | None = None,
    dispatch: bool = True,
    notify: bool = True,
    email: bool = True,
) -> Sanic:
    """A desk app bound to `services`; nothing global, so tests can make several."""
    settings = services.settings
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.ctx.services = services
    app.ctx.assistant = assistant or RasaAssistant(settings.rasa_url, settings.rasa_token)
    embedded = not settings.twilio_enabled
    guard.install(app, simulator=embedded)  # every route below needs a sign-in, but the public
    app.add_route(healthz, "/healthz", methods=["GET"])
    twilio_webhooks.register(app, STATUS_PATH)
    shopify_webhooks.register(app)
    api.register(app)
    pages.register(app)
    chat_widget.register(app)  # the chat widget's script and the demo store's page: public
    if embedded:
        simulator.register(app)
    if dispatch:
        _run_dispatcher(app, services, gateway or default_gateway(services))
    if email:
        _run_email_sender(app, services)
    if notify:
        _run_notifier(app, services, app.ctx.assistant)
    else:
        app.register_listener(_close_assistant, "after_server_stop")
    return app


async def _close_assistant(app: Sanic, loop) -> None:
    await app.ctx.assistant.close()


def default_gateway(services: Services) -> SmsGateway:
    """Twilio when an account is configured, else the local simulator."""
    if services.settings.twilio_enabled:
        from bot.sms.twilio_gateway import from_settings

        return from_settings(services.settings)
    return SimulatorGateway()


def _run_dispatcher(app: Sanic, services: Services, gateway: SmsGateway) -> None:
    settings = services.settings
    callback = f"{settings.public_url}{STATUS_PATH}" if settings.public_url else None
    dispatcher = Dispatcher(
        services.db,
        gateway,
        services.clock,
        pacer=Pacer(settings.twilio_mps),
        quiet_hours=settings.quiet_hours,
        status_callback=callback if settings.twilio_enabled else None,
    )
    app.ctx.dispatcher = dispatcher

    async def close() -> None:
        await gateway.close()

    _run_in_background(app, dispatcher.run, close)


def _run_email_sender(app: Sanic, services: Services) -> None:
    """Sends the email outbox by SMTP (SMTP_URL), or keeps it in the inbox when unset."""
    settings = services.settings
    sender = EmailSender(
        services.db, transport_for(settings), services.clock, sender=settings.email_sender
    )
    app.ctx.email_sender = sender

    async def close() -> None:
        pass  # each email opens and closes its own SMTP connection

    _run_in_background(app, sender.run, close)


def _run_notifier(app: Sanic, services: Services, assistant: Assistant) -> None:
    notifier = Notifier(services, assistant, lull=app.ctx.shopify_acks.lull)
    app.ctx.notifier = notifier

    async def close() -> None:
        await assistant.close()
        app.ctx.shopify_writer.close()

    _run_in_background(app, notifier.run, close)


def _run_in_background(
    app: Sanic,
    run: Callable[[asyncio.Event], Awaitable[None]],
    close: Callable[[], Awaitable[None]],
) -> None:
    """Run `run(stop)` while the server is up; on shutdown set `stop`, wait, then `close()`."""
    running: list[tuple[asyncio.Event, asyncio.Future]] = []

    async def start(app: Sanic, loop) -> None:
        stop_event = asyncio.Event()  # made on the server's loop, fresh for each start
        running.append((stop_event, asyncio.ensure_future(run(stop_event))))

    async def stop(app: Sanic, loop) -> None:
        stop_event, task = running.pop()
        stop_event.set()
        await task
        await close()

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "before_server_stop")


async def healthz(request: Request) -> HTTPResponse:
    """200 when the desk can reach its database, 503 otherwise (for load balancers)."""
    services: Services = request.app.ctx.services
    try:
        await asyncio.to_thread(services.db.check)
    except DatabaseError as exc:
        log.warning("health check failed: %s", exc)
        return json({"status": "unavailable", "database": "unreachable"}, status=503)
    return json({"status": "ok", "database": "ok"})
