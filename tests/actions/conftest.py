"""Action fixtures: the seeded demo store behind real services (trackers: trackers.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.clock import FixedClock
from bot.config import Settings
from bot.oms.demo import DemoStore
from bot.oms.demo_seed import seed
from bot.services import Services
from bot.store import Database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """domain.yml as the action server receives it."""
    return yaml.safe_load((ROOT / "domain.yml").read_text())


@pytest.fixture
def store(db: Database, clock: FixedClock) -> DemoStore:
    """The demo store, seeded from data/demo at the fixed clock's time."""
    seed(db, ROOT / "data" / "demo", clock=clock)
    return DemoStore(db, clock)


@pytest.fixture
def services(db: Database, store: DemoStore, clock: FixedClock) -> Services:
    return Services(settings=Settings(), db=db, oms=store, clock=clock)
