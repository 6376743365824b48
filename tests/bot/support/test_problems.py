import pytest

from bot.support.problems import needs_person, problem_kind, tracking_reply
from tests.bot.support.build import NOW, ago, order, shipped_order


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("it says delivered but i never got it", "not_received"),
        ("tracking shows delivered, nothing here", "not_received"),
        ("i havent received my package", "not_received"),
        ("my package was stolen", "not_received"),
        ("the box arrived crushed and the jacket is ripped", "damaged"),
        ("hoodie came with a stain on it", "damaged"),
        ("you sent me the wrong size", "wrong_item"),
        ("this is not what i ordered", "wrong_item"),
        ("the socks were missing from the box", "missing_item"),
        ("only got one of the two items", "missing_item"),
        ("my order is late", "late"),
        ("wheres my package its been a week", "late"),
        ("tracking hasnt moved in 4 days", "late"),
        ("can you help with my delivery", "other"),
        ("", "other"),
    ],
)
def test_problem_kind(text: str, kind: str) -> None:
    assert problem_kind(text) == kind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # Words that merely contain a damage word ("stu-dent", "evi-dent") are not damage.
        ("it was delivered to the student mailroom but i never got it", "not_received"),
        ("evidently it says delivered but i never got it", "not_received"),
        # "late" inside another word is not lateness.
        ("can i add a chocolate bar to the box", "other"),
        ("the tracking page is not allowing me to see anything", "other"),
    ],
)
def test_problem_words_match_whole_words_not_pieces(text: str, kind: str) -> None:
    assert problem_kind(text) == kind


def test_problem_kind_ignores_case() -> None:
    assert problem_kind("IT ARRIVED DAMAGED") == "damaged"


def test_a_late_parcel_stays_with_the_assistant_unless_the_carrier_reports_a_problem() -> None:
    assert not needs_person("late", shipped_order(status="in_transit"))
    assert needs_person("late", shipped_order(status="failure"))
    assert needs_person("other", shipped_order(status="attempted_delivery"))
    assert not needs_person("other", order())


@pytest.mark.parametrize("kind", ["damaged", "wrong_item", "missing_item", "not_received"])
def test_anything_beyond_lateness_goes_to_a_person(kind: str) -> None:
    assert needs_person(kind, shipped_order(status="delivered", delivered=ago(days=1)))


def test_tracking_reply_has_the_last_scan_and_link() -> None:
    o = shipped_order(status="delivered", delivered=ago(days=5), last_scan=ago(days=5))
    assert tracking_reply(o, NOW) == (
        "Order #1001 was delivered on Wed, Jun 10. Last scan in Nashville, TN on Wed, Jun 10. "
        "Track it: https://www.ups.com/track?tracknum=1Z"
    )


def test_tracking_reply_for_a_scan_today_and_without_location() -> None:
    o = shipped_order(location=None, last_scan=ago(hours=2))
    assert tracking_reply(o, NOW) == (
        "Order #1001 is on its way with UPS. Last scan today. "
        "Track it: https://www.ups.com/track?tracknum=1Z"
    )


def test_tracking_reply_for_an_order_not_shipped() -> None:
    assert tracking_reply(order(), NOW) == (
        "Order #1001 hasn't shipped yet. We'll text you the tracking link when it does."
    )
