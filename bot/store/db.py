"""Engine and sessions: SQLite (WAL) by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from bot.errors import PigeonError


class DatabaseError(PigeonError, RuntimeError):
    """The database cannot be used; the message says which one and why."""


def safe_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


class Database:
    """One engine per process; short sessions for reads, immediate transactions for writes."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        try:
            self.url = make_url(url)
        except ArgumentError:
            raise DatabaseError(f"DATABASE_URL is not a database URL: {url!r}") from None
        self.engine = _create_engine(self.url, echo=echo)
        self._write_engine = self.engine.execution_options(pigeon_write=True)
        self._writers = _sqlite_writers(self.url) if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; nothing it does is committed."""
        with Session(self.engine, future=True, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on error.

        On SQLite it starts with BEGIN IMMEDIATE, so two writers queue on the lock
        instead of failing when one upgrades from reading to writing. Within a process
        they queue on a lock of ours first: SQLite's busy handler sleeps between tries
        (up to 100 ms), while a waiter here goes the moment the writer before it is done.
        """
        with (
            self._writers or nullcontext(),
            Session(self._write_engine, future=True, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    def check(self) -> None:
        """Raise DatabaseError unless a round trip to the database succeeds."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise DatabaseError(
                f"cannot reach the database at {safe_url(self.url)}: {_reason(exc)}"
            ) from None

    def dispose(self) -> None:
        self.engine.dispose()


def _reason(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__


_WRITERS: dict[str, threading.RLock] = {}
_WRITERS_LOCK = threading.Lock()


def _sqlite_writers(url: URL) -> threading.RLock:
    """One lock per SQLite file in this process, shared by every Database opened on it."""
    name = url.database or ":memory:"
    key = name if name == ":memory:" else str(Path(name).resolve())
    with _WRITERS_LOCK:
        return _WRITERS.setdefault(key, threading.RLock())


def _create_engine(url: URL, *, echo: bool) -> Engine:
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, echo=echo)
    if backend == "postgresql":
        return create_engine(
            url,
            future=True,
            echo=echo,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 5},
        )
    raise DatabaseError(f"unsupported database {backend!r}: use sqlite or postgresql")


def _sqlite_engine(url: URL, *, echo: bool) -> Engine:
    if url.database and url.database != ":memory:":
        path = Path(url.database)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create the directory for {path}: {exc.strerror}") from None
    # Keep connections open (SQLAlchemy 2.0's default; 1.4 opens one per session): closing
    # the last connection to a WAL database checkpoints it, a disk write every transaction.
    # A pooled connection is used by one thread at a time, so it may move between threads.
    pooled = {"poolclass": QueuePool} if url.database and url.database != ":memory:" else {}
    engine = create_engine(
        url,
        future=True,
        echo=echo,
        connect_args={"timeout": 30, "check_same_thread": False},
        **pooled,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        immediate = conn.get_execution_options().get("pigeon_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
