"""Which order system the settings build: Shopify when configured, the demo store otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.oms.demo import DemoStore
from bot.oms.demo_yaml import DemoDataError
from bot.oms.policies import load_policies
from bot.oms.shopify import ShopifyStore
from bot.services import build_order_system
from bot.store import Database
from tests.fakes.shopify import POLICIES, TOKEN, VERSION, FakeShopify, fixture

SHOP = {"SHOPIFY_SHOP": "pigeon-demo.myshopify.com", "SHOPIFY_ACCESS_TOKEN": TOKEN}


@pytest.fixture
def db(tmp_path: Path) -> Database:
    """Never opened: building an order system must not touch the database."""
    return Database(f"sqlite:///{tmp_path / 'unused.db'}")


def test_without_a_shop_it_is_the_demo_store(db: Database, clock: FixedClock) -> None:
    assert isinstance(build_order_system(Settings.from_env({}), db, clock), DemoStore)


def test_with_a_shop_and_token_it_is_shopify_at_the_pinned_version(
    db: Database, clock: FixedClock
) -> None:
    with FakeShopify() as fake:
        settings = Settings.from_env({**SHOP, "SHOPIFY_API_URL": fake.url})
        oms = build_order_system(settings, db, clock)
        assert isinstance(oms, ShopifyStore)
        try:
            fake.answer_next(fixture("order.json"))
            assert oms.order_by_id("5830000001042").name == "#1042"
            assert oms.policies() == load_policies(POLICIES)
        finally:
            oms.close()
        (request,) = fake.received
    assert request.path == f"/admin/api/{VERSION}/graphql.json"
    assert request.headers["x-shopify-access-token"] == TOKEN


def test_a_bad_policies_file_stops_start_up(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    broken = tmp_path / "policies.yml"
    broken.write_text("return_window_days: thirty\n")
    settings = Settings.from_env({**SHOP, "STORE_POLICIES_FILE": str(broken)})
    with pytest.raises(DemoDataError, match="policies.yml"):
        build_order_system(settings, db, clock)
