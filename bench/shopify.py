"""Benchmark: 10,000 signed Shopify webhooks from 50 senders, and the texts they earn.

The whole stack as `make run` starts it (Rasa with the API, the action server, the desk),
each a process of its own, on a fresh database: the load is fired from a process of its
own too (bench.senders). Acknowledgements are timed there; then the benchmark waits until
the desk has applied every webhook and sent every alert, and counts what reached Twilio.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import func, select

from bench.loops import fake_twilio
from bench.report import Goal, Section, Table, percentile, progress
from bench.senders import keep_alive_request
from bench.shipments import Delivery, plan, write_store
from bench.stack import (
    ActionServer,
    DeskServer,
    RasaServer,
    bench_settings,
    pending_outbox,
    prepare_database,
)
from bench.tally import Receipt, Tally, Text, tally
from bot.clock import SystemClock
from bot.consent import ConsentState, consent_state
from bot.desk.shopify_webhooks import PATH
from bot.launch import ROOT
from bot.notify.payloads import fulfillment_event_payload, webhook_headers
from bot.notify.receipts import backlog
from bot.oms.base import Order
from bot.oms.demo import DemoStore
from bot.oms.demo_seed import DEFAULT_DATA_DIR, seed
from bot.store import Database
from bot.store.models import Notification, WebhookReceipt
from tests.fakes.twilio import FakeTwilio

WEBHOOKS, SENDERS = 10_000, 50
ACK_P99_GOAL_MS, RATE_GOAL = 100.0, 500.0
SECRET = "shpss_bench_" + "5" * 20  # signs the bench's own webhooks, nothing real
SEED = 5
WARM_UP = 200  # deliveries of one webhook id before the run: one text, 199 repeats
REQUEST_TIMEOUT = 30.0  # seconds; Shopify itself gives up after 5 and retries
TEXT_TIMEOUT = 300.0  # for the warm-up's text (Rasa's first prediction is slow)
DRAIN_TIMEOUT = 900.0
GRACE = 2.0  # seconds of quiet that say the backlog is drained

METHOD = f"""\
The stack as `make run` starts it, each a process of its own: Rasa (`rasa run --enable-api`
with `models/pigeon.tar.gz`), the action server and the desk (`python -m bot serve`, with
`SHOPIFY_WEBHOOK_SECRET`, `QUIET_HOURS=off`, its dispatcher sending to a fake Twilio at
1,000/s), on a fresh database holding the demo store plus bench orders for its customers
(Ava, Ben, Dev and Eli consented to texts, Chloe did not), one package each, whose carrier
scans are already in the store. {WEBHOOKS:,} deliveries built with `bot.notify.payloads`
tell a day and a half of those packages' news on every topic Shopify uses
(fulfillments/create, orders/fulfilled, then fulfillment_events/create and
fulfillments/update per scan; orders/cancelled for the cancelled orders), oldest news first,
but some after newer news of their package and some repeated with the same
X-Shopify-Webhook-Id, as Shopify retries. They are fired from a process of their own
(`bench/senders.py`) by {SENDERS} senders, each on one keep-alive connection taking the next
delivery when its last was answered, after {WARM_UP} warm-up deliveries of one webhook.
*ack* is the time to the HTTP response; the *ingest rate* is deliveries acknowledged per
second from the first request to the last answer. Then the benchmark waits until every
webhook is applied, every alert handed to Rasa (which composes it through the SMS channel)
and every text sent. The (package, kind) pairs that must be recorded come from replaying
the deliveries in the order the desk applied them (older or earlier-stage news changes
nothing); *lost* counts pairs with no record, records left waiting, records marked sent
that never reached Twilio, and webhooks never applied. Texts are read back to their order
and kind from their wording, so a duplicate shows even if the desk's records miss it."""


@dataclass(frozen=True)
class Run:
    backend: str
    deliveries: Sequence[Delivery]
    acks: Sequence[dict]  # {"status", "seconds", "finished_at"} per delivery, in order
    started_at: float  # wall clock, first request
    stored: int  # receipts in the database
    applied_s: float  # from the last ack until every webhook was applied
    texted_s: float  # from the last ack until the last text reached Twilio
    drained: bool
    tally: Tally
    load: float  # 1-minute load average when the run started

    @property
    def last_ack(self) -> float:
        return max(a["finished_at"] for a in self.acks)

    @property
    def ok(self) -> int:
        return sum(1 for a in self.acks if a["status"] == 200)

    @property
    def rate(self) -> float:
        return self.ok / (self.last_ack - self.started_at)

    def ack_ms(self, q: float) -> float:
        return percentile([a["seconds"] for a in self.acks], q) * 1000


async def run(logs: Path) -> Section:
    progress(f"shopify: {WEBHOOKS:,} webhooks from {SENDERS} senders (about 5 minutes)")
    return section([await _measure("SQLite", None, logs)])


async def _measure(backend: str, database_url: str | None, logs: Path) -> Run:
    with tempfile.TemporaryDirectory(prefix="pigeon-bench-") as tmp:
        async with fake_twilio() as fake:
            return await _on_stack(backend, Path(tmp), database_url, fake, logs)


async def _on_stack(
    backend: str, data_dir: Path, database_url: str | None, fake: FakeTwilio, logs: Path
) -> Run:
    rng = random.Random(SEED)  # noqa: S311 (the same story every run, not a secret)
    numbers = write_store(data_dir / "store", ROOT / DEFAULT_DATA_DIR, WEBHOOKS, rng)
    settings = replace(bench_settings(data_dir, fake.url, mps=1000), shopify_webhook_secret=SECRET)
    if database_url:
        settings = replace(settings, database_url=database_url)
    db = Database(settings.database_url)
    await asyncio.to_thread(prepare_database, db, demo=False)
    await asyncio.to_thread(seed, db, data_dir / "store")
    tag = backend.lower()
    actions = ActionServer(settings, logs / f"shopify-{tag}-actions.log")
    settings = replace(settings, action_port=actions.port)
    rasa = RasaServer(settings, logs / f"shopify-{tag}-rasa.log")
    settings = replace(settings, rasa_port=rasa.port, rasa_url=f"http://127.0.0.1:{rasa.port}")
    desk = DeskServer(settings, logs / f"shopify-{tag}-desk.log")
    servers = (actions, rasa, desk)
    for server in servers:
        server.start()
    try:
        progress(f"shopify ({backend}): starting Rasa, the action server and the desk")
        await asyncio.gather(*(server.ready() for server in servers))
        orders, consented = await asyncio.to_thread(_orders, db, numbers)
        deliveries = plan(orders, consented, WEBHOOKS, SECRET, rng)
        url = f"http://127.0.0.1:{desk.port}{PATH}"
        progress(f"shopify ({backend}): warming up (one alert through Rasa)")
        await _warm_up(url, db, fake)
        baseline, load = len(fake.messages), os.getloadavg()[0]
        progress(f"shopify ({backend}): firing {len(deliveries):,} webhooks")
        started_at, acks = await asyncio.to_thread(_fire, url, [_raw(url, d) for d in deliveries])
        last_ack = max(a["finished_at"] for a in acks)
        progress(f"shopify ({backend}): waiting for every webhook to be applied and texted")
        applied_at, drained = await _drain(db)
        texts = list(fake.messages)[baseline:]
        texted_at = max((m.received_at.timestamp() for m in texts), default=last_ack)
        counted = await asyncio.to_thread(_tally, db, deliveries, orders, consented, texts)
        stored = await asyncio.to_thread(_stored, db)
    finally:
        for server in servers:
            server.stop()
        db.dispose()
    return Run(
        backend,
        deliveries,
        acks,
        started_at,
        stored,
        applied_at - last_ack,
        texted_at - last_ack,
        drained,
        counted,
        load,
    )


def _orders(db: Database, numbers: Sequence[int]) -> tuple[list[Order], set[str]]:
    """The bench orders as the order system returns them, and which phones consented."""
    store = DemoStore(db, SystemClock())
    orders = [store.order_by_number(n) for n in numbers]
    phones = {o.phone for o in orders if o and o.phone}
    with db.read() as session:
        consented = {p for p in phones if consent_state(session, p) is ConsentState.OPTED_IN}
    return [o for o in orders if o is not None], consented


def _raw(url: str, delivery: Delivery) -> str:
    return keep_alive_request(url, delivery.body, delivery.headers)


def _fire(url: str, requests: Sequence[str]) -> tuple[float, list[dict]]:
    """Post every request from `python -m bench.senders`; (its start, one result each)."""
    parts = urlsplit(url)
    job = {
        "host": parts.hostname,
        "port": parts.port,
        "senders": SENDERS,
        "timeout": REQUEST_TIMEOUT,
        "requests": list(requests),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.senders"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=True,
        timeout=len(requests) * REQUEST_TIMEOUT / SENDERS + 120,
    )
    out = json.loads(done.stdout)
    return out["started_at"], out["results"]


async def _warm_up(url: str, db: Database, fake: FakeTwilio) -> None:
    """Ava's order #1001 out for delivery, sent 200 times: one text, and a warm desk and Rasa."""
    clock = SystemClock()
    order = DemoStore(db, clock).order_by_number(1001)
    if order is None or not order.fulfillments:
        raise RuntimeError("shopify: the demo store has no shipped order #1001 to warm up with")
    payload = fulfillment_event_payload(
        order, order.fulfillments[0], "out_for_delivery", clock.now(), event_id=1
    )
    body = json.dumps(payload).encode()
    headers = webhook_headers("fulfillment_events/create", body, SECRET, webhook_id="warm-up")
    _, acks = await asyncio.to_thread(
        _fire, url, [keep_alive_request(url, body, headers)] * WARM_UP
    )
    if any(a["status"] != 200 for a in acks):
        raise RuntimeError("shopify: the desk refused the warm-up webhook; see its log")
    deadline = time.monotonic() + TEXT_TIMEOUT
    while not fake.messages:
        if time.monotonic() > deadline:
            raise RuntimeError("shopify: the warm-up alert never reached Twilio; see the logs")
        await asyncio.sleep(0.25)
    await _drain(db)


async def _drain(db: Database) -> tuple[float, bool]:
    """Wait until nothing is left to apply, hand over or send; (when all was applied, drained)."""
    deadline = time.monotonic() + DRAIN_TIMEOUT
    applied_at: float | None = None
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        left, waiting, unsent = await asyncio.to_thread(_pending, db)
        if left == 0 and applied_at is None:
            applied_at = time.time()
        if left or waiting or unsent:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= GRACE:
            return applied_at or time.time(), True
        await asyncio.sleep(0.25)
    return applied_at or time.time(), False


def _pending(db: Database) -> tuple[int, int, int]:
    """Webhooks not applied, alerts not handed to the assistant, texts not sent."""
    with db.read() as session:
        query = select(func.count()).where(Notification.status.in_(("queued", "sending")))
        waiting = session.scalar(query)
    return backlog(db), waiting, pending_outbox(db)


def _stored(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).where(WebhookReceipt.source == "shopify"))


def _tally(
    db: Database,
    deliveries: Sequence[Delivery],
    orders: Sequence[Order],
    consented: set[str],
    texts: Sequence,
) -> Tally:
    with db.read() as session:
        rows = session.execute(
            select(
                WebhookReceipt.external_id, WebhookReceipt.processed_at, WebhookReceipt.id
            ).where(WebhookReceipt.source == "shopify")
        ).all()
        notes = session.execute(
            select(Notification.fulfillment_id, Notification.kind, Notification.status)
        ).all()
    shipped = [o for o in orders if o.fulfillments]
    return tally(
        deliveries,
        [Receipt(*row) for row in rows],
        {(fid, kind): status for fid, kind, status in notes},
        [Text(m.to, m.body) for m in texts],
        names={o.name: o.fulfillments[0].id for o in shipped},
        consented={o.fulfillments[0].id for o in shipped if o.phone in consented},
    )


def section(runs: Sequence[Run]) -> Section:
    columns = ("measure", *(r.backend for r in runs))
    rows = [(label, *(cell(r) for r in runs)) for label, cell in ROWS]
    goals, notes = [], []
    for r in runs:
        p99, t = r.ack_ms(99), r.tally
        goals += [
            Goal(f"ack p99 <= {ACK_P99_GOAL_MS:g} ms ({r.backend})", f"{p99:.0f} ms", p99 <= 100),
            Goal(
                f"ingest >= {RATE_GOAL:g}/s ({r.backend})", f"{r.rate:.0f}/s", r.rate >= RATE_GOAL
            ),
            Goal(f"0 duplicate texts ({r.backend})", str(t.duplicates), t.duplicates == 0),
            Goal(f"0 lost notifications ({r.backend})", str(t.lost), t.lost == 0 and r.drained),
        ]
        notes += _notes(r)
    return Section(
        f"Shopify webhooks: {WEBHOOKS:,} deliveries from {SENDERS} senders (issue 5)",
        METHOD,
        [Table(columns, rows)],
        goals,
        notes,
    )


def _sent(r: Run) -> str:
    retries = sum(1 for d in r.deliveries if d.retry)
    late = sum(1 for d in r.deliveries if d.late)
    ids = len({d.webhook_id for d in r.deliveries})
    return f"{len(r.deliveries):,} ({ids:,} ids; {retries} repeats, {late} after newer news)"


def _acks(r: Run) -> str:
    return f"{r.ack_ms(50):.1f} / {r.ack_ms(99):.1f} / {r.ack_ms(100):.0f}"


def _recorded(r: Run) -> str:
    s = r.tally.statuses
    other = sum(s.values()) - s["sent"] - s["suppressed"] - s["superseded"]
    text = f"{s['sent']} texted, {s['suppressed']} no consent, {s['superseded']} superseded"
    return text + (f", {other} other" if other else "")


def _latest(r: Run) -> str:
    return f"{r.tally.latest_texted}/{len(r.tally.latest)}"


ROWS = (
    ("webhooks sent", _sent),
    ("acknowledged 200", lambda r: f"{r.ok:,}/{len(r.acks):,}"),
    ("ack p50 / p99 / max, ms", _acks),
    ("ingest rate (acknowledged/s, first request to last ack)", lambda r: f"{r.rate:.0f}/s"),
    ("receipts stored (one per webhook id)", lambda r: f"{r.stored:,}"),
    ("every webhook applied, s after the last ack", lambda r: f"{r.applied_s:.1f}"),
    ("(package, kind) notifications the news calls for", lambda r: f"{len(r.tally.expected):,}"),
    ("recorded", _recorded),
    ("lost", lambda r: str(r.tally.lost)),
    ("texts at Twilio / duplicates", lambda r: f"{r.tally.texted:,} / {r.tally.duplicates}"),
    ("consented packages whose latest news was texted", _latest),
    ("last text at Twilio, s after the last ack", lambda r: f"{r.texted_s:.1f}"),
    ("load average (1 min) when the run started", lambda r: f"{r.load:.1f}"),
)


def _notes(r: Run) -> list[str]:
    t, notes = r.tally, []
    if not r.drained:
        notes.append(f"{r.backend}: still not drained after {DRAIN_TIMEOUT:.0f} s.")
    details = (
        (len(t.unrecorded), "pair(s) the news called for were never recorded"),
        (len(t.stuck), "notification(s) were left queued or sending"),
        (len(t.sent_untexted), "notification(s) marked sent never reached Twilio"),
        (t.unprocessed, "stored webhook(s) were never applied"),
        (len(t.unexplained), "notification(s) were recorded that no news called for"),
        (len(t.texted_unsent), "text(s) reached Twilio for a notification not marked sent"),
        (t.unrecognised, "text(s) at Twilio could not be read back to an order and kind"),
    )
    notes += [f"{r.backend}: {n} {what}." for n, what in details if n]
    return notes
