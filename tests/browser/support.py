"""Helpers for browser tests: a desk served on its own thread, and screenshots under reports/."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

from sanic import Sanic
from selenium.webdriver.remote.webdriver import WebDriver

REPORTS = Path(__file__).resolve().parents[2] / "reports"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0

Running = tuple[str, asyncio.AbstractEventLoop, asyncio.Event]


@contextmanager
def served_in_thread(app: Sanic) -> Iterator[str]:
    """Yield the base URL of `app` served on 127.0.0.1 by its own thread and event loop.

    Selenium blocks, so the server cannot share the test's thread; its start and stop
    listeners run on the server's loop, as under `sanic`.
    """
    started: Future[Running] = Future()
    thread = threading.Thread(
        target=asyncio.run, args=(_serve(app, started),), name=f"serve-{app.name}", daemon=True
    )
    thread.start()
    base_url, loop, stop = started.result(timeout=START_TIMEOUT)
    try:
        yield base_url
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=STOP_TIMEOUT)
        assert not thread.is_alive(), f"{app.name} did not stop within {STOP_TIMEOUT}s"


async def _serve(app: Sanic, started: Future[Running]) -> None:
    """Serve until told to stop; a failed start is raised in the caller's thread."""
    # Bound here: Sanic 21.12 reads port 0 as "use 8000".
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
        await server.startup()
        await server.before_start()
        await server.start_serving()
        await server.after_start()
    except BaseException as exc:
        sock.close()
        started.set_exception(exc)
        return
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop = asyncio.Event()
    started.set_result((base_url, asyncio.get_running_loop(), stop))
    try:
        await stop.wait()
    finally:
        await server.before_stop()
        await server.close()
        for connection in list(server.connections):  # the browser keeps its connections alive
            connection.abort()
        await asyncio.sleep(0)  # let the aborted connections run connection_lost
        await server.after_stop()
        sock.close()


def save_screenshot(driver: WebDriver, name: str) -> Path:
    """Save what the browser shows as reports/<name>.png, for a person to look at."""
    REPORTS.mkdir(exist_ok=True)
    path = REPORTS / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"could not write {path}"
    return path
