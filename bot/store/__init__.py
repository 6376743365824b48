"""The data layer: models, engine and migrations."""

from bot.store.db import Database, DatabaseError

__all__ = ["Database", "DatabaseError"]
