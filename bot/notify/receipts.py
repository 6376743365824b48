"""Shopify webhooks land here first: one row per X-Shopify-Webhook-Id, processed after.

Shopify waits five seconds for an answer, so the desk stores the raw body and answers
at once; a worker parses and applies it afterwards. A receipt is claimed with a lease
(its retry time pushed forward), so a desk that dies mid-way leaves it for another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.store import Database
from bot.store.models import WebhookReceipt

SOURCE = "shopify"
LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Webhook:
    """A Shopify webhook as received, before anything reads its body."""

    webhook_id: str
    topic: str
    body: str


@dataclass(frozen=True)
class Receipt:
    id: int
    topic: str
    body: str
    attempts: int


def insert_webhooks(db: Database, hooks: Sequence[Webhook], clock: Clock) -> list[bool]:
    """Store each webhook once; True where it is new, False for a repeat Shopify sent."""
    dialect = postgresql if db.url.get_backend_name() == "postgresql" else sqlite
    ids = list(dict.fromkeys(h.webhook_id for h in hooks))
    with db.write() as session:
        known = set(_existing(session, ids))
        fresh: dict[str, Webhook] = {}
        for hook in hooks:
            if hook.webhook_id not in known:
                fresh.setdefault(hook.webhook_id, hook)
        if fresh:
            now = clock.now()
            rows = [
                {
                    "source": SOURCE,
                    "external_id": h.webhook_id,
                    "topic": h.topic,
                    "payload": h.body,
                    "status": "received",
                    "attempts": 0,
                    "received_at": now,
                }
                for h in fresh.values()
            ]
            insert = dialect.insert(WebhookReceipt).on_conflict_do_nothing(
                index_elements=["source", "external_id"]
            )
            session.execute(insert, rows)
    first_seen: set[str] = set()
    result = []
    for hook in hooks:  # the same id twice in one batch: only the first is new
        new = hook.webhook_id in fresh and hook.webhook_id not in first_seen
        first_seen.add(hook.webhook_id)
        result.append(new)
    return result


def _existing(session: Session, ids: Sequence[str]) -> list[str]:
    if not ids:
        return []
    query = select(WebhookReceipt.external_id).where(
        WebhookReceipt.source == SOURCE, WebhookReceipt.external_id.in_(ids)
    )
    return list(session.execute(query).scalars())


def claim_due(db: Database, clock: Clock, limit: int = 50) -> list[Receipt]:
    """Unprocessed receipts whose time has come, oldest first, leased to this worker."""
    now = clock.now()
    with db.write() as session:
        rows = list(
            session.execute(
                select(WebhookReceipt)
                .where(WebhookReceipt.source == SOURCE, WebhookReceipt.processed_at.is_(None))
                .where(or_(WebhookReceipt.retry_at.is_(None), WebhookReceipt.retry_at <= now))
                .order_by(WebhookReceipt.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).scalars()
        )
        for row in rows:
            row.retry_at, row.attempts = now + LEASE, row.attempts + 1
        return [Receipt(r.id, r.topic or "", r.payload or "", r.attempts) for r in rows]


def anything_due(db: Database, clock: Clock) -> bool:
    """A read-only look, so an idle worker never takes the write lock."""
    now = clock.now()
    with db.read() as session:
        row = session.execute(
            select(WebhookReceipt.id)
            .where(WebhookReceipt.source == SOURCE, WebhookReceipt.processed_at.is_(None))
            .where(or_(WebhookReceipt.retry_at.is_(None), WebhookReceipt.retry_at <= now))
            .limit(1)
        ).first()
    return row is not None


def finish(
    session: Session, receipt_id: int, status: str, outcome: str | None, now: datetime
) -> None:
    """Mark a receipt done (processed or ignored), in the transaction that applied it."""
    session.execute(
        update(WebhookReceipt)
        .where(WebhookReceipt.id == receipt_id)
        .values(status=status, outcome=outcome, error=None, processed_at=now, retry_at=None)
    )


def retry_later(db: Database, receipt_id: int, error: str, at: datetime) -> None:
    """Processing failed for a reason that passes (the order system is down): try again."""
    with db.write() as session:
        session.execute(
            update(WebhookReceipt)
            .where(WebhookReceipt.id == receipt_id)
            .values(status="retrying", error=error[:500], retry_at=at)
        )


def backlog(db: Database) -> int:
    """Receipts not processed yet (for health checks and the benchmark)."""
    with db.read() as session:
        return session.execute(
            select(func.count(WebhookReceipt.id)).where(
                WebhookReceipt.source == SOURCE, WebhookReceipt.processed_at.is_(None)
            )
        ).scalar_one()
