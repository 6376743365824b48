"""The email sender: claims due emails from the outbox, sends them by SMTP, records the outcome.

Like the SMS dispatcher (bot.sms.dispatcher): a claim is a row lock skipped by other
workers on PostgreSQL; transient failures (no connection, an SMTP 4xx) are retried with
exponential backoff and jitter until the email is `max_age` old, then it fails visibly;
an SMTP 5xx fails at once. An email whose fate is unknown is never sent again: one left
'sending' by a crash, or whose connection broke after the data went, becomes 'unknown'
in the inbox for a person to check. A duplicate email is worse than one a person can see
did not go out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.customers import mask_email
from bot.email.compose import build_message
from bot.email.smtp import EmailSendError, EmailTransport, TransientEmailError
from bot.store import Database
from bot.store.models import EmailOutboxItem, Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """A snapshot of an email outbox row this sender now owns."""

    id: int
    message_id: int
    to_address: str
    subject: str
    body_text: str
    body_html: str | None
    headers: dict[str, str]
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class Policy:
    base_backoff: float = 30.0  # seconds before the first retry; doubles each time
    max_backoff: float = 1800.0
    max_age: timedelta = timedelta(hours=24)  # then it fails, visibly
    lease: timedelta = timedelta(minutes=5)  # a claim older than this was interrupted


class EmailSender:
    """One worker, one email at a time: a support desk's email is not a mailing list."""

    def __init__(
        self,
        db: Database,
        transport: EmailTransport,
        clock: Clock,
        *,
        sender: str,
        policy: Policy | None = None,
    ) -> None:
        self.db, self.transport, self.clock, self.sender = db, transport, clock, sender
        self.policy = policy or Policy()

    async def run(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        """Send until `stop` is set; errors are logged and it carries on."""
        recovery_due: datetime | None = None
        while not stop.is_set():
            try:
                now = self.clock.now()
                if recovery_due is None or now >= recovery_due:
                    await asyncio.to_thread(self.recover_interrupted)
                    recovery_due = now + self.policy.lease
                busy = await self.run_once()
            except Exception:  # keep sending; the row stays visible in the inbox
                log.exception("email sender error; retrying shortly")
                busy = False
            if not busy:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=idle)

    async def run_once(self) -> bool:
        """Claim and send one due email; False when nothing was due."""
        claim = await asyncio.to_thread(self._claim)
        if claim is None:
            return False
        message = build_message(
            sender=self.sender,
            to=claim.to_address,
            subject=claim.subject,
            text=claim.body_text,
            html_body=claim.body_html,
            headers=claim.headers,
            date=self.clock.now(),
        )
        try:
            await asyncio.to_thread(self.transport.send, message)
        except EmailSendError as exc:
            await asyncio.to_thread(self._failed, claim, exc)
            return True
        await asyncio.to_thread(self._sent, claim)
        return True

    def _claim(self) -> Claim | None:
        now = self.clock.now()
        if not self._anything_due(now):  # an idle poll never takes the write lock
            return None
        with self.db.write() as session:
            item = session.execute(
                select(EmailOutboxItem)
                .where(EmailOutboxItem.status == "queued", EmailOutboxItem.due_at <= now)
                .order_by(EmailOutboxItem.due_at, EmailOutboxItem.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).scalar_one_or_none()
            if item is None:
                return None
            item.status, item.claimed_at = "sending", now
            item.attempts += 1
            return Claim(
                item.id,
                item.message_id,
                item.to_address,
                item.subject,
                item.body_text,
                item.body_html,
                dict(item.headers or {}),
                item.attempts,
                item.created_at,
            )

    def _anything_due(self, now: datetime) -> bool:
        with self.db.read() as session:
            due = session.execute(
                select(EmailOutboxItem.id)
                .where(EmailOutboxItem.status == "queued", EmailOutboxItem.due_at <= now)
                .limit(1)
            ).first()
        return due is not None

    def recover_interrupted(self) -> int:
        """Emails left 'sending' by a crash: the server may have them, so they are not resent.

        They become 'unknown' with an explanation, for an agent to check and resend by hand.
        """
        cutoff = self.clock.now() - self.policy.lease
        with self.db.write() as session:
            stale = list(
                session.execute(
                    select(EmailOutboxItem).where(
                        EmailOutboxItem.status == "sending", EmailOutboxItem.claimed_at < cutoff
                    )
                ).scalars()
            )
            for item in stale:
                reason = "interrupted while sending: it may or may not have gone out"
                _finish(session, item, "unknown", reason)
        if stale:
            log.warning("%d email(s) were interrupted mid-send; marked unknown", len(stale))
        return len(stale)

    def _sent(self, claim: Claim) -> None:
        now = self.clock.now()
        with self.db.write() as session:
            item = session.get(EmailOutboxItem, claim.id)
            item.status, item.sent_at, item.last_error = "sent", now, None
            session.execute(
                update(Message)
                .where(Message.id == claim.message_id)
                .values(status="sent", error_code=None, error_message=None, updated_at=now)
            )
        log.info("email %d sent to %s", claim.message_id, mask_email(claim.to_address))

    def _failed(self, claim: Claim, exc: EmailSendError) -> None:
        now = self.clock.now()
        transient = isinstance(exc, TransientEmailError)
        with self.db.write() as session:
            item = session.get(EmailOutboxItem, claim.id)
            if transient and exc.maybe_sent:
                _finish(session, item, "unknown", f"{exc} (may have gone out; not resent)")
                outcome = "marked unknown"
            elif transient and now - claim.created_at < self.policy.max_age:
                item.status, item.last_error = "queued", str(exc)
                item.due_at = now + timedelta(seconds=self._backoff(claim.attempts))
                outcome = f"retry at {item.due_at:%H:%M:%S}"
            else:
                _finish(session, item, "failed", str(exc), exc.code)
                outcome = "failed"
        log.warning(
            "email %d to %s: %s (%s); %s",
            claim.message_id,
            mask_email(claim.to_address),
            type(exc).__name__,
            exc.code or "no SMTP code",
            outcome,
        )

    def _backoff(self, attempts: int) -> float:
        """Exponential with jitter: somewhere in the upper half of the doubled delay."""
        ceiling = min(self.policy.max_backoff, self.policy.base_backoff * 2 ** (attempts - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311


def _finish(
    session: Session, item: EmailOutboxItem, status: str, error: str, code: int | None = None
) -> None:
    item.status, item.last_error = status, error
    session.execute(
        update(Message)
        .where(Message.id == item.message_id)
        .values(status=status, error_code=str(code) if code else None, error_message=error)
    )
