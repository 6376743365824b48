"""POST /webhooks/shopify on the desk: signed, stored once, answered at once, texted once.

The desk runs as in production (its notifier in the background) against the seeded demo
store, with a fake Rasa API on loopback playing the assistant (tests/fakes/rasa.py).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings, SettingsError
from bot.consent import record_opt_out
from bot.desk.app import create_app
from bot.desk.shopify_webhooks import PATH
from bot.notify.assistant import RasaAssistant
from bot.notify.payloads import fulfillment_event_payload, order_payload, webhook_headers
from bot.notify.simulate import SimulationError, simulate_shipment
from bot.oms.demo import DemoStore
from bot.oms.demo_events import record_scan
from bot.oms.demo_seed import seed
from bot.services import Services
from bot.store import Database
from bot.store.models import Notification, OutboxItem, WebhookReceipt
from tests.fakes.rasa import FakeRasa
from tests.http import serving

ROOT = Path(__file__).parents[3]
SECRET = "shpss_" + "7" * 32
RASA_TOKEN = "rasa-test-token"
AVA, CHLOE = "+12065550101", "+12125550103"
TOPIC = "fulfillment_events/create"


@dataclass
class Desk:
    url: str
    db: Database
    clock: FixedClock
    rasa: FakeRasa
    store: DemoStore

    async def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as client,
            client.post(self.url + PATH, data=body, headers=headers) as reply,
        ):
            return reply.status, await reply.text()

    async def scan(self, number: int, status: str, *, webhook_id: str | None = None, **kw):
        """Shopify's fulfillment_events/create for the order's first package."""
        order = self.store.order_by_number(number)
        payload = fulfillment_event_payload(
            order, order.fulfillments[0], status, self.clock.now(), event_id=7, **kw
        )
        return await self.send(TOPIC, payload, webhook_id=webhook_id)

    async def send(self, topic: str, payload: object, *, webhook_id: str | None = None):
        body = json.dumps(payload).encode()
        headers = webhook_headers(topic, body, SECRET, webhook_id=webhook_id or uuid.uuid4().hex)
        return await self.post(body, headers)


@pytest.fixture
async def desk(db: Database, clock: FixedClock) -> AsyncIterator[Desk]:
    seed(db, ROOT / "data" / "demo", clock=clock)
    store = DemoStore(db, clock)
    async with FakeRasa(db, clock, RASA_TOKEN, "Pigeon Supply Co.") as rasa:
        settings = Settings(shopify_webhook_secret=SECRET, rasa_url=rasa.url, rasa_token=RASA_TOKEN)
        services = Services(settings, db, store, clock)
        assistant = RasaAssistant(rasa.url, RASA_TOKEN)
        app = create_app(services, f"desk_{uuid.uuid4().hex}", dispatch=False, assistant=assistant)
        async with serving(app) as base:
            yield Desk(base, db, clock, rasa, store)


async def eventually(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


def outbox(db: Database, phone: str = AVA) -> list[OutboxItem]:
    with db.read() as session:
        query = select(OutboxItem).where(OutboxItem.to_phone == phone).order_by(OutboxItem.id)
        return list(session.execute(query).scalars())


def receipts(db: Database) -> list[WebhookReceipt]:
    with db.read() as session:
        query = select(WebhookReceipt).where(WebhookReceipt.source == "shopify")
        return list(session.execute(query.order_by(WebhookReceipt.id)).scalars())


def processed(db: Database, count: int = 1):
    def check():
        done = [r for r in receipts(db) if r.processed_at is not None]
        return done if len(done) >= count else None

    return check


def notes(db: Database) -> list[Notification]:
    with db.read() as session:
        return list(session.execute(select(Notification).order_by(Notification.id)).scalars())


# --- authentication and bad input ---------------------------------------------------------


async def test_a_forged_or_unsigned_webhook_is_refused_and_stores_nothing(desk: Desk) -> None:
    body = json.dumps({"id": 1}).encode()
    forged = webhook_headers(TOPIC, body, "not-the-secret", webhook_id="w1")
    assert (await desk.post(body, forged))[0] == 401
    unsigned = {k: v for k, v in forged.items() if k != "X-Shopify-Hmac-Sha256"}
    assert (await desk.post(body, unsigned))[0] == 401
    signed = webhook_headers(TOPIC, body, SECRET, webhook_id="w1")
    tampered = body.replace(b"1", b"2")
    assert (await desk.post(tampered, signed))[0] == 401
    assert receipts(desk.db) == []


async def test_without_a_secret_every_webhook_is_refused(db: Database, clock: FixedClock) -> None:
    services = Services(Settings(), db, DemoStore(db, clock), clock)
    app = create_app(services, f"desk_{uuid.uuid4().hex}", dispatch=False, notify=False)
    body = b"{}"
    headers = webhook_headers(TOPIC, body, "", webhook_id="w1")
    async with (
        serving(app) as base,
        aiohttp.ClientSession() as client,
        client.post(base + PATH, data=body, headers=headers) as reply,
    ):
        assert reply.status == 401


async def test_malformed_json_is_a_400_and_a_missing_webhook_id_too(desk: Desk) -> None:
    body = b"{not json"
    assert (await desk.post(body, webhook_headers(TOPIC, body, SECRET, webhook_id="w1")))[0] == 400
    good = b"{}"
    headers = webhook_headers(TOPIC, good, SECRET, webhook_id="w2")
    del headers["X-Shopify-Webhook-Id"]
    assert (await desk.post(good, headers))[0] == 400
    assert receipts(desk.db) == []


async def test_an_unexpected_shape_is_acknowledged_and_ignored_with_a_reason(desk: Desk) -> None:
    assert (await desk.send(TOPIC, ["not", "an", "event"]))[0] == 200
    (receipt,) = await eventually(processed(desk.db))
    assert receipt.status == "ignored"
    assert receipt.outcome.startswith("unexpected")


async def test_topics_we_do_not_handle_are_acknowledged_and_ignored(desk: Desk) -> None:
    assert (await desk.send("products/update", {"id": 5}))[0] == 200
    (receipt,) = await eventually(processed(desk.db))
    assert (receipt.status, receipt.outcome) == ("ignored", "topic not handled")


# --- the alert ----------------------------------------------------------------------------


async def test_a_consented_customer_gets_exactly_one_text_through_the_assistant(
    desk: Desk,
) -> None:
    assert await desk.scan(1001, "out_for_delivery", webhook_id="w-1") == (200, "")
    (item,) = await eventually(lambda: outbox(desk.db))
    assert item.purpose == "proactive"
    assert item.body == (
        "Pigeon Supply Co.: your order #1001 is out for delivery with UPS today. "
        "Track it: https://www.ups.com/track?tracknum=1Z999AA10123456784 "
        "Reply STOP to opt out."
    )
    (trigger,) = desk.rasa.triggers
    assert (trigger.sender_id, trigger.intent, trigger.output_channel) == (
        AVA,
        "EXTERNAL_shipment_update",
        "sms",
    )
    assert trigger.entities["order_number"] == "1001"
    assert trigger.entities["tracking_url"].startswith("https://www.ups.com/")

    # Shopify retries the same delivery, and tells the same news on other topics.
    for _ in range(8):
        assert (await desk.scan(1001, "out_for_delivery", webhook_id="w-1"))[0] == 200
    order = desk.store.order_by_number(1001)
    assert (await desk.send("orders/fulfilled", order_payload(order)))[0] == 200
    assert (await desk.scan(1001, "out_for_delivery"))[0] == 200
    await eventually(processed(desk.db, 3))
    await asyncio.sleep(0.5)
    assert len(outbox(desk.db)) == 1
    assert len(desk.rasa.triggers) == 1
    assert len(receipts(desk.db)) == 3


async def test_the_second_alert_to_a_number_has_no_opt_out_line(desk: Desk) -> None:
    await desk.scan(1001, "out_for_delivery")
    await eventually(lambda: outbox(desk.db))
    desk.clock.advance(timedelta(hours=2))
    await desk.scan(1001, "delivered")
    _, second = await eventually(lambda: outbox(desk.db)[1:] and outbox(desk.db))
    assert second.body == (
        "Pigeon Supply Co.: your order #1001 was delivered today. "
        "Not there? Reply to this text and we'll help."
    )


async def test_a_customer_who_never_consented_gets_no_text_and_the_reason_is_kept(
    desk: Desk,
) -> None:
    record_scan(desk.db, 1003, "in_transit", desk.clock)  # Chloe's order ships
    await desk.scan(1003, "in_transit")
    await eventually(processed(desk.db))
    (note,) = notes(desk.db)
    assert (note.status, note.reason) == ("suppressed", "no consent to shipping texts on record")
    assert desk.rasa.triggers == []
    assert outbox(desk.db, CHLOE) == []


async def test_an_opted_out_customer_gets_no_text(desk: Desk) -> None:
    order = desk.store.order_by_number(1004)  # Dev consented at checkout, then texted STOP
    with desk.db.write() as session:
        record_opt_out(session, order.phone, "keyword", detail="STOP")
    await desk.scan(1004, "delivered")
    await eventually(processed(desk.db))
    (note,) = notes(desk.db)
    assert (note.status, note.reason) == ("suppressed", "the number opted out")
    assert desk.rasa.triggers == []
    assert outbox(desk.db, order.phone) == []


async def test_rasa_down_then_back_the_alert_waits_and_goes_once(desk: Desk) -> None:
    desk.rasa.mode = "down"
    await desk.scan(1001, "out_for_delivery")
    await eventually(lambda: desk.rasa.refused >= 1)
    (note,) = notes(desk.db)
    assert note.status == "queued"
    assert "503" in note.last_error
    desk.rasa.mode = "compose"
    desk.clock.advance(timedelta(minutes=10))  # past the backoff
    (item,) = await eventually(lambda: outbox(desk.db))
    assert "out for delivery" in item.body
    assert notes(desk.db)[0].status == "sent"


async def test_a_paused_conversation_still_gets_the_alert_composed_by_the_desk(
    desk: Desk,
) -> None:
    desk.rasa.mode = "silent"  # handed to an agent: the assistant says nothing
    await desk.scan(1001, "delivered")
    (item,) = await eventually(lambda: outbox(desk.db))
    assert item.body.startswith("Pigeon Supply Co.: your order #1001 was delivered today.")
    assert len(desk.rasa.triggers) == 1


async def test_out_of_order_events_text_only_the_latest_news(desk: Desk) -> None:
    desk.rasa.mode = "down"  # nothing goes out while the burst arrives
    await desk.scan(1001, "delivered")
    desk.clock.advance(timedelta(hours=-3))
    await desk.scan(1001, "out_for_delivery")
    desk.clock.advance(timedelta(hours=-20))
    await desk.scan(1001, "in_transit")
    await eventually(processed(desk.db, 3))
    desk.clock.advance(timedelta(hours=23, minutes=10))
    desk.rasa.mode = "compose"
    (item,) = await eventually(lambda: outbox(desk.db))
    assert "was delivered" in item.body
    assert [(n.kind, n.status) for n in notes(desk.db)] == [("delivered", "sent")]


async def test_at_night_the_alert_waits_for_the_morning(desk: Desk) -> None:
    desk.clock.advance(timedelta(hours=13, minutes=30))  # 23:30 in Seattle
    await desk.scan(1001, "delivered")
    await eventually(processed(desk.db))
    await asyncio.sleep(0.5)
    assert outbox(desk.db) == []
    (note,) = notes(desk.db)
    assert note.due_at == datetime(2026, 6, 16, 15, 0, tzinfo=timezone.utc)  # 08:00 PDT
    desk.clock.advance(timedelta(hours=8))  # 07:30: still quiet
    await asyncio.sleep(0.5)
    assert outbox(desk.db) == []
    desk.clock.advance(timedelta(minutes=31))
    (item,) = await eventually(lambda: outbox(desk.db))
    assert "was delivered yesterday" in item.body


# --- python -m bot simulate-shipment ---------------------------------------------------------


async def test_simulate_shipment_records_the_scan_and_sends_the_signed_webhook(
    desk: Desk, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=str(desk.db.url.render_as_string(hide_password=False)),
        shopify_webhook_secret=SECRET,
    )
    sent = await asyncio.to_thread(
        simulate_shipment,
        settings,
        "1003",  # Chloe's order has not shipped: the simulation ships it first
        "out_for_delivery",
        desk.clock,
        location="New York, NY",
        desk_url=desk.url,
    )
    assert (sent.order_name, sent.status_code) == ("#1003", 200)
    order = desk.store.order_by_number(1003)
    (package,) = order.fulfillments
    assert (package.id, package.status, package.carrier) == (
        sent.fulfillment_id,
        "out_for_delivery",
        "UPS",
    )
    assert package.events[-1].location == "New York, NY"
    (note,) = await eventually(lambda: notes(desk.db))
    assert (note.fulfillment_id, note.kind, note.status) == (
        sent.fulfillment_id,
        "out_for_delivery",
        "suppressed",  # Chloe never consented
    )


def test_simulate_shipment_refuses_a_real_shop_and_an_unknown_order(db: Database, clock) -> None:
    shop = Settings(
        shopify_shop="demo.myshopify.com",
        shopify_access_token="shpat_x",
        shopify_webhook_secret=SECRET,
    )
    with pytest.raises(SettingsError, match="plays Shopify for the demo store"):
        simulate_shipment(shop, "1001", "delivered", clock)
    seed(db, ROOT / "data" / "demo", clock=clock)
    url = db.url.render_as_string(hide_password=False)
    demo = Settings(database_url=url, shopify_webhook_secret=SECRET)
    with pytest.raises(SimulationError, match="no order 4242"):
        simulate_shipment(demo, "4242", "delivered", clock)
