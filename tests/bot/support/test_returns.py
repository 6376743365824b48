from datetime import timedelta

import pytest

from bot.support.returns import (
    check_return,
    choose_items,
    item_titles,
    partial_note,
    pick_returnable,
    return_check,
)
from tests.bot.support.build import (
    NOW,
    ago,
    line,
    order,
    policies,
    returnable,
    shipment,
    shipped_order,
)

JACKET = line("1", "Ridgeline Rain Jacket", "M / Moss", price="148.00")
TEE = line("2", "Everyday Crew Tee", "M / White", price="28.00")
FLEECE = line("3", "Alpine Fleece Pullover (Archive Sale)", "M / Oatmeal", final_sale=True)
CAP = line("4", "Canvas Trucker Cap", "Olive", price="26.00")


def delivered_order(*items, days_ago: float = 5):
    arrived = shipment("delivered", *items, delivered=ago(days=days_ago))
    return order(1002, lines=items, shipments=(arrived,))


def test_delivered_items_within_the_window_can_be_returned() -> None:
    o = delivered_order(JACKET, TEE)
    options = [returnable(JACKET, ago(days=5)), returnable(TEE, ago(days=5))]
    check = check_return(o, options, policies(), NOW)
    assert [r.line_item for r in check.eligible] == [JACKET, TEE]
    assert check.refused == ()


def test_the_window_counts_from_delivery() -> None:
    o = delivered_order(JACKET, days_ago=40)
    check = check_return(o, [returnable(JACKET, ago(days=40))], policies(), NOW)
    assert check.eligible == ()
    assert [(r.item, r.reason) for r in check.refused] == [
        (JACKET, "was delivered more than 30 days ago")
    ]
    edge = check_return(o, [returnable(JACKET, NOW - timedelta(days=30))], policies(), NOW)
    assert len(edge.eligible) == 1


def test_final_sale_items_are_refused_and_the_rest_stay_eligible() -> None:
    o = delivered_order(FLEECE, CAP, days_ago=16)
    check = check_return(o, [returnable(CAP, ago(days=16))], policies(), NOW)
    assert [r.line_item for r in check.eligible] == [CAP]
    assert [(r.item, r.reason) for r in check.refused] == [(FLEECE, "is final sale")]


def test_items_not_shipped_not_delivered_or_already_back() -> None:
    waiting = order(1003, lines=(JACKET,))
    assert check_return(waiting, [], policies(), NOW).refused[0].reason == "hasn't shipped yet"

    moving = order(1001, lines=(JACKET,), shipments=(shipment("in_transit", JACKET),))
    refused = check_return(moving, [], policies(), NOW).refused
    assert refused[0].reason == "hasn't been delivered yet"

    back = delivered_order(JACKET)  # delivered, but no longer returnable: already returned
    refused = check_return(back, [], policies(), NOW).refused
    assert refused[0].reason == "has already been returned"


def test_a_cancelled_order_cannot_be_returned() -> None:
    o = order(lines=(JACKET,), cancelled=ago(days=1))
    assert check_return(o, [], policies(), NOW).refused[0].reason == "was cancelled"


def test_a_store_with_a_shorter_window() -> None:
    o = delivered_order(TEE, days_ago=10)
    check = check_return(o, [returnable(TEE, ago(days=10))], policies(return_window_days=7), NOW)
    assert check.refused[0].reason == "was delivered more than 7 days ago"


ELIGIBLE = (returnable(JACKET, ago(days=5)), returnable(TEE, ago(days=5)))


@pytest.mark.parametrize(
    ("answer", "chosen"),
    [
        ("the jacket", [JACKET]),
        ("rain jackets", [JACKET]),
        ("just the tee pls", [TEE]),
        ("the white one", [TEE]),
        ("both", [JACKET, TEE]),
        ("ALL", [JACKET, TEE]),
        ("everything", [JACKET, TEE]),
        ("the jacket and the tee", [JACKET, TEE]),
        ("banana", []),
        ("", []),
        (None, []),
    ],
)
def test_choose_items_by_name(answer: str | None, chosen: list) -> None:
    assert [r.line_item for r in choose_items(ELIGIBLE, answer)] == chosen


def test_a_size_letter_in_the_answer_does_not_pick_every_item_in_that_size() -> None:
    assert [r.line_item for r in choose_items(ELIGIBLE, "i'm sending back the tee")] == [TEE]
    assert [r.line_item for r in choose_items(ELIGIBLE, "m")] == []


def test_it_or_yes_picks_the_only_item() -> None:
    only = (returnable(CAP, ago(days=5)),)
    assert [r.line_item for r in choose_items(only, "yes")] == [CAP]
    assert choose_items(ELIGIBLE, "yes") == []


def test_item_titles_include_the_variant() -> None:
    assert item_titles([ELIGIBLE[0], CAP]) == [
        "Ridgeline Rain Jacket (M / Moss)",
        "Canvas Trucker Cap (Olive)",
    ]


def test_partial_note_says_what_can_and_cannot_go_back() -> None:
    o = delivered_order(FLEECE, CAP, days_ago=16)
    check = check_return(o, [returnable(CAP, ago(days=16))], policies(), NOW)
    assert partial_note(check) == (
        "Canvas Trucker Cap (Olive) can be returned; "
        "Alpine Fleece Pullover (Archive Sale) is final sale."
    )
    everything = check_return(delivered_order(TEE), [returnable(TEE, ago(days=5))], policies(), NOW)
    assert partial_note(everything) is None


def test_pick_returnable_takes_the_newest_delivered_order() -> None:
    old = shipped_order(998, "delivered", placed=ago(days=46), delivered=ago(days=40))
    recent = shipped_order(1000, "delivered", placed=ago(days=20), delivered=ago(days=16))
    moving = shipped_order(1001, placed=ago(days=9))
    waiting = order(1006, placed=ago(hours=2))
    assert pick_returnable([old, moving, recent, waiting]) == (recent, 0)


def test_pick_returnable_counts_a_partly_delivered_order() -> None:
    first, second = line("1"), line("2", "Everyday Crew Tee")
    arrived = shipment("delivered", first, delivered=ago(days=1))
    partly = order(1007, lines=(first, second), shipments=(arrived,), placed=ago(days=3))
    old = shipped_order(998, "delivered", placed=ago(days=46), delivered=ago(days=40))
    assert pick_returnable([old, partly]) == (partly, 0)


def test_pick_returnable_with_nothing_delivered_takes_the_newest_order() -> None:
    moving = shipped_order(1001, placed=ago(days=9))
    waiting = order(1006, placed=ago(hours=2))
    assert pick_returnable([moving, waiting]) == (waiting, 0)
    assert pick_returnable([]) == (None, 0)


class Store:
    """The two things return_check asks the order system: what can go back, and the policies."""

    def __init__(self, returnable: list, window: int = 30) -> None:
        self._returnable, self._window = returnable, window
        self.asked: list[str] = []

    def returnable_items(self, order_id: str) -> list:
        self.asked.append(order_id)
        return self._returnable

    def policies(self):
        return policies(return_window_days=self._window)


def test_return_check_uses_the_stores_items_and_window() -> None:
    o = delivered_order(JACKET, TEE, days_ago=10)
    store = Store([returnable(JACKET, ago(days=10)), returnable(TEE, ago(days=10))])
    assert [r.line_item for r in return_check(store, o, NOW).eligible] == [JACKET, TEE]
    assert store.asked == ["1002"]

    short = Store([returnable(JACKET, ago(days=10))], window=7)
    check = return_check(short, o, NOW)
    assert check.eligible == ()
    assert [(r.item, r.reason) for r in check.refused] == [
        (JACKET, "was delivered more than 7 days ago"),
        (TEE, "has already been returned"),
    ]
