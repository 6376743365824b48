"""One customer's texts are handled one at a time, in the order they came in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Job = Callable[[], Awaitable[Any]]


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
