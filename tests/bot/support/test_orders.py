from datetime import timedelta

import pytest

from bot.support.orders import (
    cancel_refusal,
    is_open,
    pick_cancellable,
    pick_order,
    pick_shipped,
    status_phrase,
    status_reply,
)
from tests.bot.support.build import NOW, ago, line, order, shipment, shipped_order

LA = "America/Los_Angeles"


def test_an_order_is_open_until_cancelled_or_all_delivered() -> None:
    assert is_open(order(lines=(line(),)))  # not shipped
    assert is_open(shipped_order(status="in_transit"))
    assert not is_open(shipped_order(status="delivered", delivered=ago(days=1)))
    assert not is_open(order(cancelled=ago(days=1)))


def test_a_partly_shipped_order_is_open_even_when_the_shipped_part_arrived() -> None:
    first, second = line("1"), line("2", "Everyday Crew Tee")
    arrived = shipment("delivered", first, delivered=ago(days=1))
    assert is_open(order(lines=(first, second), shipments=(arrived,)))


def test_pick_order_takes_the_newest_open_order_and_counts_the_other_open_ones() -> None:
    old_open = shipped_order(1001, placed=ago(days=9))
    new_open = order(1005, placed=ago(days=1))
    newest_closed = shipped_order(1006, "delivered", placed=ago(hours=2), delivered=ago(hours=1))
    assert pick_order([old_open, newest_closed, new_open]) == (new_open, 1)


def test_pick_order_with_nothing_open_takes_the_newest_order() -> None:
    old = shipped_order(998, "delivered", placed=ago(days=40), delivered=ago(days=38))
    new = order(1002, placed=ago(days=2), cancelled=ago(days=1))
    assert pick_order([old, new]) == (new, 0)
    assert pick_order([]) == (None, 0)


def test_pick_shipped_prefers_a_shipped_open_order_to_a_newer_unshipped_one() -> None:
    moving = shipped_order(1005, placed=ago(days=1))
    waiting = order(1006, placed=ago(hours=2))
    delivered = shipped_order(1000, "delivered", placed=ago(days=20), delivered=ago(days=16))
    assert pick_shipped([waiting, moving, delivered]) == (moving, 0)
    assert pick_shipped([waiting, delivered]) == (delivered, 0)
    assert pick_shipped([waiting]) == (waiting, 0)


def test_in_transit_with_carrier_and_eta_in_the_customers_zone() -> None:
    o = shipped_order(eta=NOW + timedelta(days=2))
    assert status_phrase(o, NOW, LA) == "is on its way with UPS, arriving Wed, Jun 17"


def test_an_eta_already_past_is_left_out() -> None:
    o = shipped_order(eta=ago(days=1))
    assert status_phrase(o, NOW, LA) == "is on its way with UPS"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("label_purchased", "is packed and waiting for UPS"),
        ("out_for_delivery", "is out for delivery with UPS today"),
        ("ready_for_pickup", "is ready for pickup at Nashville, TN (UPS)"),
        ("delayed", "is delayed with UPS (Weather)"),
        ("attempted_delivery", "UPS tried to deliver it but couldn't (Weather)"),
        ("failure", "couldn't be delivered by UPS (Weather)"),
    ],
)
def test_shipment_statuses_in_plain_words(status: str, expected: str) -> None:
    o = shipped_order(
        status=status,
        message="Weather" if status in {"delayed", "attempted_delivery", "failure"} else None,
    )
    assert status_phrase(o, NOW) == expected


def test_a_carrier_message_ending_in_a_full_stop_is_not_doubled() -> None:
    o = shipped_order(status="failure", message="Address not found.")
    assert status_reply(o, 0, NOW).startswith(
        "Order #1001 couldn't be delivered by UPS (Address not found). Track it:"
    )


def test_delivered_says_when() -> None:
    assert status_phrase(shipped_order(status="delivered", delivered=ago(days=1)), NOW) == (
        "was delivered yesterday"
    )
    assert status_phrase(shipped_order(status="delivered", delivered=ago(days=5)), NOW) == (
        "was delivered on Wed, Jun 10"
    )


def test_unshipped_cancelled_and_partial_orders() -> None:
    assert status_phrase(order(), NOW).startswith("hasn't shipped yet")
    assert status_phrase(order(cancelled=ago(days=2)), NOW) == "was cancelled on Sat, Jun 13"
    first, second = line("1"), line("2", "Everyday Crew Tee")
    partial = order(lines=(first, second), shipments=(shipment("in_transit", first),))
    assert status_phrase(partial, NOW).endswith(". The rest of the order hasn't shipped yet")


def test_status_reply_has_the_tracking_link_until_delivery() -> None:
    moving = status_reply(shipped_order(eta=NOW + timedelta(days=2)), 0, NOW, LA)
    assert moving == (
        "Order #1001 is on its way with UPS, arriving Wed, Jun 17. "
        "Track it: https://www.ups.com/track?tracknum=1Z"
    )
    arrived = status_reply(shipped_order(status="delivered", delivered=ago(days=1)), 0, NOW)
    assert arrived == "Order #1001 was delivered yesterday."


def test_status_reply_mentions_other_open_orders() -> None:
    assert status_reply(order(), 1, NOW).endswith(
        "You have 1 other open order; text its number for an update."
    )
    assert "2 other open orders" in status_reply(order(), 2, NOW)


def test_status_reply_never_contains_personal_data() -> None:
    reply = status_reply(shipped_order(eta=NOW + timedelta(days=2)), 1, NOW)
    for private in ("Pine", "Seattle", "98101", "ava@example.com", "Ava", "+1206"):
        assert private not in reply


def test_cancel_refusal() -> None:
    assert cancel_refusal(order()) is None
    assert cancel_refusal(order(cancelled=ago(days=1))) == "Order #1001 is already cancelled."
    shipped = cancel_refusal(shipped_order())
    assert shipped is not None
    assert shipped.startswith("Order #1001 has already shipped, so it can't be cancelled.")
    assert "return" in shipped


def test_pick_cancellable_prefers_the_newest_unshipped_order() -> None:
    waiting = order(1003, placed=ago(days=3))
    moving = shipped_order(1005, placed=ago(days=1))
    assert pick_cancellable([moving, waiting]) == (waiting, 0)


def test_pick_cancellable_with_nothing_unshipped_falls_back_to_the_usual_choice() -> None:
    moving = shipped_order(1005, placed=ago(days=1))
    gone = order(1006, placed=ago(hours=1), cancelled=ago(hours=1))
    assert pick_cancellable([moving, gone]) == (moving, 0)
