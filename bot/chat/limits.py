"""How fast anonymous visitors may use the chat: a sliding window per key, in memory.

The chat is open to anyone on the store's site, so a script could fill the inbox with
"Web visitor" threads or keep the assistant busy. Limits are per Rasa process (several
servers multiply them), generous for a person and tight for a script.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

MESSAGES_PER_MINUTE = 20  # per visitor: a person types far slower
SESSIONS_PER_10_MINUTES = 60  # per address: shoppers behind one office or mobile NAT share it
MAX_KEYS = 50_000  # keys remembered at once; the oldest are forgotten first


@dataclass
class Window:
    """At most `limit` events per `seconds` for each key."""

    limit: int
    seconds: float
    now: Callable[[], float] = time.monotonic
    _seen: dict[str, deque[float]] = field(default_factory=dict)

    def allow(self, key: str) -> float:
        """Record an event for `key`; 0 when allowed, else the seconds until one would be."""
        now = self.now()
        events = self._seen.pop(key, None) or deque()
        while events and events[0] <= now - self.seconds:
            events.popleft()
        self._seen[key] = events  # re-inserted: the dict's order is least recently used first
        if len(events) >= self.limit:
            return max(events[0] + self.seconds - now, 0.001)
        events.append(now)
        if len(self._seen) > MAX_KEYS:
            del self._seen[next(iter(self._seen))]
        return 0.0


def message_window() -> Window:
    return Window(MESSAGES_PER_MINUTE, 60)


def session_window() -> Window:
    return Window(SESSIONS_PER_10_MINUTES, 600)
