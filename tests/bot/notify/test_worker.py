"""The desk's notifier gives way to webhooks: each step waits for a lull in them first."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from bot.clock import FixedClock
from bot.config import Settings
from bot.notify.payloads import fulfillment_event_payload
from bot.notify.receipts import Webhook, backlog, insert_webhooks
from bot.notify.worker import Notifier
from bot.oms.demo import DemoStore
from bot.oms.demo_seed import seed
from bot.services import Services
from bot.store import Database

ROOT = Path(__file__).parents[3]


class SilentAssistant:
    """The assistant of a paused conversation: takes the alert, says nothing."""

    def __init__(self) -> None:
        self.triggered: list[str] = []

    async def trigger(self, sender_id: str, entities: Mapping[str, str]) -> None:
        self.triggered.append(sender_id)

    async def close(self) -> None:
        return None


async def test_every_webhook_and_every_alert_waits_for_a_lull_first(
    db: Database, clock: FixedClock
) -> None:
    seed(db, ROOT / "data" / "demo", clock=clock)
    store = DemoStore(db, clock)
    hooks = []
    for number in (1001, 1004):  # Ava's and Dev's orders, both consented
        order = store.order_by_number(number)
        body = fulfillment_event_payload(
            order, order.fulfillments[0], "out_for_delivery", clock.now(), event_id=number
        )
        hooks.append(Webhook(f"w{number}", "fulfillment_events/create", json.dumps(body)))
    insert_webhooks(db, hooks, clock)
    assistant = SilentAssistant()
    seen: list[tuple[int, int]] = []

    async def lull() -> None:  # what has happened each time the notifier waits
        seen.append((backlog(db), len(assistant.triggered)))

    services = Services(Settings(quiet_hours=None), db, store, clock)
    notifier = Notifier(services, assistant, lull=lull)
    assert await notifier.process_receipts()
    assert seen == [(2, 0), (1, 0)]
    assert await notifier.send_due()
    assert await notifier.send_due()
    assert seen[2:] == [(0, 0), (0, 1)]
    assert len(assistant.triggered) == 2
