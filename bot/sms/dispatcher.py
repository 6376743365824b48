"""The outbox dispatcher: claims due texts, checks consent and quiet hours, sends, records."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from bot.clock import Clock
from bot.config import SendingWindow
from bot.consent import ConsentState, consent_state, record_opt_out
from bot.phone import mask
from bot.sms import gsm
from bot.sms.gateway import (
    GatewayError,
    OutgoingSms,
    RecipientOptedOut,
    SendResult,
    SmsGateway,
    TransientGatewayError,
)
from bot.sms.pacing import Pacer
from bot.sms.quiet_hours import next_allowed
from bot.sms.status import apply_held_now
from bot.store import Database
from bot.store.models import Customer, Message, OutboxItem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """A snapshot of an outbox row this dispatcher now owns."""

    id: int
    message_id: int
    to_phone: str
    body: str
    media_urls: tuple[str, ...]
    purpose: str
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class Policy:
    """How hard to try: backoff between attempts and how long a text stays worth sending."""

    base_backoff: float = 2.0  # seconds before the first retry; doubles each time
    max_backoff: float = 300.0
    max_age: timedelta = timedelta(hours=4)  # then it fails, visibly
    lease: timedelta = timedelta(minutes=2)  # a claim older than this was interrupted


class Dispatcher:
    """One worker; several can share a PostgreSQL outbox (claims skip locked rows)."""

    def __init__(
        self,
        db: Database,
        gateway: SmsGateway,
        clock: Clock,
        *,
        pacer: Pacer,
        quiet_hours: SendingWindow | None,
        status_callback: str | None = None,
        worker: str = "dispatcher",
        policy: Policy | None = None,
        concurrency: int = 4,
    ) -> None:
        self.db, self.gateway, self.clock, self.pacer = db, gateway, clock, pacer
        self.quiet_hours = quiet_hours
        self.status_callback = status_callback
        self.worker = worker
        self.policy = policy or Policy()
        self.concurrency = max(1, concurrency)  # sends in flight: Twilio answers in ~100 ms

    async def run(self, stop: asyncio.Event, idle: float = 0.25) -> None:
        """Send until `stop` is set, with up to `concurrency` texts in flight (the pacer rules)."""
        workers = [self._work(stop, idle, sweeps=(n == 0)) for n in range(self.concurrency)]
        await asyncio.gather(*workers)

    async def _work(self, stop: asyncio.Event, idle: float, sweeps: bool) -> None:
        """One sending loop; errors are logged and it carries on."""
        recovery_due: datetime | None = None
        while not stop.is_set():
            try:
                if sweeps:
                    recovery_due = await self._recover_if_due(recovery_due)
                busy = await self.run_once()
            except Exception:  # keep dispatching; the row stays visible in the inbox
                log.exception("dispatcher error; retrying shortly")
                busy = False
            if not busy:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=idle)

    async def _recover_if_due(self, due: datetime | None) -> datetime:
        """Sweep interrupted sends at start-up, then once per lease (another worker may die)."""
        now = self.clock.now()
        if due is not None and now < due:
            return due
        await asyncio.to_thread(self.recover_interrupted)
        return now + self.policy.lease

    async def run_once(self) -> bool:
        """Claim and handle one due text; False when nothing was due.

        The first segment's slot is taken before claiming: a text claimed is sent at once,
        so a reply queued meanwhile is never stuck behind proactive texts already claimed.
        """
        await self.pacer.acquire(1)
        claim = await asyncio.to_thread(self._claim)
        if claim is None:
            self.pacer.refund(1)
            return False
        verdict = await asyncio.to_thread(self._check, claim)
        if verdict is not None:
            self.pacer.refund(1)
            return True
        await self._send(claim)
        return True

    # --- claiming -------------------------------------------------------------------

    def _claim(self) -> Claim | None:
        now = self.clock.now()
        if not self._anything_due(now):  # an idle poll never takes the write lock
            return None
        with self.db.write() as session:
            item = session.execute(
                select(OutboxItem)
                .where(OutboxItem.status == "queued", OutboxItem.due_at <= now)
                .where(~_ahead_for_same_phone(now).exists())
                .order_by(OutboxItem.priority, OutboxItem.due_at, OutboxItem.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).scalar_one_or_none()
            if item is None:
                return None
            item.status, item.claimed_by, item.claimed_at = "sending", self.worker, now
            item.attempts += 1
            return Claim(
                item.id,
                item.message_id,
                item.to_phone,
                item.body,
                tuple(item.media_urls or ()),
                item.purpose,
                item.attempts,
                item.created_at,
            )

    def _anything_due(self, now: datetime) -> bool:
        with self.db.read() as session:
            due = session.execute(
                select(OutboxItem.id)
                .where(OutboxItem.status == "queued", OutboxItem.due_at <= now)
                .limit(1)
            ).first()
        return due is not None

    def recover_interrupted(self) -> int:
        """Texts left 'sending' by a crash: Twilio may have them, so they are not resent.

        A duplicate text is worse than a missing one the inbox shows: such rows become
        'unknown' with an explanation, for an agent to check and resend by hand.
        """
        cutoff = self.clock.now() - self.policy.lease
        with self.db.write() as session:
            stale = list(
                session.execute(
                    select(OutboxItem).where(
                        OutboxItem.status == "sending", OutboxItem.claimed_at < cutoff
                    )
                ).scalars()
            )
            for item in stale:
                reason = "interrupted while sending: it may or may not have gone out"
                _finish(session, item, "unknown", message_status="unknown", error=reason)
        if stale:
            log.warning("%d text(s) were interrupted mid-send; marked unknown", len(stale))
        return len(stale)

    # --- checks at send time ----------------------------------------------------------

    def _check(self, claim: Claim) -> str | None:
        """None when the text may go now; otherwise what happened to it instead."""
        now = self.clock.now()
        with self.db.write() as session:
            item = session.get(OutboxItem, claim.id)
            if claim.purpose == "compliance":
                return None
            state = consent_state(session, claim.to_phone)
            if state is ConsentState.OPTED_OUT:
                _finish(session, item, "cancelled", "cancelled", error="recipient opted out")
                return "cancelled"
            if claim.purpose != "proactive":
                return None
            if state is not ConsentState.OPTED_IN:
                _finish(session, item, "cancelled", "cancelled", error="no consent to texts")
                return "cancelled"
            customer = session.execute(
                select(Customer).where(Customer.phone == claim.to_phone)
            ).scalar_one_or_none()
            tz, region = (customer.time_zone, customer.region) if customer else (None, None)
            opening = next_allowed(now, self.quiet_hours, tz, region, claim.to_phone)
            if opening is not None:
                item.status, item.due_at, item.attempts = "queued", opening, item.attempts - 1
                return "deferred"
        return None

    # --- sending ---------------------------------------------------------------------

    async def _send(self, claim: Claim) -> None:
        body = gsm.truncate(gsm.normalize(claim.body))
        segments = gsm.segments(body)
        if segments > 1:
            await self.pacer.acquire(segments - 1)  # the first was taken before the claim
        sms = OutgoingSms(claim.to_phone, body, claim.media_urls, self.status_callback)
        try:
            result = await self.gateway.send(sms)
        except GatewayError as exc:
            await asyncio.to_thread(self._failed, claim, exc)
            return
        await asyncio.to_thread(self._sent, claim, result, body, segments)

    def _sent(self, claim: Claim, result: SendResult, body: str, segments: int) -> None:
        now = self.clock.now()
        with self.db.write() as session:
            item = session.get(OutboxItem, claim.id)
            item.status, item.provider_sid, item.sent_at, item.last_error = (
                "sent",
                result.sid,
                now,
                None,
            )
            session.execute(
                update(Message)
                .where(Message.id == claim.message_id)
                .values(
                    status=result.status,
                    external_id=result.sid,
                    body=body,
                    segments=result.segments or segments,
                    updated_at=now,
                )
            )
        apply_held_now(self.db, result.sid, self.clock)  # after the commit: see record_status
        log.info("sent %s text %s to %s", claim.purpose, result.sid, mask(claim.to_phone))

    def _failed(self, claim: Claim, exc: GatewayError) -> None:
        now = self.clock.now()
        code = str(exc.code) if exc.code else None
        with self.db.write() as session:
            item = session.get(OutboxItem, claim.id)
            if isinstance(exc, RecipientOptedOut):
                record_opt_out(
                    session, claim.to_phone, "carrier", detail="Twilio 21610", clock=self.clock
                )
                _finish(session, item, "failed", "failed", error=str(exc), code=code)
            elif isinstance(exc, TransientGatewayError) and exc.maybe_sent:
                _finish(session, item, "unknown", "unknown", error=f"{exc} (not resent)", code=code)
            elif (
                isinstance(exc, TransientGatewayError)
                and now - claim.created_at < self.policy.max_age
            ):
                item.status, item.last_error = "queued", str(exc)
                item.due_at = now + timedelta(
                    seconds=self._backoff(claim.attempts, exc.retry_after)
                )
            else:
                _finish(session, item, "failed", "failed", error=str(exc), code=code)
        log.warning("text to %s: %s (%s)", mask(claim.to_phone), type(exc).__name__, exc.code)

    def _backoff(self, attempts: int, retry_after: float | None) -> float:
        """Exponential with full jitter, at least what the server asked for."""
        ceiling = min(self.policy.max_backoff, self.policy.base_backoff * 2 ** (attempts - 1))
        return max(retry_after or 0.0, random.uniform(ceiling / 2, ceiling))  # noqa: S311


def _ahead_for_same_phone(now: datetime):
    """A text to the same number that is being sent, or due and ahead in line.

    One number's texts go out one at a time, in order, however many workers send.
    """
    other = aliased(OutboxItem)
    ahead = (other.priority < OutboxItem.priority) | (
        (other.priority == OutboxItem.priority) & (other.id < OutboxItem.id)
    )
    due = (other.status == "queued") & (other.due_at <= now) & ahead
    return (
        select(other.id)
        .where(other.to_phone == OutboxItem.to_phone, other.id != OutboxItem.id)
        .where((other.status == "sending") | due)
    )


def _finish(
    session: Session,
    item: OutboxItem,
    status: str,
    message_status: str,
    *,
    error: str,
    code: str | None = None,
) -> None:
    item.status, item.last_error = status, error
    session.execute(
        update(Message)
        .where(Message.id == item.message_id)
        .values(status=message_status, error_code=code, error_message=error)
    )
