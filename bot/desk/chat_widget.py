"""The chat widget's files and the demo store's page: public, so any site can embed the widget.

The widget talks to the Rasa server's chat channel (channels/chat.py), not to the desk: the
desk only serves the script, its stylesheet, and (with the demo store) a page that embeds it.
"""

from __future__ import annotations

from pathlib import Path

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk.pages import render
from bot.services import Services

STATIC = Path(__file__).parent / "static"
WIDGET_JS = STATIC / "chat-widget.js"
WIDGET_CSS = STATIC / "chat-widget.css"
CACHE = {"Cache-Control": "public, max-age=300"}  # stores pick up a new widget within minutes


def register(app: Sanic) -> None:
    app.add_route(widget_js, "/chat/widget.js", methods=["GET"])
    app.add_route(widget_css, "/chat/widget.css", methods=["GET"])
    if not app.ctx.services.settings.shopify_enabled:  # the demo page sells the demo store
        app.add_route(demo, "/demo", methods=["GET"])


async def widget_js(request: Request) -> HTTPResponse:
    return await response.file(
        WIDGET_JS, mime_type="application/javascript; charset=utf-8", headers=CACHE
    )


async def widget_css(request: Request) -> HTTPResponse:
    return await response.file(WIDGET_CSS, mime_type="text/css; charset=utf-8", headers=CACHE)


async def demo(request: Request) -> HTTPResponse:
    """A product page of the demo store with the widget on it, as a store would embed it."""
    services: Services = request.app.ctx.services
    settings = services.settings
    return render("demo.html", chat_url=settings.chat_url, store_name=settings.store_name)
