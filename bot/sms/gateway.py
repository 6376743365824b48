"""The SMS gateway seam: what the outbox dispatcher needs from whoever delivers texts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutgoingSms:
    to: str  # E.164
    body: str
    media_urls: tuple[str, ...] = ()
    status_callback: str | None = None


@dataclass(frozen=True)
class SendResult:
    sid: str  # the provider's message id (a Twilio SID, "SM...")
    status: str  # queued, accepted, sent, delivered ...
    segments: int | None = None  # None until the provider knows (Messaging Services say 0)


class GatewayError(Exception):
    """The gateway refused or failed a send; the message is safe to log (no body, no number)."""

    def __init__(
        self, message: str, *, code: int | None = None, http_status: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class TransientGatewayError(GatewayError):
    """Worth retrying with backoff: throttling, a provider outage, a timeout, a lost connection.

    A timeout or a dropped connection may come after the provider accepted the text
    (`maybe_sent`), so a retry could deliver it twice; the dispatcher does not retry those.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(message, code=code, http_status=http_status)
        self.retry_after = retry_after  # seconds the server asked us to wait, if it said
        self.maybe_sent = maybe_sent  # the request may have reached the provider


class RecipientOptedOut(GatewayError):
    """The recipient replied STOP to this sender (Twilio 21610): never retry, record the opt-out."""


class PermanentGatewayError(GatewayError):
    """The same request will fail again (bad number, region, credentials): mark it failed."""


class SmsGateway(Protocol):
    async def send(self, sms: OutgoingSms) -> SendResult:
        """Hand one text to the provider; raise a GatewayError subclass when it is not taken."""

    async def close(self) -> None:
        """Release the gateway's connections."""
