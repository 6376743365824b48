"""The desk serves the chat widget and the demo store's page to anyone, signed in or not."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from bot.clock import FixedClock
from bot.config import Settings
from bot.desk.app import create_app
from bot.desk.chat_widget import WIDGET_JS
from bot.oms.demo import DemoStore
from bot.services import Services
from bot.store import Database
from tests.http import serving

CHAT_URL = "https://chat.pigeon.example"


@asynccontextmanager
async def _desk(db: Database, clock: FixedClock, **settings: Any) -> AsyncIterator[str]:
    services = Services(Settings(chat_url=CHAT_URL, **settings), db, DemoStore(db, clock), clock)
    app = create_app(services, f"desk_{uuid.uuid4().hex}", dispatch=False, notify=False)
    async with serving(app) as base:
        yield base


async def _get(base: str, path: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as client, client.get(base + path) as answer:
        return answer.status, answer.headers.get("Content-Type", ""), await answer.text()


async def test_the_widget_and_its_stylesheet_are_public(db: Database, clock: FixedClock) -> None:
    async with _desk(db, clock) as base:
        script = await _get(base, "/chat/widget.js")
        css = await _get(base, "/chat/widget.css")
    assert script[:2] == (200, "application/javascript; charset=utf-8")
    assert "/webhooks/chat/" in script[2]
    assert css[:2] == (200, "text/css; charset=utf-8")
    assert ".pigeon-chat-launcher" in css[2]


async def test_the_demo_page_embeds_the_widget_with_the_chat_url(
    db: Database, clock: FixedClock
) -> None:
    async with _desk(db, clock, store_name='Pigeon "Supply" <Co>') as base:
        status, kind, page = await _get(base, "/demo")
    assert (status, kind) == (200, "text/html; charset=utf-8")
    [tag] = re.findall(r"<script [^>]*></script>", page)
    assert 'src="/chat/widget.js"' in tag
    assert f'data-server="{CHAT_URL}"' in tag
    assert "async" in tag
    assert "Pigeon &#34;Supply&#34; &lt;Co&gt;" in page  # escaped, like every value
    assert "<Co>" not in page


async def test_with_shopify_there_is_no_demo_page(db: Database, clock: FixedClock) -> None:
    shopify = {"shopify_shop": "pigeon.myshopify.com", "shopify_access_token": "shpat_x"}
    async with _desk(db, clock, **shopify) as base:
        demo = await _get(base, "/demo")
        script = await _get(base, "/chat/widget.js")
    assert demo[0] == 404
    assert script[0] == 200


def test_the_widget_never_writes_markup_nor_puts_the_token_in_a_url() -> None:
    """What the browser test cannot see every path of: no markup sinks at all."""
    source = WIDGET_JS.read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source
    assert "textContent" in source
    urls = re.findall(r"call\(\"(?:GET|POST)\", ([^,)]+)", source)
    assert urls
    assert all("token" not in url for url in urls)
    assert '"Bearer " + token' in source
