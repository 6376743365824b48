"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, and a fixed clock."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sanic import Sanic
from sqlalchemy import create_engine, text

from bot.clock import FixedClock
from bot.store import Database
from bot.store.migrate import upgrade
from bot.store.models import Base

POSTGRES_URL = os.environ.get("PIGEON_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
NOW = datetime(2026, 6, 15, 17, 0, tzinfo=timezone.utc)


def pytest_configure(config: pytest.Config) -> None:
    # Sanic rewrites its HTTP class on first start-up unless told that apps come and go.
    Sanic.test_mode = True


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "pigeon.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A fresh schema in the local PostgreSQL, migrated once and dropped at the end."""
    try:
        admin = create_engine(POSTGRES_URL, future=True, connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not available here"
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}: {str(exc).splitlines()[0]}")
    schema = f"pigeon_test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    db = Database(url)
    upgrade(db)
    db.dispose()
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database: every test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "pigeon.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
    else:
        database = Database(request.getfixturevalue("postgres_schema_url"))
        _truncate_all(database)
    try:
        yield database
    finally:
        database.dispose()


def _truncate_all(database: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with database.write() as session:
        session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
