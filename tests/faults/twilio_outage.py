"""The fake Twilio with an outage that starts at the first send after it is armed.

A window that starts when the test arms it may close before any reply is ready on a busy
machine, and then proves nothing; this one starts with the first send it refuses: HTTP 500
for the first part, then 429 (Twilio's 20429, with Retry-After) for the rest.
"""

from __future__ import annotations

import time

from aiohttp import web

from tests.fakes.twilio import FakeTwilio


class OutageTwilio(FakeTwilio):
    """`fake.outage(server_errors=5, throttled=5)`: the next send starts the outage."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._outage: tuple[float, float] | None = None
        self.outage_started: float | None = None
        self.refused = 0  # sends refused by the outage

    def outage(self, server_errors: float, throttled: float) -> None:
        self._outage = (server_errors, throttled)
        self.outage_started = None

    @property
    def in_outage(self) -> bool:
        if self._outage is None or self.outage_started is None:
            return self._outage is not None
        return time.monotonic() - self.outage_started < sum(self._outage)

    def _programmed_failure(self) -> web.Response | None:
        if self._outage is not None:
            now = time.monotonic()
            if self.outage_started is None:
                self.outage_started = now
            server_errors, throttled = self._outage
            elapsed = now - self.outage_started
            if elapsed < server_errors:
                self.fail_for(server_errors - elapsed, status=500)
            elif elapsed < server_errors + throttled:
                self.fail_for(server_errors + throttled - elapsed, status=429, retry_after=1)
            else:
                self._outage = None
        refusal = super()._programmed_failure()
        if refusal is not None:
            self.refused += 1
        return refusal
