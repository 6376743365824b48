"""Faults on Pigeon's three processes against a fake Twilio: nothing lost, nothing repeated,
nothing to an opted-out number.

Rasa, the action server and the desk run as the Procfile starts them, but one by one
(tests/faults/harness.py), so a scenario can SIGKILL one and start it again. One install
serves the module; each scenario texts from numbers of its own and ends only when Pigeon has
nothing left to do, then counts end to end (tests/faults/tally.py) and writes the counts to
results/faults/<scenario>.json for the bench report.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bench.loops import ACCOUNT_SID, AUTH_TOKEN, STORE_NUMBER
from bot.store import Database
from bot.store.models import ConsentEvent, Message, OutboxItem, WebhookReceipt
from tests.fakes.twilio import inbound_sms, signed_form_post
from tests.faults import tally
from tests.faults.harness import SHOPIFY_SECRET, Processes, kill, processes, restart
from tests.faults.shopify_news import deliver, news
from tests.faults.twilio_outage import OutageTwilio

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

# Seconds Twilio refuses every send (first half 500, second half 429). `make bench` sets
# PIGEON_FAULT_WINDOW=30, the full length; `make test` keeps it short.
FAULT_WINDOW = float(os.environ.get("PIGEON_FAULT_WINDOW", "8"))
TWILIO_DELAY = 6.0  # seconds Twilio takes to answer while the desk is killed (under 10 s timeout)
LOCK_SECONDS = 7.0  # SQLite busy: longer than the fake Twilio's 5 s webhook timeout
AVA, DEV, ELI = "+12065550101", "+13125550104", "+15125550105"
POLICY = "what is your return policy"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict]:
    data_dir = tmp_path_factory.mktemp("faults")
    async with (
        OutageTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake,
        processes(data_dir, fake) as procs,
    ):
        yield {"fake": fake, "procs": procs, "db": procs.db}


async def _post(procs: Processes, form: dict[str, str]) -> int:
    return (await signed_form_post(procs.webhook, form, AUTH_TOKEN)).status


async def _text(stack: dict, phone: str, body: str) -> str:
    """Twilio posts a text from `phone`; its MessageSid once Pigeon answered 200."""
    form = inbound_sms(ACCOUNT_SID, phone, STORE_NUMBER, body)
    assert await _post(stack["procs"], form) == 200
    return form["MessageSid"]


async def _until(what: str, check, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def _outbox(db: Database, phones: list[str], status: str) -> int:
    with db.read() as session:
        return session.scalar(
            select(func.count()).where(OutboxItem.to_phone.in_(phones), OutboxItem.status == status)
        )


async def test_twilio_500_then_429_mid_burst_every_text_is_answered_once(stack: dict) -> None:
    fake: OutageTwilio = stack["fake"]
    phones = [f"+1415555{2100 + n:04d}" for n in range(12)]
    started, attempts = time.monotonic(), stack["fake"].attempts
    sids = [await _text(stack, p, POLICY) for p in phones[:4]]

    # The outage starts with the next send: the replies to the texts below.
    fake.outage(server_errors=FAULT_WINDOW / 2, throttled=FAULT_WINDOW / 2)
    sids += [await _text(stack, p, POLICY) for p in phones[4:8]]
    await _until("the outage to start", lambda: fake.outage_started is not None)
    sids += [await _text(stack, p, POLICY) for p in phones[8:]]
    await _until("the outage to end", lambda: not fake.in_outage, timeout=FAULT_WINDOW + 60)

    counts = await tally.settle(
        "twilio_outage", stack["db"], fake, phones, sids, attempts_from=attempts
    )
    counts.seconds = round(time.monotonic() - started, 1)
    counts.notes = {"window_seconds": FAULT_WINDOW, "refused_sends": fake.refused}
    tally.assert_invariants(counts)
    assert fake.refused > 0, "the outage refused nothing: it did not happen mid-burst"
    assert counts.inbound_answered == len(phones)
    assert counts.outbound_sent >= len(phones)


async def test_stop_while_alerts_wait_in_the_outbox_cancels_every_alert(stack: dict) -> None:
    fake: OutageTwilio = stack["fake"]
    db: Database = stack["db"]
    started, attempts = time.monotonic(), stack["fake"].attempts
    now = datetime.now(timezone.utc)
    alerts = [
        news(db, "1005", "out_for_delivery", now - timedelta(minutes=5), SHOPIFY_SECRET),
        news(db, "1006", "in_transit", now - timedelta(minutes=4), SHOPIFY_SECRET),
    ]
    fake.fail_for(600, status=500)  # Twilio is down: Eli's alerts wait for a retry
    try:
        for alert in alerts:
            assert await deliver(stack["procs"].desk_url, alert) == 200

        def alerts_waiting() -> bool:
            with db.read() as session:
                rows = session.execute(
                    select(OutboxItem).where(
                        OutboxItem.to_phone == ELI, OutboxItem.purpose == "proactive"
                    )
                ).scalars()
                return sum(1 for r in rows if r.status == "queued" and r.attempts >= 1) == 2

        await _until("both alerts to be refused by Twilio and queued again", alerts_waiting)
        stop = await _text(stack, ELI, "STOP")

        def opted_out() -> bool:
            with db.read() as session:
                actions = session.execute(
                    select(ConsentEvent.action).where(ConsentEvent.phone == ELI)
                ).scalars()
                return "opt_out" in set(actions)

        await _until("the opt-out to be recorded", opted_out)
    finally:
        fake.fail_for(0)  # Twilio is back

    counts = await tally.settle(
        "stop_while_queued", db, fake, [ELI], [stop], attempts_from=attempts
    )
    counts.seconds = round(time.monotonic() - started, 1)
    tally.assert_invariants(counts)
    (confirmation,) = [m for m in fake.messages if m.to == ELI]
    assert "unsubscribed" in confirmation.body.lower()
    assert counts.outbox == {"cancelled": 2, "sent": 1}


async def test_shopify_retries_out_of_order_earn_exactly_the_right_texts_once(
    stack: dict,
) -> None:
    fake: OutageTwilio = stack["fake"]
    db: Database = stack["db"]
    started, attempts = time.monotonic(), stack["fake"].attempts
    now = datetime.now(timezone.utc)
    in_transit = news(db, "1001", "in_transit", now - timedelta(hours=3), SHOPIFY_SECRET)
    out = news(db, "1001", "out_for_delivery", now - timedelta(hours=1), SHOPIFY_SECRET)
    delivered = news(db, "1001", "delivered", now - timedelta(minutes=2), SHOPIFY_SECRET)

    # Out for delivery first, and its text goes out.
    assert await deliver(stack["procs"].desk_url, out) == 200
    await tally.settle("shopify_retries", db, fake, [AVA], done=lambda c: c.outbound_sent == 1)

    # Then Shopify retries it 8 times, the later "delivered" 8 times, and an older
    # "in transit" turns up late, 8 times too: interleaved, the later news first.
    retries = [delivered, out, in_transit] * 8
    codes = await asyncio.gather(*(deliver(stack["procs"].desk_url, d) for d in retries))
    assert set(codes) == {200}

    counts = await tally.settle("shopify_retries", db, fake, [AVA], attempts_from=attempts)
    counts.seconds = round(time.monotonic() - started, 1)
    counts.notes = {"deliveries": 1 + len(retries), "webhook_ids": 3}
    tally.assert_invariants(counts)
    bodies = sorted(m.body for m in fake.messages if m.to == AVA)
    assert len(bodies) == 2, bodies
    assert any("#1001 is out for delivery" in b for b in bodies), bodies
    assert any("#1001 was delivered" in b for b in bodies), bodies
    assert counts.notifications == {"sent": 2}
    with db.read() as session:
        ids = [d.webhook_id for d in (in_transit, out, delivered)]
        stored = session.execute(
            select(WebhookReceipt.external_id).where(WebhookReceipt.external_id.in_(ids))
        ).scalars()
        assert sorted(stored) == sorted(ids)  # each delivery stored once


async def test_the_desk_killed_mid_queue_loses_nothing_and_repeats_nothing(stack: dict) -> None:
    fake: OutageTwilio = stack["fake"]
    procs: Processes = stack["procs"]
    phones = [f"+1415555{2300 + n:04d}" for n in range(10)]
    started, attempts = time.monotonic(), stack["fake"].attempts
    fake.delay(TWILIO_DELAY)  # sends hang at Twilio: the desk dies with some in flight
    forms = [inbound_sms(ACCOUNT_SID, p, STORE_NUMBER, POLICY) for p in phones]
    assert [await _post(procs, f) for f in forms] == [200] * len(forms)

    def mid_queue() -> bool:
        in_flight = _outbox(procs.db, phones, "sending")
        return fake.attempts >= 1 and in_flight >= 1 and _outbox(procs.db, phones, "queued") >= 1

    await _until("sends in flight and replies waiting behind them", mid_queue)
    kill(procs.desk)
    in_flight = _outbox(procs.db, phones, "sending")
    fake.delay(0)
    await restart(procs.desk)

    # Those in flight may have reached Twilio: after the claim's lease they are marked
    # unknown, never resent; everything else goes out once.
    counts = await tally.settle(
        "desk_killed",
        procs.db,
        fake,
        phones,
        [f["MessageSid"] for f in forms],
        timeout=360,
        attempts_from=attempts,
    )
    counts.seconds = round(time.monotonic() - started, 1)
    counts.notes = {"in_flight_at_kill": in_flight, "twilio_delay_seconds": TWILIO_DELAY}
    tally.assert_invariants(counts, may_be_unknown=in_flight)
    assert in_flight >= 1
    assert counts.outbox.get("unknown", 0) == in_flight
    assert counts.inbound_answered == len(phones) - in_flight
    assert counts.outbound_sent == len(phones) - in_flight + counts.outbound_unrecorded


async def test_rasa_killed_while_texts_and_webhooks_arrive_answers_all_once_back(
    stack: dict,
) -> None:
    fake: OutageTwilio = stack["fake"]
    procs: Processes = stack["procs"]
    phones = [f"+1415555{2400 + n:04d}" for n in range(8)]
    started, attempts = time.monotonic(), stack["fake"].attempts
    before = [inbound_sms(ACCOUNT_SID, p, STORE_NUMBER, POLICY) for p in phones[:4]]
    during = [inbound_sms(ACCOUNT_SID, p, STORE_NUMBER, POLICY) for p in phones[4:]]
    assert [await _post(procs, f) for f in before] == [200] * len(before)
    kill(procs.rasa)  # right after the acknowledgements: turns may be half done

    # While it is down, Twilio's posts are refused at the connection; Shopify's reach the desk.
    for form in during:
        with pytest.raises(aiohttp.ClientConnectionError):
            await _post(procs, form)
    alert = news(
        procs.db,
        "1004",
        "out_for_delivery",
        datetime.now(timezone.utc) - timedelta(minutes=3),
        SHOPIFY_SECRET,
    )
    assert await deliver(procs.desk_url, alert) == 200
    await restart(procs.rasa)

    # Twilio retries: the refused texts (same MessageSid) and, for good measure, the others.
    assert [await _post(procs, f) for f in during + before] == [200] * len(phones)

    counts = await tally.settle(
        "rasa_killed",
        procs.db,
        fake,
        [*phones, DEV],
        [f["MessageSid"] for f in before + during],
        timeout=300,
        attempts_from=attempts,
    )
    counts.seconds = round(time.monotonic() - started, 1)
    counts.notes = {"refused_while_down": len(during), "webhooks_while_down": 1}
    tally.assert_invariants(counts)
    assert counts.inbound_answered == len(phones)
    (dev,) = [m for m in fake.messages if m.to == DEV]
    assert "#1004 is out for delivery" in dev.body
    assert counts.notifications == {"sent": 1}


async def test_sqlite_busy_mid_burst_every_text_stored_once_and_answered_once(
    stack: dict,
) -> None:
    fake: OutageTwilio = stack["fake"]
    procs: Processes = stack["procs"]
    phones = [f"+1415555{2500 + n:04d}" for n in range(10)]
    started, attempts = time.monotonic(), fake.attempts
    sids = [await _text(stack, p, POLICY) for p in phones[:4]]

    # Another process holds SQLite's write lock for longer than Twilio's webhook waits.
    locked = threading.Event()
    holder = asyncio.ensure_future(
        asyncio.to_thread(_hold_write_lock, procs.data_dir / "pigeon.db", locked)
    )
    await _until("the write lock", locked.is_set)
    during = [inbound_sms(ACCOUNT_SID, p, STORE_NUMBER, POLICY) for p in phones[4:]]
    answers = await asyncio.gather(*(_post_or_none(procs, f) for f in during))
    await holder

    # Twilio retries what it got no 200 for (the same MessageSid).
    unanswered = [f for f, code in zip(during, answers, strict=True) if code != 200]
    assert unanswered, "every post was acknowledged in time: the lock held nothing back"
    assert [await _post(procs, f) for f in unanswered] == [200] * len(unanswered)
    sids += [f["MessageSid"] for f in during]

    counts = await tally.settle("sqlite_busy", procs.db, fake, phones, sids, attempts_from=attempts)
    counts.seconds = round(time.monotonic() - started, 1)
    counts.notes = {"lock_seconds": LOCK_SECONDS, "retried_by_twilio": len(unanswered)}
    tally.assert_invariants(counts)
    assert counts.inbound_answered == len(phones)


def _hold_write_lock(path: Path, locked: threading.Event) -> None:
    """What a backup or a migration does to SQLite: no one else writes for LOCK_SECONDS."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        locked.set()
        time.sleep(LOCK_SECONDS)
        connection.execute("ROLLBACK")
    finally:
        connection.close()


async def _post_or_none(procs: Processes, form: dict[str, str]) -> int | None:
    """Twilio's post; None when it gave up waiting (it will retry)."""
    try:
        return await _post(procs, form)
    except (asyncio.TimeoutError, aiohttp.ClientError):
        return None


@pytest.mark.xfail(
    reason="known gap: Rasa drops an action the action server cannot run and carries on, so a "
    "text needing an action while the action server is down is marked handled, never answered",
    raises=pytest.fail.Exception,
    strict=True,
)
async def test_the_action_server_killed_then_restarted_every_text_is_answered(
    stack: dict,
) -> None:
    fake: OutageTwilio = stack["fake"]
    procs: Processes = stack["procs"]
    ben = "+13055550102"
    phones = [ben, *(f"+1415555{2600 + n:04d}" for n in range(3))]
    started, attempts = time.monotonic(), fake.attempts
    kill(procs.actions)
    sids = [await _text(stack, p, "where is my order") for p in phones]

    def turns_done() -> bool:
        with procs.db.read() as session:
            statuses = session.execute(
                select(Message.status).where(Message.external_id.in_(sids))
            ).scalars()
            return "received" not in set(statuses)

    await _until("the turns to run without the action server", turns_done)
    await restart(procs.actions)
    counts = await tally.settle(
        "actions_killed", procs.db, fake, phones, sids, timeout=60, attempts_from=attempts
    )
    counts.seconds = round(time.monotonic() - started, 1)
    tally.assert_invariants(counts)
