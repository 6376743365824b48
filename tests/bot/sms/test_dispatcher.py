"""The outbox dispatcher against the fake Twilio REST API, through the real TwilioGateway."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import SendingWindow
from bot.consent import ConsentState, consent_state, history, record_opt_in, record_opt_out
from bot.inbox import customer_for_phone, thread_for
from bot.outbox import enqueue
from bot.sms.dispatcher import Dispatcher, Policy
from bot.sms.pacing import Pacer
from bot.sms.simulator import SimulatorGateway
from bot.sms.twilio_gateway import TwilioGateway
from bot.store import Database
from bot.store.models import Customer, Message, OutboxItem
from tests.fakes.twilio import FakeTwilio
from tests.fakes.twilio_payloads import count_segments

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "5f2a" * 8
SERVICE_SID = "MG" + "fedcba9876543210" * 2
FROM = "+12065550100"
TO = "+12065550101"  # Seattle: 10:00 local at the fixed clock's 17:00 UTC
FLORIDA = "+13055550101"
NEW_YORK = "+12125550101"
WINDOW = SendingWindow(*(datetime.strptime(t, "%H:%M").time() for t in ("08:00", "21:00")))
CALLBACK = "https://pigeon.example.com/webhooks/twilio/status"
FAST = 1000.0  # segments per second: pacing out of the way


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
async def gateway(fake: FakeTwilio) -> AsyncIterator[TwilioGateway]:
    async with TwilioGateway(
        ACCOUNT_SID, AUTH_TOKEN, from_number=FROM, api_url=fake.url, timeout=2.0
    ) as gateway:
        yield gateway


def _dispatcher(db: Database, gateway: Any, clock: FixedClock, **kw: Any) -> Dispatcher:
    kw.setdefault("pacer", Pacer(FAST))
    kw.setdefault("quiet_hours", WINDOW)
    return Dispatcher(db, gateway, clock, **kw)


def _queue(
    db: Database, clock: FixedClock, purpose: str, body: str = "hello", to: str = TO, **kw: Any
) -> int:
    with db.write() as session:
        conversation = thread_for(session, customer_for_phone(session, to), "sms", clock)
        return enqueue(session, conversation, body, purpose, to_phone=to, clock=clock, **kw).id


def _opt_in(db: Database, clock: FixedClock, phone: str = TO) -> None:
    with db.write() as session:
        customer_for_phone(session, phone)
        record_opt_in(session, phone, "checkout", disclosure="Reply STOP to opt out.", clock=clock)


def _opt_out(db: Database, clock: FixedClock, phone: str = TO) -> None:
    with db.write() as session:
        record_opt_out(session, phone, "agent", clock=clock)


def _row(db: Database, item_id: int) -> tuple[OutboxItem, Message]:
    with db.read() as session:
        item = session.get(OutboxItem, item_id)
        return item, session.get(Message, item.message_id)


async def _drain(dispatcher: Dispatcher) -> int:
    """Run until nothing is due; how many rows were handled."""
    handled = 0
    while await dispatcher.run_once():
        handled += 1
    return handled


@asynccontextmanager
async def _running(dispatcher: Dispatcher) -> AsyncIterator[asyncio.Future]:
    """The dispatcher's loop in the background, stopped (and awaited) on leaving."""
    stop = asyncio.Event()
    runner = asyncio.ensure_future(dispatcher.run(stop, idle=0.01))
    try:
        yield runner
    finally:
        stop.set()
        await asyncio.wait_for(runner, 5)


# --- sending ---


async def test_a_reply_is_sent_and_its_sid_recorded(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    item_id = _queue(db, clock, "reply", "Your order shipped.")
    assert await _drain(_dispatcher(db, gateway, clock)) == 1
    [sent] = fake.messages
    assert (sent.to, sent.from_, sent.body) == (TO, FROM, "Your order shipped.")
    item, message = _row(db, item_id)
    assert (item.status, item.provider_sid, item.sent_at, item.attempts) == (
        "sent",
        sent.sid,
        clock.now(),
        1,
    )
    assert (message.status, message.external_id, message.segments) == ("queued", sent.sid, 1)
    assert fake.attempts == 1


async def test_nothing_due_means_nothing_sent(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    _queue(db, clock, "reply", due_at=clock.now() + timedelta(minutes=5))
    assert not await _dispatcher(db, gateway, clock).run_once()
    assert fake.attempts == 0


async def test_priority_order_even_when_proactive_texts_were_queued_first(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    _opt_in(db, clock)
    for n in range(3):
        _queue(db, clock, "proactive", f"alert {n}")
    for purpose in ("agent", "reply", "compliance"):
        _queue(db, clock, purpose, purpose)
    await _drain(_dispatcher(db, gateway, clock))
    assert [m.body for m in fake.messages] == [
        "compliance",
        "reply",
        "agent",
        "alert 0",
        "alert 1",
        "alert 2",
    ]


async def test_the_status_callback_is_passed_when_configured(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    _queue(db, clock, "reply", "one")
    await _drain(_dispatcher(db, gateway, clock, status_callback=CALLBACK))
    _queue(db, clock, "reply", "two")
    await _drain(_dispatcher(db, gateway, clock))
    assert [(m.body, m.status_callback) for m in fake.messages] == [
        ("one", CALLBACK),
        ("two", None),
    ]


async def test_media_is_sent(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    _queue(db, clock, "agent", "", media_urls=["https://cdn.example.com/label.png"])
    await _drain(_dispatcher(db, gateway, clock))
    assert fake.messages[0].media_urls == ("https://cdn.example.com/label.png",)


# --- GSM-7 and segments ---


async def test_typographic_characters_are_made_gsm7_and_segments_recorded(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    body = "\u201cIt\u2019s on its way\u201d \u2014 arriving Thu\u2026\u00a0Thanks!"
    item_id = _queue(db, clock, "agent", body)
    await _drain(_dispatcher(db, gateway, clock))
    expected = '"It\'s on its way" - arriving Thu... Thanks!'
    assert fake.messages[0].body == expected
    _, message = _row(db, item_id)
    assert (message.body, message.segments) == (expected, 1)


@pytest.mark.parametrize(
    "body", ["a" * 161, "Your parcel \U0001f4e6 is here" * 5, "x" * 1600, "\U0001f426" * 70]
)
async def test_segments_match_what_twilio_bills(
    db: Database,
    clock: FixedClock,
    fake: FakeTwilio,
    gateway: TwilioGateway,
    body: str,
) -> None:
    item_id = _queue(db, clock, "reply", body)
    await _drain(_dispatcher(db, gateway, clock))
    assert fake.messages[0].body == body
    assert _row(db, item_id)[1].segments == count_segments(body) > 1


async def test_a_body_over_1600_characters_is_cut_at_a_word(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    item_id = _queue(db, clock, "reply", "word " * 400)
    await _drain(_dispatcher(db, gateway, clock))
    [sent] = fake.messages
    assert len(sent.body) <= 1600
    assert sent.body.endswith("word...")
    assert _row(db, item_id)[1].body == sent.body  # the inbox shows what was sent


async def test_segments_are_counted_here_when_a_messaging_service_does_not_say(
    db: Database, clock: FixedClock, fake: FakeTwilio
) -> None:
    item_id = _queue(db, clock, "reply", "b" * 200)
    async with TwilioGateway(
        ACCOUNT_SID, AUTH_TOKEN, messaging_service_sid=SERVICE_SID, api_url=fake.url
    ) as gateway:
        await _drain(_dispatcher(db, gateway, clock))
    _, message = _row(db, item_id)
    assert (message.status, message.segments) == ("accepted", 2)


# --- consent at send time ---


async def test_an_opt_out_after_queueing_cancels_the_text(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    item_id = _queue(db, clock, "reply")
    _opt_out(db, clock)
    assert await _drain(_dispatcher(db, gateway, clock)) == 1
    item, message = _row(db, item_id)
    assert item.status == "cancelled"
    assert (message.status, message.error_message) == ("cancelled", "recipient opted out")
    assert fake.attempts == 0


async def test_a_proactive_text_without_an_opt_in_is_cancelled(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    item_id = _queue(db, clock, "proactive", "Your order shipped")
    await _drain(_dispatcher(db, gateway, clock))
    item, message = _row(db, item_id)
    assert item.status == "cancelled"
    assert message.error_message == "no consent to texts"
    assert fake.attempts == 0


@pytest.mark.parametrize("purpose", ["reply", "agent"])
async def test_replies_and_agents_need_no_recorded_opt_in(
    db: Database,
    clock: FixedClock,
    fake: FakeTwilio,
    gateway: TwilioGateway,
    purpose: str,
) -> None:
    _queue(db, clock, purpose)
    await _drain(_dispatcher(db, gateway, clock))
    assert len(fake.messages) == 1


async def test_compliance_texts_go_even_to_an_opted_out_number(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    _queue(db, clock, "compliance", "You're unsubscribed.")
    _opt_out(db, clock)
    await _drain(_dispatcher(db, gateway, clock))
    assert [m.body for m in fake.messages] == ["You're unsubscribed."]


# --- quiet hours ---


async def test_quiet_hours_defer_a_proactive_text_to_the_local_morning(
    db: Database, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    night = FixedClock(datetime(2026, 6, 16, 9, 0, tzinfo=timezone.utc))  # 2:00 in Seattle
    _opt_in(db, night)
    item_id = _queue(db, night, "proactive", "Out for delivery")
    dispatcher = _dispatcher(db, gateway, night)
    assert await dispatcher.run_once()
    item, message = _row(db, item_id)
    morning = datetime(2026, 6, 16, 15, 0, tzinfo=timezone.utc)  # 8:00 PDT
    assert (item.status, item.due_at, item.attempts) == ("queued", morning, 0)
    assert message.status == "queued"
    assert not await dispatcher.run_once()
    night.advance(morning - night.now())
    assert await dispatcher.run_once()
    assert [m.body for m in fake.messages] == ["Out for delivery"]


async def test_quiet_hours_do_not_hold_back_replies(
    db: Database, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    night = FixedClock(datetime(2026, 6, 16, 9, 0, tzinfo=timezone.utc))
    for purpose in ("compliance", "reply", "agent"):
        _queue(db, night, purpose, purpose)
    await _drain(_dispatcher(db, gateway, night))
    assert len(fake.messages) == 3


async def test_florida_ends_at_eight_pm_where_new_york_goes_on(
    db: Database, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    evening = FixedClock(datetime(2026, 6, 16, 0, 30, tzinfo=timezone.utc))  # 20:30 EDT
    for phone in (FLORIDA, NEW_YORK):
        _opt_in(db, evening, phone)
    florida = _queue(db, evening, "proactive", "for Florida", to=FLORIDA)
    _queue(db, evening, "proactive", "for New York", to=NEW_YORK)
    await _drain(_dispatcher(db, gateway, evening))
    assert [m.body for m in fake.messages] == ["for New York"]
    item, _ = _row(db, florida)
    assert (item.status, item.due_at) == (
        "queued",
        datetime(2026, 6, 16, 12, 0, tzinfo=timezone.utc),  # 8:00 EDT
    )


async def test_a_customers_state_sets_the_early_evening_too(
    db: Database, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    evening = FixedClock(datetime(2026, 6, 16, 0, 30, tzinfo=timezone.utc))  # 20:30 EDT
    _opt_in(db, evening, NEW_YORK)
    with db.write() as session:
        customer = session.execute(select(Customer).where(Customer.phone == NEW_YORK)).scalar_one()
        customer.region = "CT"
    item_id = _queue(db, evening, "proactive", to=NEW_YORK)
    await _drain(_dispatcher(db, gateway, evening))
    assert fake.attempts == 0
    assert _row(db, item_id)[0].status == "queued"


# --- retries ---


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503)])
async def test_a_transient_error_is_retried_after_a_backoff_then_sent_once(
    db: Database,
    clock: FixedClock,
    fake: FakeTwilio,
    gateway: TwilioGateway,
    status: int,
    code: int,
) -> None:
    item_id = _queue(db, clock, "reply", "retry me")
    dispatcher = _dispatcher(db, gateway, clock)
    fake.fail_next(1, status=status)
    assert await dispatcher.run_once()
    item, message = _row(db, item_id)
    assert item.status == "queued"
    assert f"HTTP {status}" in item.last_error
    assert timedelta(seconds=1) <= item.due_at - clock.now() <= timedelta(seconds=2)
    assert message.status == "queued"
    assert not await dispatcher.run_once()  # not due yet
    clock.advance(item.due_at - clock.now() + timedelta(milliseconds=1))
    assert await dispatcher.run_once()
    item, message = _row(db, item_id)
    assert (item.status, item.attempts, item.last_error) == ("sent", 2, None)
    assert [m.body for m in fake.messages] == ["retry me"]
    assert fake.attempts == 2


async def test_the_backoff_doubles_and_honours_retry_after(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    item_id = _queue(db, clock, "reply")
    dispatcher = _dispatcher(db, gateway, clock)
    fake.fail_next(3, status=500)
    waits = []
    for _ in range(3):
        assert await dispatcher.run_once()
        due = _row(db, item_id)[0].due_at
        waits.append((due - clock.now()).total_seconds())
        clock.advance(due - clock.now())
    assert 1 <= waits[0] <= 2
    assert 2 <= waits[1] <= 4
    assert 4 <= waits[2] <= 8
    fake.fail_next(1, status=429, retry_after=30)
    assert await dispatcher.run_once()
    assert _row(db, item_id)[0].due_at - clock.now() >= timedelta(seconds=30)


async def test_transient_errors_beyond_the_maximum_age_fail_visibly(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    item_id = _queue(db, clock, "reply")
    dispatcher = _dispatcher(db, gateway, clock, policy=Policy(max_age=timedelta(minutes=10)))
    fake.fail_for(60, status=500)
    for _ in range(100):
        if _row(db, item_id)[0].status != "queued":
            break
        if not await dispatcher.run_once():
            clock.advance(timedelta(minutes=1))
    assert clock.now() - _row(db, item_id)[0].created_at >= timedelta(minutes=10)
    assert fake.attempts > 3  # retried while young
    item, message = _row(db, item_id)
    assert item.status == "failed"
    assert (message.status, message.error_code) == ("failed", "20500")
    assert "HTTP 500" in message.error_message
    attempts = fake.attempts
    clock.advance(timedelta(hours=1))
    assert not await dispatcher.run_once()
    assert fake.attempts == attempts
    assert fake.messages == []


async def test_21610_opts_the_number_out_and_is_never_retried(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    fake.opt_out(TO)
    item_id = _queue(db, clock, "reply", "first")
    later = _queue(db, clock, "reply", "second")
    dispatcher = _dispatcher(db, gateway, clock)
    await _drain(dispatcher)
    item, message = _row(db, item_id)
    assert item.status == "failed"
    assert (message.status, message.error_code) == ("failed", "21610")
    with db.read() as session:
        assert consent_state(session, TO) is ConsentState.OPTED_OUT
        assert [(e.action, e.source) for e in history(session, TO)] == [("opt_out", "carrier")]
    assert _row(db, later)[0].status == "cancelled"  # re-checked: nothing more is sent
    clock.advance(timedelta(hours=1))
    assert not await dispatcher.run_once()
    assert fake.attempts == 1


@pytest.mark.parametrize("code", [21211, 21614, 21408])
async def test_other_4xx_fail_with_their_code(
    db: Database,
    clock: FixedClock,
    fake: FakeTwilio,
    gateway: TwilioGateway,
    code: int,
) -> None:
    item_id = _queue(db, clock, "reply")
    fake.fail_next(1, status=400, code=code)
    dispatcher = _dispatcher(db, gateway, clock)
    await _drain(dispatcher)
    item, message = _row(db, item_id)
    assert item.status == "failed"
    assert (message.status, message.error_code) == ("failed", str(code))
    clock.advance(timedelta(hours=1))
    assert not await dispatcher.run_once()
    assert fake.attempts == 1


async def test_a_timeout_is_unknown_and_never_resent(
    db: Database, clock: FixedClock, fake: FakeTwilio
) -> None:
    item_id = _queue(db, clock, "reply")
    fake.delay(3)
    async with TwilioGateway(
        ACCOUNT_SID, AUTH_TOKEN, from_number=FROM, api_url=fake.url, timeout=0.3
    ) as gateway:
        dispatcher = _dispatcher(db, gateway, clock)
        assert await dispatcher.run_once()
        item, message = _row(db, item_id)
        assert item.status == "unknown"
        assert message.status == "unknown"
        assert "not resent" in message.error_message
        fake.delay(0)
        clock.advance(timedelta(hours=1))
        assert not await dispatcher.run_once()
    assert fake.attempts == 1


# --- interruptions ---


async def test_recover_interrupted_marks_stale_sends_unknown_and_resends_nothing(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    stale, fresh = (_queue(db, clock, "reply", b) for b in ("stale", "fresh"))
    waiting = _queue(db, clock, "reply", "waiting", to="+13125550104")  # another number
    with db.write() as session:
        for item_id, age in ((stale, timedelta(minutes=5)), (fresh, timedelta(seconds=30))):
            item = session.get(OutboxItem, item_id)
            item.status, item.claimed_at, item.attempts = "sending", clock.now() - age, 1
    dispatcher = _dispatcher(db, gateway, clock)
    assert dispatcher.recover_interrupted() == 1
    item, message = _row(db, stale)
    assert (item.status, message.status) == ("unknown", "unknown")
    assert "may or may not" in message.error_message
    assert _row(db, fresh)[0].status == "sending"
    await _drain(dispatcher)
    assert [m.body for m in fake.messages] == ["waiting"]
    assert _row(db, waiting)[0].status == "sent"


async def test_a_dispatcher_killed_mid_queue_and_restarted_loses_and_repeats_nothing(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    ids = [_queue(db, clock, "reply", f"text {n}") for n in range(6)]
    first = _dispatcher(db, gateway, clock, worker="first")
    await first.run_once()
    await first.run_once()
    fake.delay(5)  # the third send hangs at Twilio...
    killed = asyncio.ensure_future(first.run_once())
    while fake.attempts < 3:
        await asyncio.sleep(0.01)
    killed.cancel()  # ...and the process dies
    with pytest.raises(asyncio.CancelledError):
        await killed
    fake.delay(0)
    clock.advance(timedelta(minutes=3))  # restarted after the lease ran out

    second = _dispatcher(db, gateway, clock, worker="second")
    async with _running(second):
        while len(fake.messages) < 5:
            await asyncio.sleep(0.01)
    statuses = [_row(db, i)[0].status for i in ids]
    assert statuses == ["sent", "sent", "unknown", "sent", "sent", "sent"]
    assert Counter(m.body for m in fake.messages) == Counter(f"text {n}" for n in (0, 1, 3, 4, 5))


async def test_a_running_dispatcher_sweeps_another_workers_abandoned_sends(
    db: Database, clock: FixedClock, gateway: TwilioGateway
) -> None:
    item_id = _queue(db, clock, "reply")
    with db.write() as session:
        item = session.get(OutboxItem, item_id)
        item.status, item.claimed_by, item.claimed_at = "sending", "dead", clock.now()
    async with _running(_dispatcher(db, gateway, clock)):
        await asyncio.sleep(0.1)
        assert _row(db, item_id)[0].status == "sending"  # still within its lease
        clock.advance(timedelta(minutes=5))
        for _ in range(200):
            if _row(db, item_id)[0].status != "sending":
                break
            await asyncio.sleep(0.01)
    assert _row(db, item_id)[0].status == "unknown"


async def test_the_loop_survives_a_database_that_is_down_at_start(
    clock: FixedClock, gateway: TwilioGateway
) -> None:
    gone = Database("postgresql://nobody@127.0.0.1:9/none")
    async with _running(_dispatcher(gone, gateway, clock)) as runner:
        await asyncio.sleep(0.2)
        assert not runner.done()  # it logs, waits and tries again
    gone.dispose()


# --- several dispatchers, pacing, the simulator ---


async def test_two_dispatchers_never_send_the_same_row(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    ids = [_queue(db, clock, "reply", f"text {n}", to=f"+1206555{n:04d}") for n in range(30)]
    other_db = Database(db.url.render_as_string(hide_password=False))
    fake.delay(0.01)
    try:
        workers = [
            _dispatcher(db, gateway, clock, worker="one"),
            _dispatcher(other_db, gateway, clock, worker="two"),
        ]
        await asyncio.gather(*(_drain(w) for w in workers))
    finally:
        other_db.dispose()
    assert sorted(Counter(m.body for m in fake.messages).items()) == sorted(
        (f"text {n}", 1) for n in range(30)
    )
    rows = [_row(db, i)[0] for i in ids]
    assert {r.status for r in rows} == {"sent"}
    assert {r.attempts for r in rows} == {1}
    assert {r.claimed_by for r in rows} == {"one", "two"}


async def test_pacing_holds_the_sender_to_its_rate(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    for n in range(30):
        _queue(db, clock, "reply", f"text {n}")
    dispatcher = _dispatcher(db, gateway, clock, pacer=Pacer(20))
    start = time.monotonic()
    await _drain(dispatcher)
    elapsed = time.monotonic() - start
    assert len(fake.messages) == 30
    assert 0.45 <= elapsed < 10  # one second's burst of 20, then 10 more at 20/s


async def test_the_simulator_gateway_delivers_to_the_database(
    db: Database, clock: FixedClock
) -> None:
    item_id = _queue(db, clock, "reply", "hi there")
    await _drain(_dispatcher(db, SimulatorGateway(), clock))
    item, message = _row(db, item_id)
    assert item.status == "sent"
    assert item.provider_sid.startswith("SM")
    assert (message.status, message.segments) == ("delivered", 1)


async def test_one_numbers_texts_go_out_one_at_a_time_in_order(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    first = _queue(db, clock, "proactive", "first")
    _queue(db, clock, "reply", "second")  # a reply outranks, but not past a text being sent
    other = _queue(db, clock, "reply", "other number", to="+13125550104")
    with db.write() as session:
        session.get(OutboxItem, first).status = "sending"  # another worker has it in flight
    dispatcher = _dispatcher(db, gateway, clock)
    assert await dispatcher.run_once()
    assert [m.body for m in fake.messages] == ["other number"]
    assert not await dispatcher.run_once()  # "second" waits for "first"
    assert _row(db, other)[0].status == "sent"


async def test_concurrent_workers_keep_each_numbers_order(
    db: Database, clock: FixedClock, fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    numbers = [f"+1206555{n:04d}" for n in range(5)]
    for n in range(4):
        for number in numbers:
            _queue(db, clock, "reply", f"{number} part {n}", to=number)
    dispatcher = _dispatcher(db, gateway, clock)
    dispatcher.concurrency = 4
    stop = asyncio.Event()
    running = asyncio.ensure_future(dispatcher.run(stop, idle=0.01))

    async def all_sent() -> None:
        while len(fake.messages) < 20:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(all_sent(), timeout=60)
    stop.set()
    await running
    for number in numbers:
        sent = [m.body for m in fake.messages if m.to == number]
        assert sent == [f"{number} part {n}" for n in range(4)]
