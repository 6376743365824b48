"""Shopify down: the customer hears so, the session and the form carry on, nothing is lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rasa_sdk.events import SessionStarted
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ValidateProductForm, ValidateStatusForm
from actions.orders import ActionOrderStatus
from actions.products import ActionProductQuestion
from actions.session import ActionSessionStart
from bot.clock import FixedClock
from bot.config import Settings
from bot.oms.demo_seed import seed
from bot.services import Services
from bot.store import Database
from bot.support.replies import reply
from tests.actions.conftest import ROOT
from tests.actions.trackers import AVA, entity, form_tracker, make_tracker, texts
from tests.fakes.shopify import FakeShopify, shopify_store

DOWN = reply("order_system_down")
FOREVER = 10_000  # more failures than any retry budget
# The adapter is the subject here, not the database: SQLite only.
pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


@pytest.fixture
def down(db: Database, clock: FixedClock) -> Iterator[tuple[Services, FakeShopify]]:
    """The real Shopify adapter against a fake Admin API that answers 503 to everything."""
    seed(db, ROOT / "data" / "demo", clock=clock)
    with FakeShopify() as fake:
        fake.serve(db, clock)
        fake.fail_next(FOREVER, status=503)
        adapter = shopify_store(fake)
        try:
            yield Services(settings=Settings(), db=db, oms=adapter, clock=clock), fake
        finally:
            adapter.close()


async def test_an_order_question_is_answered_with_an_apology_not_silence(down, domain) -> None:
    services, fake = down
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(AVA, slots={"order_number": "1001", "verification": "phone"})
    events = await ActionOrderStatus(services).run(dispatcher, tracker, domain)
    assert texts(dispatcher) == [DOWN]
    assert events == []
    assert fake.received, "the adapter never asked Shopify"


async def test_a_form_keeps_its_place_when_the_order_cannot_be_looked_up(down, domain) -> None:
    services, _ = down
    dispatcher = CollectingDispatcher()
    tracker = form_tracker(
        AVA,
        "status_form",
        "its 1001",
        requested="order_number",
        entities=[entity("order_number", "1001")],
        candidates={"order_number": "1001"},
    )
    events = await ValidateStatusForm(services).run(dispatcher, tracker, domain)
    assert texts(dispatcher) == [DOWN]
    assert events == []  # requested_slot unchanged: the next text retries the same step


async def test_product_questions_apologise_too(down, domain) -> None:
    services, _ = down
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(AVA, slots={"product": "trailhead hoodie"})
    await ActionProductQuestion(services).run(dispatcher, tracker, domain)
    assert texts(dispatcher) == [DOWN]
    dispatcher = CollectingDispatcher()
    form = form_tracker(AVA, "product_form", "is the trailhead hoodie in stock", "product_question")
    await ValidateProductForm(services).run(dispatcher, form, domain)
    assert texts(dispatcher) == [DOWN]


async def test_a_session_still_starts_without_the_customers_name(down, domain) -> None:
    services, _ = down
    dispatcher = CollectingDispatcher()
    events = await ActionSessionStart(services).run(dispatcher, make_tracker(AVA), domain)
    assert events[0] == SessionStarted()
    names = [e.get("name") for e in events if e.get("event") == "slot"]
    assert "store_name" in names
    assert "customer_name" not in names
    assert texts(dispatcher) == []
