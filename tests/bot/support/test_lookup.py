from __future__ import annotations

import pytest

from bot.support.lookup import Chooser, may_see, order_number_in
from bot.support.orders import pick_cancellable, pick_order, pick_shipped
from bot.support.returns import pick_returnable
from tests.bot.support.build import AVA, order, shipped_order

BEN = "+13055550102"
AVAS = shipped_order(1001)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1001", "1001"),
        ("#1001", "1001"),
        ("# 1001", "1001"),
        ("order 1001", "1001"),
        ("its 1001 pls", "1001"),
        ("where is #998?", "998"),
        ("order number is 10452.", "10452"),
    ],
)
def test_order_number_in(text: str, number: str) -> None:
    assert order_number_in(text) == number


@pytest.mark.parametrize("text", ["", None, "my order", "it's 12", "order #", "ab"])
def test_no_order_number(text: str | None) -> None:
    assert order_number_in(text) is None


def test_the_number_on_the_order_may_see_it() -> None:
    assert may_see(AVAS, AVA, None)
    assert not may_see(AVAS, BEN, None)
    assert not may_see(AVAS, None, None)


def test_proving_the_order_lets_any_sender_see_it() -> None:
    assert may_see(AVAS, BEN, "1001")
    assert may_see(AVAS, None, "1001")


def test_proving_one_order_does_not_open_another() -> None:
    assert not may_see(AVAS, BEN, "998")
    assert not may_see(order(998, phone=AVA), BEN, "1001")


def test_an_order_without_a_phone_is_nobodys_by_number() -> None:
    assert not may_see(order(phone=None), None, None)
    assert may_see(order(phone=None), None, "1001")


@pytest.mark.parametrize("chooser", [pick_order, pick_cancellable, pick_shipped, pick_returnable])
def test_every_chooser_fits_the_chooser_type_and_handles_no_orders(chooser: Chooser) -> None:
    assert chooser([]) == (None, 0)
    assert chooser([AVAS])[0] == AVAS
