import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from bot.store import Database, DatabaseError
from bot.store.models import Conversation, Customer, Message


def _conversation(db: Database) -> int:
    with db.write() as session:
        customer = Customer(phone="+12065550101", name="Ava Chen")
        conversation = Conversation(customer=customer, channel="sms")
        session.add(conversation)
        session.flush()
        return conversation.id


def test_datetimes_come_back_aware_and_in_utc(db: Database) -> None:
    seattle = timezone(timedelta(hours=-7))
    with db.write() as session:
        morning = datetime(2026, 6, 1, 9, 30, tzinfo=seattle)
        session.add(Customer(phone="+12065550101", created_at=morning))
    with db.read() as session:
        created = session.execute(select(Customer.created_at)).scalar_one()
    assert created == datetime(2026, 6, 1, 16, 30, tzinfo=timezone.utc)
    assert created.tzinfo is timezone.utc


def test_naive_datetimes_are_refused(db: Database) -> None:
    with db.write() as session:
        session.add(Customer(phone="+12065550101", created_at=datetime(2026, 6, 1, 9, 30)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()
        session.rollback()


def test_a_repeated_provider_message_id_is_refused(db: Database) -> None:
    conversation_id = _conversation(db)
    row = {"conversation_id": conversation_id, "direction": "in", "author": "customer"}
    with db.write() as session:
        session.add(Message(**row, channel="sms", body="where is my order", external_id="SM1"))
    with pytest.raises(IntegrityError), db.write() as session:
        session.add(Message(**row, channel="sms", body="where is my order", external_id="SM1"))
    with db.read() as session:
        count = session.execute(select(Message)).scalars().all()
    assert len(count) == 1


def test_the_same_id_on_another_channel_is_a_different_message(db: Database) -> None:
    conversation_id = _conversation(db)
    row = {"conversation_id": conversation_id, "direction": "in", "author": "customer", "body": ""}
    with db.write() as session:
        session.add(Message(**row, channel="sms", external_id="X1"))
        session.add(Message(**row, channel="email", external_id="X1"))
        session.add(Message(**row, channel="sms", external_id=None))
        session.add(Message(**row, channel="sms", external_id=None))


def _write_then_fail(db: Database) -> None:
    with db.write() as session:
        session.add(Customer(phone="+12065550101"))
        session.flush()
        raise RuntimeError("boom")


def test_a_failed_write_leaves_nothing_behind(db: Database) -> None:
    with pytest.raises(RuntimeError):
        _write_then_fail(db)
    with db.read() as session:
        assert session.execute(select(Customer)).first() is None


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError), db.write() as session:
        session.add(Conversation(customer_id=999, channel="sms"))


def test_check_passes_on_a_working_database(db: Database) -> None:
    db.check()


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path}/sub/dir/pigeon.db")
    with db.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    assert (tmp_path / "sub" / "dir").is_dir()
    db.dispose()


def test_sqlite_writers_in_one_process_take_turns_without_sleeping(tmp_path) -> None:
    """Writers queue on an in-process lock, not on SQLite's busy handler, which sleeps.

    Two Database objects on one file (the channel's and the dispatcher's, say) share it.
    """
    first = Database(f"sqlite:///{tmp_path / 'pigeon.db'}")
    second = Database(f"sqlite:///{tmp_path}/./pigeon.db")
    with first.write() as session:
        session.execute(text("CREATE TABLE hits (n INTEGER)"))
    holding, waited = threading.Event(), []

    def hold_the_lock() -> None:
        with first.write() as session:
            session.execute(text("INSERT INTO hits VALUES (1)"))
            holding.set()
            time.sleep(0.3)

    def write_next() -> None:
        holding.wait(5)
        started = time.monotonic()
        with second.write() as session:
            session.execute(text("INSERT INTO hits VALUES (2)"))
        waited.append(time.monotonic() - started)

    threads = [threading.Thread(target=hold_the_lock), threading.Thread(target=write_next)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    with second.read() as session:
        assert session.scalars(text("SELECT n FROM hits ORDER BY rowid")).all() == [1, 2]
    assert first._writers is second._writers
    assert 0.2 <= waited[0] < 5  # it waited for the first writer, and then went on


def test_unreachable_postgres_gives_a_one_line_error_without_password() -> None:
    db = Database("postgresql://pigeon:hunter2@127.0.0.1:9/pigeon")
    with pytest.raises(DatabaseError) as error:
        db.check()
    message = str(error.value)
    assert "cannot reach the database at postgresql://pigeon:***@127.0.0.1:9/pigeon" in message
    assert "hunter2" not in message
    assert "\n" not in message


def test_a_garbage_url_is_a_clear_error() -> None:
    with pytest.raises(DatabaseError, match="not a database URL"):
        Database("not a url")


def test_an_unsupported_database_is_a_clear_error() -> None:
    with pytest.raises(DatabaseError, match="unsupported database 'mysql'"):
        Database("mysql://root@localhost/test")
