"""Serve a Sanic app on a free loopback port inside the test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sanic import Sanic


@asynccontextmanager
async def serving(app: Sanic) -> AsyncIterator[str]:
    """Yield the base URL of `app` served on 127.0.0.1, then stop it."""
    server = await app.create_server(
        host="127.0.0.1", port=0, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.start_serving()
    port = server.server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()
