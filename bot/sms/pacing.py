"""Pacing: a sender may send only so many segments per second (long code: 1)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Pacer:
    """A token bucket of segments: bursts of up to one second's worth, then `rate` per second."""

    def __init__(self, rate: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._tokens = self.capacity
        self._monotonic = monotonic
        self._last = monotonic()

    def _refill(self) -> None:
        now = self._monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now

    async def acquire(self, segments: int = 1) -> None:
        """Wait until `segments` may be sent; a text longer than the bucket waits its share.

        The segments are reserved at once (the bucket may go below zero) and the caller
        sleeps off its own debt, so no lock is held while waiting and callers are served
        in the order they asked.
        """
        needed = max(1, segments)
        self._refill()
        ready_at = min(needed, self.capacity)  # a long text starts when the bucket is full
        wait = max(0.0, (ready_at - self._tokens) / self.rate)
        self._tokens -= needed
        if wait:
            await asyncio.sleep(wait)

    def refund(self, segments: int = 1) -> None:
        """Give back segments acquired for a text that did not go out."""
        self._tokens = min(self.capacity, self._tokens + segments)
