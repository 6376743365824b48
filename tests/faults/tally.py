"""Counting a fault run end to end: what went in, what Pigeon stored, what Twilio received.

Every scenario ends the same way: wait until Pigeon has nothing left to do, count from the
database (messages, outbox, consent ledger, webhook receipts) and from the fake Twilio's
received messages, write the counts to `results/faults/<scenario>.json` for the bench
report, and check the invariants in one place (`assert_invariants`).

A text Twilio received is matched to the outbox row that sent it by its SID; one Twilio
received but Pigeon never recorded (the crash between Twilio's answer and Pigeon's commit)
counts as `unrecorded`, allowed only for a row Pigeon marked `unknown`. Duplicates are read
from Twilio's side alone: the same body to the same number more than once (each scenario
makes every text it expects distinct), so a resend and a turn answered twice both show.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.store import Database
from bot.store.models import (
    ConsentEvent,
    Conversation,
    Customer,
    Message,
    Notification,
    OutboxItem,
    WebhookReceipt,
)
from tests.fakes.twilio import FakeTwilio, SentMessage

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results" / "faults"
PENDING_OUTBOX = ("queued", "sending")
PENDING_NOTIFICATIONS = ("queued", "sending")
ANSWERED = ("handled", "keyword")


@dataclass
class Counts:
    """One scenario's end-to-end numbers (all limited to the scenario's phone numbers)."""

    scenario: str
    inbound_posted: int = 0  # distinct MessageSids the test (playing Twilio) got a 200 for
    inbound_stored: int = 0
    inbound_answered: int = 0  # handled or keyword, and a text to that number queued after it
    inbound_held: int = 0  # from an opted-out number: kept, never answered (by design)
    inbound_answer_unknown: int = 0  # its answer's fate is unknown (a crash mid-send)
    inbound_unanswered: int = 0
    outbound_sent: int = 0  # texts Twilio accepted
    outbound_unrecorded: int = 0  # accepted by Twilio, no outbox row holds its SID
    duplicates: int = 0
    to_opted_out: int = 0  # non-compliance texts sent after the number opted out
    outbox: dict[str, int] = field(default_factory=dict)  # rows by status
    notifications: dict[str, int] = field(default_factory=dict)  # rows by status
    webhooks_unprocessed: int = 0
    twilio_attempts: int = 0  # every POST to Messages.json, refused ones included
    seconds: float = 0.0
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def pending(self) -> int:
        waiting = sum(self.outbox.get(s, 0) for s in PENDING_OUTBOX)
        return waiting + sum(self.notifications.get(s, 0) for s in PENDING_NOTIFICATIONS)


def count(
    scenario: str,
    db: Database,
    fake: FakeTwilio,
    phones: Iterable[str],
    inbound_sids: Iterable[str] = (),
    attempts_from: int = 0,
) -> Counts:
    """The counts for `phones` now; `inbound_sids` are the texts the test posted;
    `attempts_from` is Twilio's attempt count when the scenario began."""
    phones, sids = set(phones), set(inbound_sids)
    texts = [m for m in fake.messages if m.to in phones]
    with db.read() as session:
        rows = list(
            session.execute(select(OutboxItem).where(OutboxItem.to_phone.in_(phones))).scalars()
        )
        inbound = list(
            session.execute(
                select(Message, Customer.phone)
                .join(Conversation, Message.conversation_id == Conversation.id)
                .join(Customer, Conversation.customer_id == Customer.id)
                .where(Message.direction == "in", Message.external_id.in_(sids))
            ).all()
        )
        ledger = list(
            session.execute(
                select(ConsentEvent).where(ConsentEvent.phone.in_(phones)).order_by(ConsentEvent.id)
            ).scalars()
        )
        notes = list(
            session.execute(
                select(Notification.status).where(Notification.phone.in_(phones))
            ).scalars()
        )
        unprocessed = session.scalar(
            select(WebhookReceipt.id)
            .where(WebhookReceipt.processed_at.is_(None), WebhookReceipt.status == "received")
            .limit(1)
        )
        session.expunge_all()
    counts = Counts(scenario, inbound_posted=len(sids))
    counts.twilio_attempts = fake.attempts - attempts_from
    counts.inbound_stored = len({m.external_id for m, _ in inbound})
    _count_inbound(counts, inbound, texts, rows)
    _count_outbound(counts, texts, rows, ledger)
    counts.outbox = dict(Counter(r.status for r in rows))
    counts.notifications = dict(Counter(notes))
    counts.webhooks_unprocessed = int(unprocessed is not None)
    return counts


def _count_inbound(
    counts: Counts,
    inbound: list[tuple[Message, str]],
    texts: list[SentMessage],
    rows: list[OutboxItem],
) -> None:
    by_sid = {r.provider_sid: r for r in rows if r.provider_sid}
    for message, phone in {m.external_id: (m, p) for m, p in inbound}.values():
        if message.status == "held":
            counts.inbound_held += 1
            continue
        answered = any(
            by_sid.get(t.sid) is not None and by_sid[t.sid].created_at >= message.created_at
            for t in texts
            if t.to == phone
        )
        unknown = any(
            r.status == "unknown" and r.to_phone == phone and r.created_at >= message.created_at
            for r in rows
        )
        if message.status in ANSWERED and answered:
            counts.inbound_answered += 1
        elif message.status in ANSWERED and unknown:
            counts.inbound_answer_unknown += 1
        else:
            counts.inbound_unanswered += 1


def _count_outbound(
    counts: Counts, texts: list[SentMessage], rows: list[OutboxItem], ledger: list[ConsentEvent]
) -> None:
    counts.outbound_sent = len(texts)
    recorded = {r.provider_sid: r for r in rows if r.provider_sid}
    counts.outbound_unrecorded = sum(1 for t in texts if t.sid not in recorded)
    received = Counter((t.to, t.body) for t in texts)
    counts.duplicates = sum(n - 1 for n in received.values() if n > 1)
    for text in texts:
        row = recorded.get(text.sid)
        if row is not None and row.purpose == "compliance":
            continue  # the one confirmation a STOP earns
        checked_at = row.claimed_at if row is not None else text.received_at
        if _opted_out_at(ledger, text.to, checked_at):
            counts.to_opted_out += 1


def _opted_out_at(ledger: list[ConsentEvent], phone: str, moment: datetime | None) -> bool:
    """True when the ledger's latest entry for `phone` before `moment` is an opt-out."""
    if moment is None:
        return False
    state = None
    for event in ledger:
        if event.phone == phone and event.recorded_at <= moment:
            state = event.action
    return state == "opt_out"


def assert_invariants(counts: Counts, *, may_be_unknown: int = 0) -> None:
    """Nothing lost, nothing repeated, nothing to an opted-out number; then the JSON.

    `may_be_unknown`: texts a crash left mid-send, which Pigeon marks unknown and never
    resends (the documented choice: at most once).
    """
    write(counts)
    summary = json.dumps(asdict(counts), default=str, indent=1)
    assert counts.inbound_stored == counts.inbound_posted, summary
    assert counts.inbound_unanswered == 0, summary
    settled = counts.inbound_answered + counts.inbound_answer_unknown + counts.inbound_held
    assert settled == counts.inbound_stored, summary
    assert counts.inbound_answer_unknown <= may_be_unknown, summary
    assert counts.duplicates == 0, summary
    assert counts.to_opted_out == 0, summary
    assert counts.pending == 0, summary
    assert counts.webhooks_unprocessed == 0, summary
    unknown = counts.outbox.get("unknown", 0)
    assert unknown <= may_be_unknown, summary
    assert counts.outbound_unrecorded <= unknown, summary


def write(counts: Counts) -> Path:
    """results/faults/<scenario>.json, for `make bench` to include."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{counts.scenario}.json"
    path.write_text(json.dumps(asdict(counts), default=str, indent=2) + "\n")
    return path


async def settle(
    scenario: str,
    db: Database,
    fake: FakeTwilio,
    phones: Iterable[str],
    inbound_sids: Iterable[str] = (),
    *,
    timeout: float = 240,
    done=None,
    attempts_from: int = 0,
) -> Counts:
    """Wait until nothing is left to do for `phones` (and `done(counts)` holds), then count.

    Nothing left: every posted text stored and out of 'received', no outbox row or
    notification waiting, every webhook applied, and Twilio's count unchanged since the
    previous look (a text being handed over is counted once it lands).
    """
    phones, sids = set(phones), set(inbound_sids)
    deadline = time.monotonic() + timeout
    previous = -1
    counts = Counts(scenario)
    while time.monotonic() < deadline:
        counts = await asyncio.to_thread(count, scenario, db, fake, phones, sids, attempts_from)
        quiet = (
            counts.inbound_stored == counts.inbound_posted
            and counts.inbound_unanswered == 0
            and counts.pending == 0
            and counts.webhooks_unprocessed == 0
        )
        if quiet and counts.outbound_sent == previous and (done is None or done(counts)):
            return counts
        previous = counts.outbound_sent if quiet else -1
        await asyncio.sleep(1.5)
    write(counts)
    pytest.fail(f"{scenario}: Pigeon did not settle in {timeout:g} s: {asdict(counts)}")
