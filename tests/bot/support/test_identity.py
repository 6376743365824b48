from datetime import timedelta

import pytest

from bot.oms.base import Address
from bot.store import Database
from bot.support.identity import (
    is_locked,
    owns_order,
    recent_failures,
    record_attempt,
    secret_matches,
)
from tests.bot.support.build import NOW, order


def test_the_number_on_the_order_owns_it() -> None:
    o = order(phone="+12065550101")
    assert owns_order(o, "+12065550101")
    assert not owns_order(o, "+13055550102")
    assert not owns_order(o, None)
    assert not owns_order(order(phone=None), None)


@pytest.mark.parametrize(
    "answer",
    [
        "ava@example.com",
        "AVA@Example.COM",
        " ava@example.com. ",
        "<ava@example.com>",
        "my email is Ava@example.com",
        "its ava@example.com thanks",
        "98101",
        "98101-1234",
        "981011234",
        "zip is 98101",
        "order 1001 zip 98101",
    ],
)
def test_the_orders_email_or_zip_verifies(answer: str) -> None:
    assert secret_matches(order(), answer)


@pytest.mark.parametrize(
    "answer",
    [
        "",
        None,
        "ben@example.com",
        "ava@example.co",
        "xava@example.com",
        "33145",
        "9810",
        "98 101 but not sure",
        "1001",
        "ok",
        "phone",
        "98102 98101",  # one try per message: only the first ZIP counts
    ],
)
def test_anything_else_does_not(answer: str | None) -> None:
    assert not secret_matches(order(), answer)


def test_an_order_without_email_or_address_cannot_be_verified_by_them() -> None:
    bare = order(email=None, address=None)
    assert not secret_matches(bare, "ava@example.com")
    assert not secret_matches(bare, "98101")
    no_zip = order(address=Address(None, None, None, None, None, "US"))
    assert not secret_matches(no_zip, "00000")


def test_three_failures_within_the_hour_lock_the_sender(db: Database) -> None:
    with db.write() as session:
        record_attempt(session, "+13055550102", "1001", False, NOW - timedelta(minutes=50))
        record_attempt(session, "+13055550102", "1001", True, NOW - timedelta(minutes=40))
        record_attempt(session, "+13055550102", "1001", False, NOW - timedelta(minutes=30))
        record_attempt(session, "+12125550103", "1001", False, NOW - timedelta(minutes=30))
    with db.read() as session:
        assert recent_failures(session, "+13055550102", NOW) == 2
        assert not is_locked(session, "+13055550102", NOW)
    with db.write() as session:
        record_attempt(session, "+13055550102", "1001", False, NOW)
    with db.read() as session:
        assert is_locked(session, "+13055550102", NOW)
        assert not is_locked(session, "+12125550103", NOW)
        # Ten minutes later the first failure is more than an hour old.
        assert not is_locked(session, "+13055550102", NOW + timedelta(minutes=11))
