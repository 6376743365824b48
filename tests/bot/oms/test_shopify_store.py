"""The Shopify adapter, against a fake Shopify serving the seeded demo store, answers as the
demo store does: field by field, for every order, customer and search."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.oms.base import NotCancellable, NotReturnable, OrderSystem, ReturnLine
from bot.oms.demo import DemoStore
from bot.oms.demo_seed import seed
from bot.oms.shopify import CANCEL_WAITS, ShopifyStore
from bot.oms.shopify_products import Reach
from bot.store import Database
from bot.store.demo_tables import DemoCustomer, DemoOrder
from tests.fakes.shopify import FakeShopify, shopify_store

DATA_DIR = Path(__file__).resolve().parents[3] / "data" / "demo"
SEARCHES = [
    ("do you have hoodies", "medium", None, 5),
    ("HOODIE", None, "gray", 1),
    ("hoodie", "XL", "NAVY", 5),
    ("hoodie", "XXL", None, 5),
    ("jackets", None, None, 5),
    ("rain jacket", None, None, 5),
    ("puffer", None, "black", 5),
    ("socks", None, None, 5),
    ("black", None, None, 2),
    ("merino", None, None, 5),
    ("wool", None, None, 5),
    ("trailhed hoody", None, None, 5),
    ("ridgline jaket", None, None, 5),
    ("insulated jaket", "M", None, 5),
    ("kayak", None, None, 5),
    ("the", None, None, 5),
    ("hoodie", None, None, 0),
]
TYPOS = ["trailhed", "ridgline jaket", "insulated jaket", "puffr"]


@pytest.fixture
def demo(db: Database, clock: FixedClock) -> DemoStore:
    seed(db, DATA_DIR, clock)
    return DemoStore(db, clock)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def served(
    fake_shopify: FakeShopify, demo: DemoStore, db: Database, clock: FixedClock
) -> FakeShopify:
    fake_shopify.serve(db, clock)
    return fake_shopify


@pytest.fixture
def shop(served: FakeShopify, sleeps: list[float]) -> Iterator[ShopifyStore]:
    store = shopify_store(served, sleep=sleeps.append)
    yield store
    store.close()


@pytest.fixture
def big_shop(served: FakeShopify) -> Iterator[ShopifyStore]:
    """As if the catalogue were bigger than a page: Shopify's search, then a scan for typos."""
    store = shopify_store(served, reach=Reach(page=3, scan=15))
    yield store
    store.close()


def _numbers(db: Database) -> list[int]:
    with db.read() as session:
        return list(session.scalars(select(DemoOrder.id).order_by(DemoOrder.id)))


def _customers(db: Database) -> list[tuple[str, str]]:
    with db.read() as session:
        return [(c.phone, c.email) for c in session.scalars(select(DemoCustomer))]


def test_the_adapter_has_every_order_system_method_with_its_parameters() -> None:
    for name in [n for n in vars(OrderSystem) if not n.startswith("_")]:
        expected = list(inspect.signature(getattr(OrderSystem, name)).parameters)
        assert list(inspect.signature(getattr(ShopifyStore, name)).parameters) == expected, name


def test_every_order_reads_as_in_the_demo_store(
    shop: ShopifyStore, demo: DemoStore, db: Database
) -> None:
    numbers = _numbers(db)
    assert len(numbers) >= 8
    for number in numbers:
        expected = demo.order_by_number(number)
        assert expected is not None
        for given in (number, str(number), f"#{number}", f" #{number} "):
            assert shop.order_by_number(given) == expected, given
        assert shop.order_by_id(str(number)) == expected
        assert shop.returnable_items(str(number)) == demo.returnable_items(str(number))


def test_orders_by_phone_and_email_read_as_in_the_demo_store(
    shop: ShopifyStore, demo: DemoStore, db: Database
) -> None:
    customers = _customers(db)
    assert len(customers) >= 5
    for phone, email in customers:
        national = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
        by_phone = demo.orders_for_phone(phone)
        assert by_phone, phone
        assert shop.orders_for_phone(phone) == by_phone
        assert shop.orders_for_phone(national) == by_phone
        by_email = demo.orders_for_email(email)
        assert shop.orders_for_email(f"  {email.upper()} ") == by_email == by_phone


@pytest.mark.parametrize("given", ["+15005550000", "not a phone", "", "12"])
def test_unknown_phones_find_nothing(shop: ShopifyStore, demo: DemoStore, given: str) -> None:
    assert shop.orders_for_phone(given) == demo.orders_for_phone(given) == []


@pytest.mark.parametrize("given", ["#99999", "abc", "", 0, -5, True, "10O1", "99999999999"])
def test_unknown_or_garbage_numbers_find_nothing(
    shop: ShopifyStore, demo: DemoStore, given: object
) -> None:
    assert shop.order_by_number(given) is None
    assert demo.order_by_number(given) is None
    assert shop.order_by_id(str(given)) is None


@pytest.mark.parametrize(("query", "size", "color", "limit"), SEARCHES)
def test_search_finds_what_the_demo_store_finds(
    shop: ShopifyStore, demo: DemoStore, query: str, size: str | None, color: str | None, limit: int
) -> None:
    found = shop.search_products(query, size=size, color=color, limit=limit)
    assert found == demo.search_products(query, size=size, color=color, limit=limit)


def test_search_answers_a_small_catalogue_from_one_page(
    shop: ShopifyStore, served: FakeShopify
) -> None:
    (hoodie,) = shop.search_products("trailhed hoodie", size="M", color="navy", limit=1)
    assert hoodie.title == "Trailhead Hoodie"
    candidates = [r.variables for r in served.received if r.operation == "ProductCandidates"]
    assert [c["query"] for c in candidates] == ["status:active"]


@pytest.mark.parametrize("query", TYPOS)
def test_a_big_catalogue_is_scanned_for_misspelled_words(
    big_shop: ShopifyStore, demo: DemoStore, served: FakeShopify, query: str
) -> None:
    assert big_shop.search_products(query) == demo.search_products(query)
    asked = [r.variables for r in served.received if r.operation == "ProductCandidates"]
    assert asked[1]["sortKey"] == "RELEVANCE"
    assert asked[1]["query"].endswith(") AND status:active")
    assert asked[-1]["query"] == "status:active"
    assert asked[-1]["after"] is not None  # the scan reads on from the first page


def test_a_big_catalogue_is_not_scanned_when_every_word_is_found(
    big_shop: ShopifyStore, demo: DemoStore, served: FakeShopify
) -> None:
    assert big_shop.search_products("rain jacket") == demo.search_products("rain jacket")
    asked = [r.variables["query"] for r in served.received if r.operation == "ProductCandidates"]
    assert asked == ["status:active", "(jacket OR rain) AND status:active"]


def test_the_policies_are_the_demo_store_s(shop: ShopifyStore, demo: DemoStore) -> None:
    assert shop.policies() == demo.policies()


# Cancelling, through Shopify, into the demo store.


def test_an_unfulfilled_order_is_cancelled_in_the_store(
    shop: ShopifyStore, demo: DemoStore, served: FakeShopify, clock: FixedClock
) -> None:
    cancelled = shop.cancel_order("1003", "customer")
    assert cancelled.is_cancelled
    assert cancelled.cancelled_at == clock.now()
    assert cancelled == demo.order_by_number(1003)
    (sent,) = [r.variables for r in served.received if r.operation == "OrderCancel"]
    assert sent == {
        "orderId": "gid://shopify/Order/1003",
        "reason": "CUSTOMER",
        "staffNote": "Cancelled by text message (Pigeon): customer",
        "refundMethod": {"originalPaymentMethodsRefund": True},
        "restock": True,
        "notifyCustomer": True,
    }


def test_a_cancellation_job_is_awaited(
    shop: ShopifyStore, served: FakeShopify, sleeps: list[float]
) -> None:
    served.pending_jobs = 2
    assert shop.cancel_order("1003", "changed my mind").is_cancelled
    assert served.operations()[-4:] == ["OrderCancel", "Job", "Job", "OrderById"]
    assert sleeps == list(CANCEL_WAITS[:2])
    sent = next(r.variables for r in served.received if r.operation == "OrderCancel")
    assert sent["reason"] == "OTHER"


@pytest.mark.parametrize(
    ("order_id", "refusal"),
    [
        ("1001", "order #1001 has already shipped"),
        ("4242", "there is no order with id '4242'"),
        ("abc", "there is no order with id 'abc'"),
    ],
)
def test_what_cannot_be_cancelled_is_refused_as_the_demo_store_refuses(
    shop: ShopifyStore, demo: DemoStore, served: FakeShopify, order_id: str, refusal: str
) -> None:
    with pytest.raises(NotCancellable, match=refusal):
        shop.cancel_order(order_id, "customer")
    with pytest.raises(NotCancellable, match=refusal):
        demo.cancel_order(order_id, "customer")
    assert "OrderCancel" not in served.operations()


def test_a_cancelled_order_cannot_be_cancelled_again(shop: ShopifyStore) -> None:
    shop.cancel_order("1003", "customer")
    with pytest.raises(NotCancellable, match="#1003 is already cancelled"):
        shop.cancel_order("1003", "customer")


# Returns, through Shopify, into the demo store.


def _lines(shop: ShopifyStore, number: int) -> dict[str, str]:
    return {line.title: line.id for line in shop.order_by_number(number).line_items}


def test_a_return_is_recorded_in_the_store(
    shop: ShopifyStore, demo: DemoStore, served: FakeShopify, clock: FixedClock
) -> None:
    lines = _lines(shop, 1002)
    wanted = sorted(
        (ReturnLine(line_id, 1) for line_id in lines.values()), key=lambda r: int(r.line_item_id)
    )
    created = shop.create_return("1002", wanted, "too small")
    assert (created.order_id, created.status, created.reason) == ("1002", "requested", "too small")
    assert created.lines == tuple(wanted)
    assert created.created_at == clock.now()
    assert demo.returnable_items("1002") == shop.returnable_items("1002") == []
    (sent,) = [r.variables for r in served.received if r.operation == "ReturnRequest"]
    assert [line["quantity"] for line in sent["input"]["returnLineItems"]] == [1, 1]


def test_units_already_in_a_return_cannot_be_returned_again(shop: ShopifyStore) -> None:
    jacket = _lines(shop, 1002)["Ridgeline Rain Jacket"]
    shop.create_return("1002", [ReturnLine(jacket, 1)], "too small")
    with pytest.raises(NotReturnable, match="0 of Ridgeline Rain Jacket in order #1002"):
        shop.create_return("1002", [ReturnLine(jacket, 1)], "changed my mind")


def test_bad_return_requests_are_refused_as_the_demo_store_refuses(
    shop: ShopifyStore, demo: DemoStore, served: FakeShopify
) -> None:
    tee = _lines(shop, 1002)["Everyday Crew Tee"]
    other = next(iter(_lines(shop, 1001).values()))
    fleece = _lines(shop, 1000)
    cases = [
        ("1002", [], "no items were given to return"),
        ("1002", [ReturnLine(tee, 0)], "quantity 0 for line item"),
        ("1002", [ReturnLine(tee, 2)], "1 of Everyday Crew Tee in order #1002 can be returned"),
        ("1002", [ReturnLine("abc", 1)], "unknown line item 'abc'"),
        ("1002", [ReturnLine(other, 1)], "is not part of order #1002"),
        ("1001", [ReturnLine(other, 1)], "not delivered yet or already returned"),
        ("4242", [ReturnLine(tee, 1)], "there is no order with id '4242'"),
    ]
    cases += [
        ("1000", [ReturnLine(i, 1)], "is final sale") for t, i in fleece.items() if "Fleece" in t
    ]
    assert len(cases) == 8
    for order_id, lines, refusal in cases:
        with pytest.raises(NotReturnable, match=refusal):
            shop.create_return(order_id, lines, "reason")
        with pytest.raises(NotReturnable, match=refusal):
            demo.create_return(order_id, lines, "reason")
    assert "ReturnRequest" not in served.operations()


def test_a_long_reason_is_cut_to_fit(shop: ShopifyStore, served: FakeShopify) -> None:
    tee = _lines(shop, 1002)["Everyday Crew Tee"]
    created = shop.create_return("1002", [ReturnLine(tee, 1)], "too small " * 50)
    assert created.reason == ("too small " * 50)[:200].rstrip()
    (sent,) = [r.variables for r in served.received if r.operation == "ReturnRequest"]
    assert sent["input"]["returnLineItems"][0]["customerNote"] == created.reason
