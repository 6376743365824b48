"""Action fixtures: the seeded store behind real services (trackers: trackers.py).

Every action test that uses the store runs on the demo store (SQLite and PostgreSQL) and on
the Shopify adapter, which talks real HTTP to a fake Shopify Admin API serving the same seeded
demo store (on SQLite only: on PostgreSQL it would test the fake's database, not the adapter).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.clock import FixedClock
from bot.config import Settings
from bot.oms.base import OrderSystem
from bot.oms.demo import DemoStore
from bot.oms.demo_seed import seed
from bot.services import Services
from bot.store import Database
from tests.fakes.shopify import FakeShopify, shopify_store

ROOT = Path(__file__).resolve().parents[2]
# (database, store) pairs every test using the store runs with.
BACKENDS = [("sqlite", "demo"), ("postgresql", "demo"), ("sqlite", "shopify")]


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize (db, store) together; a mark, so it takes the place of db's own params."""
    if "store" in metafunc.fixturenames:
        ids = [f"{database}-{kind}" for database, kind in BACKENDS]
        mark = pytest.mark.parametrize(("db", "store"), BACKENDS, indirect=True, ids=ids)
        metafunc.definition.add_marker(mark)


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """domain.yml as the action server receives it."""
    return yaml.safe_load((ROOT / "domain.yml").read_text())


@pytest.fixture(scope="session")
def shopify_server() -> Iterator[FakeShopify]:
    with FakeShopify() as fake:
        yield fake


@pytest.fixture
def store(request: pytest.FixtureRequest, db: Database, clock: FixedClock) -> Iterator[OrderSystem]:
    """The demo store seeded from data/demo at the fixed clock's time, or Shopify serving it.

    Which one is `request.param` (see BACKENDS), so no test can use a store unparametrized.
    """
    seed(db, ROOT / "data" / "demo", clock=clock)
    if request.param == "demo":
        yield DemoStore(db, clock)
        return
    fake: FakeShopify = request.getfixturevalue("shopify_server")
    fake.serve(db, clock)
    adapter = shopify_store(fake)
    try:
        yield adapter
    finally:
        adapter.close()
        fake.reset()


@pytest.fixture
def services(db: Database, store: OrderSystem, clock: FixedClock) -> Services:
    return Services(settings=Settings(), db=db, oms=store, clock=clock)
