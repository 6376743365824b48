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
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now

    async def acquire(self, segments: int = 1) -> None:
        """Wait until `segments` may be sent; a message longer than the bucket waits its share."""
        async with self._lock:
            self._refill()
            needed = max(1, segments)
            if self._tokens < needed:
                await asyncio.sleep((needed - self._tokens) / self.rate)
                self._refill()
            self._tokens -= needed
