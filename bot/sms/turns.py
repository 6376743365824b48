"""Turns: one customer's texts one at a time, in order; the assistant on a thread of its own."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

Job = Callable[[], Awaitable[Any]]
T = TypeVar("T")


class SenderQueues:
    """A chain of tasks per sender: each job starts when the sender's previous one has ended.

    `add` is synchronous, so the order of `add` calls is the order the jobs run in; other
    senders' jobs run concurrently. A failed job does not stop the ones after it.
    """

    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Task] = {}

    def add(self, sender: str, job: Job) -> asyncio.Task:
        task = asyncio.ensure_future(_after(self._tails.get(sender), job))
        self._tails[sender] = task
        task.add_done_callback(lambda done: self._forget(sender, done))
        return task

    def _forget(self, sender: str, task: asyncio.Task) -> None:
        if self._tails.get(sender) is task:
            del self._tails[sender]

    async def idle(self) -> None:
        """Wait until every job added so far has ended (tests and shutdown)."""
        while self._tails:
            await asyncio.wait(set(self._tails.values()))


async def _after(previous: asyncio.Task | None, job: Job) -> Any:
    if previous is not None:
        await asyncio.wait({previous})  # its outcome is its own: only its end matters here
    return await job()


class AssistantThread:
    """The assistant's turns, on an event loop of their own thread.

    Rasa predicts without yielding to its event loop. On the loop that acknowledges
    Twilio, every turn would hold back the acknowledgements queued behind it; here
    TensorFlow computes with the GIL released, so webhooks are answered meanwhile.
    The thread starts on first use.
    """

    def __init__(self, name: str = "assistant") -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the assistant's loop; cancelling the caller cancels it there."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self._started())
        return await asyncio.wrap_future(future)

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=_serve, args=(loop,), name=self.name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def close(self, timeout: float = 5.0) -> None:
        """Stop the loop (turns still running are abandoned: start-up replays their texts)."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if not thread.is_alive():
            loop.close()


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


class AcksFirst:
    """Acknowledgements before answers: background work waits for a lull in the webhooks.

    An acknowledgement costs a millisecond and Twilio is waiting for it (after 15 s it
    gives up and sends the text again); an answer costs a model's turn. While a burst of
    texts is arriving, the turns wait until no webhook has been in progress for `settle`
    seconds, but never longer than `patience`, so a steady stream cannot starve them.
    Waiters sleep on one event (set by a timer `settle` after the last webhook ends), so
    a hundred of them cost the burst nothing.
    """

    def __init__(
        self,
        settle: float = 0.02,
        patience: float = 0.5,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settle, self.patience, self._monotonic = settle, patience, monotonic
        self._in_progress = 0
        self._last = -float("inf")
        self._quiet: asyncio.Event | None = None  # made by the first waiter, on its loop
        self._timer: asyncio.TimerHandle | None = None

    def started(self) -> None:
        self._in_progress += 1
        if self._quiet is not None:
            self._quiet.clear()
            self._disarm()

    def finished(self) -> None:
        self._in_progress -= 1
        self._last = self._monotonic()
        if self._quiet is not None and not self._in_progress:
            self._arm(self.settle)

    def quiet_for(self) -> float:
        """Seconds since the last webhook ended; 0 while one is in progress."""
        if self._in_progress:
            return 0.0
        return self._monotonic() - self._last

    async def lull(self) -> None:
        if self.quiet_for() >= self.settle:
            return
        if self._quiet is None:
            self._quiet = asyncio.Event()
            if not self._in_progress:
                self._arm(self.settle - self.quiet_for())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._quiet.wait(), self.patience)

    def _arm(self, delay: float) -> None:
        self._disarm()
        quiet = self._quiet
        self._timer = asyncio.get_running_loop().call_later(max(delay, 0.0), quiet.set)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
