"""Inbound texts land here first: one row per MessageSid, written in small group commits.

Twilio must hear back fast, and a text must be stored before it does. Storing the raw
text is one INSERT; a burst of texts shares one transaction (a group commit), so a
hundred texts arriving at once are all stored and acknowledged within milliseconds. The
slower work (customer, thread, keywords, the assistant) runs after the acknowledgement.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from bot.clock import Clock
from bot.sms.inbound import InboundSms
from bot.store import Database
from bot.store.models import WebhookReceipt

SOURCE = "twilio_sms"
MAX_BATCH = 200

OnStored = Callable[[InboundSms, int], None]


# Built once: a burst stores its texts in a few milliseconds, and building statements per
# batch would cost more than running them.
_RECEIPTS = WebhookReceipt.__table__
_KNOWN = select(_RECEIPTS.c.external_id, _RECEIPTS.c.id).where(
    _RECEIPTS.c.source == SOURCE,
    _RECEIPTS.c.external_id.in_(bindparam("sids", expanding=True)),
)
_INSERT = {
    name: dialect.insert(_RECEIPTS).on_conflict_do_nothing(index_elements=["source", "external_id"])
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def insert_receipts(db: Database, texts: Sequence[InboundSms], clock: Clock) -> list[int | None]:
    """Store each text once (by MessageSid); the new row's id, or None for a repeat."""
    insert = _INSERT["postgresql" if db.url.get_backend_name() == "postgresql" else "sqlite"]
    with db.write() as session:
        conn = session.connection()
        known = _receipt_ids(conn, [sms.sid for sms in texts])
        fresh: dict[str, InboundSms] = {}
        for sms in texts:
            if sms.sid not in known:
                fresh.setdefault(sms.sid, sms)
        if fresh:
            now = clock.now()
            # A concurrent writer's row wins; the inbox dedupes.
            conn.execute(insert, [_row(sms, now) for sms in fresh.values()])
        created = _receipt_ids(conn, list(fresh))
    ids: list[int | None] = []
    for sms in texts:  # the same sid twice in one batch: only the first is new
        ids.append(created.pop(sms.sid, None))
    return ids


def _row(sms: InboundSms, now: datetime) -> dict:
    return {
        "source": SOURCE,
        "external_id": sms.sid,
        "topic": "inbound",
        "payload": json.dumps(asdict(sms)),
        "status": "received",
        "received_at": now,
    }


def _receipt_ids(conn: Connection, sids: Sequence[str]) -> dict[str, int]:
    if not sids:
        return {}
    return dict(conn.execute(_KNOWN, {"sids": list(sids)}).all())


def unprocessed(db: Database) -> list[tuple[InboundSms, int]]:
    """Texts stored but not yet sorted (the server stopped right after acknowledging)."""
    with db.read() as session:
        rows = session.execute(
            select(WebhookReceipt.id, WebhookReceipt.payload)
            .where(WebhookReceipt.source == SOURCE, WebhookReceipt.processed_at.is_(None))
            .order_by(WebhookReceipt.id)
        ).all()
    return [(_from_payload(payload), rid) for rid, payload in rows]


def _from_payload(payload: str) -> InboundSms:
    data = json.loads(payload)
    data["media"] = tuple(data.get("media") or ())
    return InboundSms(**data)


class ReceiptWriter:
    """Batches concurrent `store` calls into one transaction each time the database is free.

    A batch waits until texts stop arriving for `linger` seconds (at most `max_linger`):
    while a burst is being read off the network the loop is busy, and a writer thread
    running meanwhile would fight it for the GIL, slowing both. Once the burst has been
    read, one transaction stores it all.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        on_stored: OnStored,
        *,
        linger: float = 0.002,
        max_linger: float = 0.02,
    ) -> None:
        self.db, self.clock, self.on_stored = db, clock, on_stored
        self.linger, self.max_linger = linger, max_linger
        self._last_arrival = 0.0
        self._pending: list[tuple[InboundSms, asyncio.Future]] = []
        self._writing: asyncio.Task | None = None
        # Its own thread: an acknowledgement never queues behind other blocking work.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sms-receipts")

    async def store(self, sms: InboundSms) -> bool:
        """Store the text durably; True when it is new (False: Twilio sent it before)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((sms, future))
        self._last_arrival = loop.time()
        if self._writing is None or self._writing.done():
            self._writing = asyncio.ensure_future(self._drain())
        return await asyncio.shield(future)

    async def _gather(self) -> None:
        """Wait for a pause in arrivals (bounded by `max_linger`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_linger
        while (now := loop.time()) < deadline:
            wait = self._last_arrival + self.linger - now
            if wait <= 0:
                return
            await asyncio.sleep(min(wait, deadline - now))

    async def _drain(self) -> None:
        while self._pending:
            await self._gather()
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            texts = [sms for sms, _ in batch]
            try:
                loop = asyncio.get_running_loop()
                ids = await loop.run_in_executor(
                    self._thread, insert_receipts, self.db, texts, self.clock
                )
            except Exception as exc:  # the webhook answers 5xx and Twilio tries again
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for (_, future), receipt_id in zip(batch, ids, strict=True):
                future.set_result(receipt_id is not None)  # the acknowledgements go first
            for (sms, _), receipt_id in zip(batch, ids, strict=True):
                if receipt_id is not None:
                    self.on_stored(sms, receipt_id)  # queued in arrival order
