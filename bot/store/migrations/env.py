"""Alembic environment: runs against the Database handed over by bot.store.migrate."""

from alembic import context

import bot.store.demo_tables  # noqa: F401  (registers the demo store's tables)
from bot.store.migrate import include_name
from bot.store.models import Base

config = context.config
database = config.attributes["database"]

with database.engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_name=include_name,
        render_as_batch=database.is_sqlite,  # SQLite alters tables by copying them
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
