"""The desk's notifier: applies stored Shopify webhooks, then sends the alerts they earn."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.notify import alerts, receipts
from bot.notify.assistant import Assistant, AssistantUnavailable
from bot.notify.deliver import queue_alert
from bot.notify.events import ShopifyEvent, UnexpectedPayload, parse_webhook
from bot.notify.record import needs_order, record_event
from bot.notify.wording import params, render, response_name, to_entities
from bot.oms.base import OrderSystemError
from bot.services import Services

log = logging.getLogger(__name__)

MAX_RETRY = 300.0  # seconds between tries when the order system is down


class Notifier:
    """One per desk; several desks can share a PostgreSQL database (claims skip locked rows)."""

    def __init__(
        self,
        services: Services,
        assistant: Assistant,
        lull: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.services, self.assistant = services, assistant
        # Shopify is waiting on the desk's acknowledgements; this is not urgent: each step
        # waits for a lull in the webhooks (bounded, so a steady stream cannot starve it).
        self._lull = lull or _no_wait
        self.window = services.settings.quiet_hours
        self._recovery_due: datetime | None = None  # sweep interrupted sends now, then per lease

    async def run(self, stop: asyncio.Event, idle: float = 0.25) -> None:
        """Apply webhooks and send alerts until `stop` is set; errors are logged, not fatal."""
        await asyncio.gather(
            self._loop(stop, idle, self.process_receipts), self._loop(stop, idle, self.send_due)
        )

    async def _loop(self, stop: asyncio.Event, idle: float, step) -> None:
        while not stop.is_set():
            try:
                busy = await step()
            except Exception:  # keep going; what failed stays in its table, visible
                log.exception("notifier error; carrying on")
                busy = False
            if not busy:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=idle)

    # --- webhooks -> notifications --------------------------------------------------

    async def process_receipts(self) -> bool:
        """Apply the stored webhooks that are due; False when there were none."""
        db, clock = self.services.db, self.services.clock
        if not await asyncio.to_thread(receipts.anything_due, db, clock):
            return False
        claimed = await asyncio.to_thread(receipts.claim_due, db, clock)
        for receipt in claimed:
            await self._lull()
            await self.process(receipt)
        return bool(claimed)

    async def process(self, receipt: receipts.Receipt) -> None:
        db, clock = self.services.db, self.services.clock
        try:
            event = parse_webhook(receipt.topic, json.loads(receipt.body))
        except (ValueError, UnexpectedPayload) as exc:
            log.warning("Shopify %s webhook %s ignored: %s", receipt.topic, receipt.id, exc)
            await asyncio.to_thread(self._finish, receipt.id, "ignored", f"unexpected: {exc}")
            return
        if event is None:
            await asyncio.to_thread(self._finish, receipt.id, "ignored", "topic not handled")
            return
        order = None
        if event.order_id and await asyncio.to_thread(self._needs_order, event):
            try:
                order = await asyncio.to_thread(self.services.oms.order_by_id, event.order_id)
            except OrderSystemError as exc:
                wait = min(MAX_RETRY, 2.0**receipt.attempts)
                at = clock.now() + timedelta(seconds=wait)
                await asyncio.to_thread(receipts.retry_later, db, receipt.id, str(exc), at)
                log.warning(
                    "Shopify webhook %s: order system failed (%s); retrying", receipt.id, exc
                )
                return
        await asyncio.to_thread(self._apply, receipt.id, event, order)

    def _apply(self, receipt_id: int, event, order) -> None:
        db, clock = self.services.db, self.services.clock
        with db.write() as session:
            outcomes = record_event(session, event, order, self.window, clock)
            summary = "; ".join(str(o) for o in outcomes) or "nothing to text"
            receipts.finish(session, receipt_id, "processed", summary[:2000], clock.now())
        for outcome in outcomes:
            log.info("Shopify %s: %s", event.topic, outcome)

    def _needs_order(self, event: ShopifyEvent) -> bool:
        with self.services.db.read() as session:
            return needs_order(session, event)

    def _finish(self, receipt_id: int, status: str, outcome: str) -> None:
        with self.services.db.write() as session:
            receipts.finish(session, receipt_id, status, outcome, self.services.clock.now())

    # --- notifications -> texts ------------------------------------------------------

    async def send_due(self) -> bool:
        """Hand the next due alert to the assistant; False when nothing was due."""
        db, clock = self.services.db, self.services.clock
        if self._recovery_due is None or clock.now() >= self._recovery_due:
            await asyncio.to_thread(alerts.recover_interrupted, db, clock)
            self._recovery_due = clock.now() + alerts.LEASE
        if not await asyncio.to_thread(alerts.anything_due, db, clock):
            return False
        await self._lull()
        claim = await asyncio.to_thread(alerts.claim_due, db, clock, self.window)
        if claim is None:
            return True  # something due was dropped or deferred; look again
        try:
            await self.assistant.trigger(claim.phone, to_entities(claim.alert, claim.id))
        except AssistantUnavailable as exc:
            await asyncio.to_thread(alerts.retry_later, db, claim, str(exc), clock)
            return True
        status, message_id = await asyncio.to_thread(alerts.status_of, db, claim.id)
        if message_id is None and status == "sending":
            await asyncio.to_thread(self._compose_here, claim)
        return True

    def _compose_here(self, claim: alerts.Claimed) -> None:
        """The assistant said nothing (its conversation is paused for an agent): say it anyway."""
        settings, clock = self.services.settings, self.services.clock
        name = response_name(claim.alert.kind, claim.alert.status)
        text = render(name, params(claim.alert, settings.store_name, clock.now()))
        hint = claim.alert.opt_out_hint
        if queue_alert(self.services.db, claim.id, claim.phone, text, clock, hint=hint):
            log.info("alert %s composed by the desk: the assistant did not answer it", claim.id)


async def _no_wait() -> None:
    return None
