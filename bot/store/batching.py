"""Group commit: concurrent webhook writes share one transaction, on a thread of their own.

A webhook must be stored before it is acknowledged, and a burst of them must not queue
one commit at a time. Callers `await writer.submit(item)`; whatever arrives while the
database is busy goes into the next transaction together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 200


class GroupWriter(Generic[T, R]):
    """Runs `write(batch) -> results` (one result per item, same order) for waiting callers."""

    def __init__(self, write: Callable[[Sequence[T]], Sequence[R]], name: str) -> None:
        self._write = write
        self._pending: list[tuple[T, asyncio.Future]] = []
        self._draining: asyncio.Task | None = None
        # Its own thread: an acknowledgement never waits behind other blocking work.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def submit(self, item: T) -> R:
        """The item's result once its transaction committed; the write's error otherwise."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.ensure_future(self._drain())
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            items = [item for item, _ in batch]
            try:
                results = await loop.run_in_executor(self._thread, self._write, items)
            except Exception as exc:  # every caller in the batch answers 5xx and is retried
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    def close(self) -> None:
        self._thread.shutdown(wait=False)
