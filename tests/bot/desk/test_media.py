"""MMS pictures in the inbox: fetched by the desk with the Twilio credentials, only from Twilio."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from bot.clock import FixedClock
from bot.config import Settings
from bot.desk.app import create_app
from bot.inbox import record_inbound
from bot.oms.demo import DemoStore
from bot.services import Services
from bot.store import Database
from tests.http import serving

ACCOUNT, TOKEN, DESK_TOKEN = "AC" + "7" * 32, "twilio-token", "desk-token"
PICTURE = b"\xff\xd8\xff\xe0 a tiny jpeg"


@asynccontextmanager
async def twilio_media() -> AsyncIterator[tuple[str, list[str | None]]]:
    """A Twilio media URL that needs basic auth, as Twilio's do; yields (base, auth headers)."""
    seen: list[str | None] = []

    async def media(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        if request.headers.get("Authorization") != aiohttp.BasicAuth(ACCOUNT, TOKEN).encode():
            return web.Response(status=401)
        return web.Response(body=PICTURE, content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/2010-04-01/Accounts/{account}/Messages/{sid}/Media/{media}", media)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


def _mms(db: Database, clock: FixedClock, url: str) -> int:
    with db.write() as session:
        stored = record_inbound(
            session,
            phone="+12065550101",
            channel="sms",
            body="",
            external_id="MM1",
            media=[{"url": url, "content_type": "image/jpeg"}],
            clock=clock,
        )
        return stored.message_id


async def _get(services: Services, path: str) -> tuple[int, bytes, str]:
    headers = {"Authorization": f"Bearer {DESK_TOKEN}"}
    app = create_app(services, "desk_media", dispatch=False, notify=False)
    async with (
        serving(app) as base,
        aiohttp.ClientSession() as client,
        client.get(f"{base}{path}", headers=headers) as answer,
    ):
        return answer.status, await answer.read(), answer.content_type


async def test_a_picture_is_fetched_with_the_twilio_credentials(
    db: Database, clock: FixedClock
) -> None:
    async with twilio_media() as (twilio, seen):
        settings = Settings(
            desk_api_token=DESK_TOKEN,
            twilio_account_sid=ACCOUNT,
            twilio_auth_token=TOKEN,
            twilio_from_number="+15005550006",
            twilio_api_url=twilio,
        )
        services = Services(settings, db, DemoStore(db, clock), clock)
        url = f"{twilio}/2010-04-01/Accounts/{ACCOUNT}/Messages/MM1/Media/ME1"
        message = _mms(db, clock, url)
        assert await _get(services, f"/media/{message}/0") == (200, PICTURE, "image/jpeg")
        assert (await _get(services, f"/media/{message}/1"))[0] == 404  # no second picture
    assert seen == [aiohttp.BasicAuth(ACCOUNT, TOKEN).encode()]


async def test_a_url_that_is_not_twilios_is_never_fetched(db: Database, clock: FixedClock) -> None:
    async with twilio_media() as (elsewhere, seen):
        settings = Settings(desk_api_token=DESK_TOKEN, twilio_api_url="https://api.twilio.com")
        services = Services(settings, db, DemoStore(db, clock), clock)
        message = _mms(db, clock, f"{elsewhere}/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1")
        status, _, _ = await _get(services, f"/media/{message}/0")
    assert status == 404
    assert seen == []  # the desk did not call a URL a sender could have chosen
