from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import bot.store.demo_tables  # noqa: F401  (registers the demo tables on the metadata)
from bot.store import Database
from bot.store.migrate import (
    current_revision,
    downgrade,
    head_revision,
    include_name,
    is_up_to_date,
    upgrade,
)
from bot.store.models import Base


def test_migrations_create_exactly_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_database_is_at_head_after_upgrade(db: Database) -> None:
    assert current_revision(db) == head_revision()
    assert is_up_to_date(db)


def test_upgrade_is_idempotent(db: Database) -> None:
    upgrade(db)
    upgrade(db)
    assert is_up_to_date(db)


def test_downgrade_to_base_and_back(db: Database) -> None:
    downgrade(db, "base")
    left = {t for t in inspect(db.engine).get_table_names() if not t.startswith("sqlite_")}
    assert left == {"alembic_version"}
    upgrade(db)
    tables = set(inspect(db.engine).get_table_names())
    assert {"customers", "consent_events", "messages", "outbox", "demo_orders"} <= tables
