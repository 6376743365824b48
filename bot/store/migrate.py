"""Alembic, driven from code: `python -m bot migrate` and the tests use the same path."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from bot.store.db import Database, DatabaseError, safe_url

MIGRATIONS = Path(__file__).parent / "migrations"


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave the database's own bookkeeping (SQLite's sqlite_sequence) out of comparisons."""
    return not (type_ == "table" and name is not None and name.startswith("sqlite_"))


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database"] = db
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to `revision`; each migration runs in its own transaction."""
    db.check()
    try:
        command.upgrade(alembic_config(db), revision)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"migrating {safe_url(db.url)} failed: {exc.orig or exc}") from None


def downgrade(db: Database, revision: str) -> None:
    command.downgrade(alembic_config(db), revision)


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def is_up_to_date(db: Database) -> bool:
    return current_revision(db) == head_revision()


def new_revision(db: Database, message: str) -> None:
    """Autogenerate a migration from the difference between the models and `db`.

    Revisions are numbered 0001, 0002, ... so the versions folder reads in order.
    """
    rev_id = f"{len(list((MIGRATIONS / 'versions').glob('[0-9]*.py'))) + 1:04d}"
    command.revision(alembic_config(db), message=message, autogenerate=True, rev_id=rev_id)
