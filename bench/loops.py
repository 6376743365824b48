"""Event loops on their own threads, so a fake or the load generator is not held up by Rasa.

Rasa predicts on its event loop without yielding, and Rasa's built-in twilio channel calls
the synchronous Twilio SDK on it: a fake Twilio on that same loop could never answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import Future
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, TypeVar

from tests.fakes.twilio import FakeTwilio

T = TypeVar("T")

ACCOUNT_SID = "AC" + "be7c" * 8
AUTH_TOKEN = "bench-auth-token"  # noqa: S105 (the fake Twilio's, nothing real)
STORE_NUMBER = "+15005550006"


class LoopThread:
    """`with LoopThread("name") as loop:` then `await loop.run(coroutine)` from another loop."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def __enter__(self) -> LoopThread:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.loop.close()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(self.submit(coroutine))

    def call(self, callback: Any, *args: Any) -> None:
        """Call a plain function on this loop's thread (e.g. set an asyncio.Event of it)."""
        self.loop.call_soon_threadsafe(callback, *args)


@asynccontextmanager
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    """The fake Twilio REST API, served from its own thread; `.messages` is safe to read."""
    with LoopThread("fake-twilio") as thread:
        fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, service_number=STORE_NUMBER)
        await thread.run(fake.__aenter__())
        try:
            yield fake
        finally:
            await thread.run(fake.__aexit__(None, None, None))
