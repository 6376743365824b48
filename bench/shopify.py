"""Benchmark: 10,000 signed Shopify webhooks from 50 senders, and the texts they earn.

The whole stack as `make run` starts it (Rasa with the API, the action server, the desk),
each a process of its own, on a fresh database: the load is fired from a process of its
own too (bench.senders). Acknowledgements are timed there; then the benchmark waits until
the desk has applied every webhook and sent every alert, and counts what reached Twilio.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from bench.loops import fake_twilio
from bench.report import Section, progress
from bench.senders import keep_alive_request
from bench.shipments import Delivery, plan, write_store
from bench.shopify_report import DRAIN_TIMEOUT, SENDERS, WARM_UP, WEBHOOKS, Run, section
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
from bot.config import Settings
from bot.consent import ConsentState, consent_state
from bot.desk.shopify_webhooks import PATH
from bot.launch import ROOT
from bot.notify.payloads import fulfillment_event_payload, webhook_headers
from bot.notify.receipts import backlog
from bot.oms.base import Order
from bot.oms.demo import DemoStore
from bot.oms.demo_seed import DEFAULT_DATA_DIR, seed
from bot.store import Database
from bot.store.db import safe_url
from bot.store.models import Notification, WebhookReceipt
from tests.fakes.twilio import FakeTwilio

POSTGRES_URL = os.environ.get("PIGEON_BENCH_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
SECRET = "shpss_bench_" + "5" * 20  # signs the bench's own webhooks, nothing real
SEED = 5
REQUEST_TIMEOUT = 30.0  # seconds; Shopify itself gives up after 5 and retries
TEXT_TIMEOUT = 300.0  # for the warm-up's text (Rasa's first prediction is slow)
GRACE = 2.0  # seconds of quiet that say the backlog is drained


async def run(logs: Path) -> Section:
    progress(f"shopify: {WEBHOOKS:,} webhooks from {SENDERS} senders (about 5 minutes each)")
    runs = [await _measure("SQLite", None, logs)]
    with postgres_schema() as url:
        if url is None:
            progress(f"shopify: no PostgreSQL at {safe_url(POSTGRES_URL)}; SQLite only")
        else:
            runs.append(await _measure("PostgreSQL", url, logs))
    return section(runs)


@contextlib.contextmanager
def postgres_schema() -> Iterator[str | None]:
    """A fresh schema in the local PostgreSQL for one run, dropped after; None without one."""
    admin = create_engine(POSTGRES_URL, future=True, connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        admin.dispose()
        yield None
        return
    schema = f"pigeon_bench_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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
    prefix = logs / f"shopify-{backend.lower()}"
    async with _stack(settings, data_dir / "store", prefix) as (db, url):
        orders, consented = await asyncio.to_thread(_orders, db, numbers)
        deliveries = plan(orders, consented, WEBHOOKS, SECRET, rng)
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
        acked = {d.webhook_id for d, a in zip(deliveries, acks, strict=True) if a["status"] == 200}
        counted = await asyncio.to_thread(_tally, db, deliveries, acked, orders, consented, texts)
    return Run(
        backend,
        deliveries,
        acks,
        started_at,
        applied_at - last_ack,
        texted_at - last_ack,
        drained,
        counted,
        load,
    )


@contextlib.asynccontextmanager
async def _stack(
    settings: Settings, store: Path, log_prefix: Path
) -> AsyncIterator[tuple[Database, str]]:
    """Seed the database, start the three processes; (the database, the webhook URL)."""
    db = Database(settings.database_url)
    await asyncio.to_thread(prepare_database, db, demo=False)
    await asyncio.to_thread(seed, db, store)
    actions = ActionServer(settings, Path(f"{log_prefix}-actions.log"))
    settings = replace(settings, action_port=actions.port)
    rasa = RasaServer(settings, Path(f"{log_prefix}-rasa.log"))
    settings = replace(settings, rasa_port=rasa.port, rasa_url=f"http://127.0.0.1:{rasa.port}")
    desk = DeskServer(settings, Path(f"{log_prefix}-desk.log"))
    servers = (actions, rasa, desk)
    for server in servers:
        server.start()
    try:
        progress("shopify: starting Rasa, the action server and the desk")
        await asyncio.gather(*(server.ready() for server in servers))
        yield db, f"http://127.0.0.1:{desk.port}{PATH}"
    finally:
        for server in servers:
            server.stop()
        db.dispose()


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


def _tally(
    db: Database,
    deliveries: Sequence[Delivery],
    acked: set[str],
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
        acked,
        [Receipt(*row) for row in rows],
        {(fid, kind): status for fid, kind, status in notes},
        [Text(m.to, m.body) for m in texts],
        names={o.name: o.fulfillments[0].id for o in shipped},
        consented={o.fulfillments[0].id for o in shipped if o.phone in consented},
    )
