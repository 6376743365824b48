"""Benchmark 2: the dispatcher sends 300 queued texts at TWILIO_MPS=10, replies first.

The real Dispatcher and TwilioGateway against the fake Twilio: 250 proactive texts to
opted-in numbers are queued, the dispatcher starts, and a little later 50 replies arrive.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import plots
from bench.burst import numbers
from bench.loops import fake_twilio
from bench.report import Figure, Goal, Section, Table, progress
from bench.stack import bench_settings, dispatching, prepare_database
from bot.clock import SystemClock
from bot.consent import record_opt_in
from bot.inbox import customer_for_phone, thread_for
from bot.outbox import enqueue
from bot.store import Database
from tests.fakes.twilio import SentMessage

MPS = 10
PROACTIVE, REPLIES = 250, 50
REPLIES_AFTER = 2.0  # seconds after the dispatcher starts
TOLERANCE = 0.05
BURST = max(1, MPS)  # the Pacer's bucket: this many go at once, then MPS per second
PROACTIVE_BODY = "Pigeon Supply Co.: your order #1001 has shipped. Reply STOP to opt out."
REPLY_BODY = "Your order #1001 is on its way and should arrive Thursday."

METHOD = f"""\
`Dispatcher` with `TwilioGateway` at the fake Twilio and `Pacer({MPS})` (`TWILIO_MPS={MPS}`),
on SQLite. {PROACTIVE} proactive texts to opted-in numbers are queued; the dispatcher starts;
{REPLIES_AFTER:g} s later {REPLIES} replies are queued in one transaction. Times are the fake's
`received_at`. The pacer is a token bucket holding one second's worth ({BURST} texts), so
the first {BURST} go out at once: the steady rate is measured from text {BURST + 1} to the
last, as (texts - 1) / (last - first)."""


@dataclass(frozen=True)
class Run:
    sent: list[SentMessage]  # in the order Twilio received them
    replies: frozenset[str]  # the numbers that got replies
    proactive_queued_at: float
    replies_queued_at: float


async def run(logs: Path) -> Section:
    progress(f"pacing: {PROACTIVE + REPLIES} texts at {MPS}/s (about 30 s)")
    with tempfile.TemporaryDirectory(prefix="pigeon-bench-") as tmp:
        async with fake_twilio() as fake:
            settings = bench_settings(Path(tmp), fake.url, mps=MPS)
            db = Database(settings.database_url)
            await asyncio.to_thread(prepare_database, db, demo=False)
            proactive, replies = numbers(312, 5000, PROACTIVE), numbers(415, 5000, REPLIES)
            proactive_at = await asyncio.to_thread(_queue, db, proactive, "proactive")
            async with dispatching(db, settings, MPS):
                await asyncio.sleep(REPLIES_AFTER)
                replies_at = await asyncio.to_thread(_queue, db, replies, "reply")
                deadline = time.monotonic() + (PROACTIVE + REPLIES) / MPS + 30
                while len(fake.messages) < PROACTIVE + REPLIES and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
            db.dispose()
            sent = sorted(fake.messages, key=lambda m: m.received_at)
    return section(Run(sent, frozenset(replies), proactive_at, replies_at))


def _queue(db: Database, phones: Sequence[str], purpose: str) -> float:
    """Queue one text per phone in one transaction; returns when it committed (wall clock)."""
    clock = SystemClock()
    with db.write() as session:
        for phone in phones:
            customer = customer_for_phone(session, phone)
            if purpose == "proactive":
                record_opt_in(session, phone, "web", disclosure="SMS updates, STOP to end")
            conversation = thread_for(session, customer, "sms", clock, reopen=False)
            body = PROACTIVE_BODY if purpose == "proactive" else REPLY_BODY
            enqueue(session, conversation, body, purpose, to_phone=phone, clock=clock)
    return time.time()


def section(run: Run) -> Section:
    times = [m.received_at.timestamp() for m in run.sent]
    steady = times[BURST:]
    rate = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 else 0.0
    overall = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    reply_times = [t for t, m in zip(times, run.sent, strict=True) if m.to in run.replies]
    proactive_times = [t for t, m in zip(times, run.sent, strict=True) if m.to not in run.replies]
    reply_waits = [t - run.replies_queued_at for t in reply_times]
    proactive_waits = [t - run.proactive_queued_at for t in proactive_times]
    last_reply = max(reply_times, default=float("nan"))
    waiting = sum(1 for t in proactive_times if t > run.replies_queued_at)
    # One proactive text may already be claimed and waiting for the pacer when replies arrive.
    cut_in = sum(1 for t in proactive_times if run.replies_queued_at < t < last_reply)
    overtook = len(reply_times) == REPLIES and cut_in <= 1
    rows = [
        ("texts at Twilio", f"{len(run.sent)}/{PROACTIVE + REPLIES}"),
        (f"steady-state rate (texts {BURST + 1}-{len(times)})", f"{rate:.2f}/s"),
        ("overall rate, first to last text", f"{overall:.2f}/s"),
        ("replies: queued -> Twilio, median / max", _waits(reply_waits)),
        ("proactive: queued -> Twilio, median / max", _waits(proactive_waits)),
        ("proactive still waiting when the replies were queued", str(waiting)),
        ("proactive sent after the replies were queued, before the last reply", str(cut_in)),
        ("replies sent before the remaining proactive", "yes" if overtook else "no"),
    ]
    deviation = abs(rate - MPS) / MPS
    goals = [
        Goal(
            f"{MPS}/s within {TOLERANCE:.0%}",
            f"{rate:.2f}/s ({deviation:.1%} off)",
            deviation <= TOLERANCE,
        ),
        Goal(
            "replies overtake the queued proactive texts",
            f"{cut_in} proactive sent between the replies' queueing and the last reply",
            overtook,
        ),
    ]
    figure = Figure(
        "bench-pacing.png",
        "Texts reaching Twilio over time",
        lambda path: plots.pacing(path, reply_times, proactive_times, run.replies_queued_at, MPS),
    )
    return Section(
        f"Dispatcher pacing and priority: {PROACTIVE + REPLIES} texts at {MPS}/s (issue 4)",
        METHOD,
        [Table(("measure", "value"), rows)],
        goals,
        figures=[figure],
    )


def _waits(waits: Sequence[float]) -> str:
    if not waits:
        return "none sent"
    return f"{statistics.median(waits):.1f} s / {max(waits):.1f} s"
