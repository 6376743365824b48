import inspect
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.oms.base import (
    EXCEPTION_STATUSES,
    NotCancellable,
    NotReturnable,
    Order,
    OrderSystem,
    OrderSystemError,
    ReturnLine,
)
from bot.oms.demo import DemoStore
from bot.oms.demo_seed import seed
from bot.store import Database

DATA_DIR = Path(__file__).resolve().parents[3] / "data" / "demo"


@pytest.fixture
def store(db: Database, clock: FixedClock) -> DemoStore:
    seed(db, DATA_DIR, clock)
    return DemoStore(db, clock)


def _order(store: DemoStore, number: int) -> Order:
    order = store.order_by_number(number)
    assert order is not None, f"#{number} is missing from the demo store"
    return order


def _line(order: Order, sku: str) -> str:
    return next(line.id for line in order.line_items if line.sku == sku)


def test_demo_store_has_every_order_system_method_with_its_parameters() -> None:
    methods = [name for name in vars(OrderSystem) if not name.startswith("_")]
    assert len(methods) == 9
    for name in methods:
        expected = list(inspect.signature(getattr(OrderSystem, name)).parameters)
        assert list(inspect.signature(getattr(DemoStore, name)).parameters) == expected, name


# The required customers and orders.


def test_ava_has_1001_in_transit_with_ups_and_998_delivered(
    store: DemoStore, clock: FixedClock
) -> None:
    orders = store.orders_for_phone("+12065550101")
    assert [o.name for o in orders] == ["#1001", "#998"]
    current, old = orders

    (shipment,) = current.fulfillments
    assert (current.id, current.number, current.customer_name) == ("1001", 1001, "Ava Chen")
    assert (current.email, current.fulfillment_status) == ("ava@example.com", "fulfilled")
    assert (shipment.status, shipment.carrier) == ("in_transit", "UPS")
    assert shipment.tracking_number == "1Z999AA10123456784"
    assert shipment.tracking_url == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    assert shipment.estimated_delivery_at == clock.now() + timedelta(days=2)
    assert shipment.delivered_at is None
    assert shipment.events[-1].status == "in_transit"
    times = [e.happened_at for e in shipment.events]
    assert times == sorted(times)

    (delivered,) = old.fulfillments
    assert delivered.status == "delivered"
    assert delivered.delivered_at == clock.now() - timedelta(days=40)
    assert current.shipping_address.city == "Seattle"
    assert current.shipping_address.zip == "98101"


def test_ben_has_1002_with_two_items_delivered_and_returnable(
    store: DemoStore, clock: FixedClock
) -> None:
    (order,) = store.orders_for_phone("+13055550102")
    assert order.name == "#1002"
    assert len(order.line_items) == 2
    assert not any(line.final_sale for line in order.line_items)
    (shipment,) = order.fulfillments
    assert shipment.status == "delivered"
    assert shipment.delivered_at == clock.now() - timedelta(days=5)

    returnable = store.returnable_items(order.id)
    assert sorted(i.line_item.id for i in returnable) == sorted(li.id for li in order.line_items)
    assert all(i.quantity == 1 and i.delivered_at == shipment.delivered_at for i in returnable)


def test_chloe_has_1003_unfulfilled(store: DemoStore) -> None:
    (order,) = store.orders_for_phone("+12125550103")
    assert order.name == "#1003"
    assert order.fulfillment_status == "unfulfilled"
    assert order.fulfillments == ()
    assert not order.is_cancelled
    assert order.shipping_address.zip == "10006"


def test_dev_has_1004_with_a_delivery_exception(store: DemoStore) -> None:
    (order,) = store.orders_for_phone("+13125550104")
    assert (order.name, order.fulfillment_status) == ("#1004", "fulfilled")
    (shipment,) = order.fulfillments
    assert (shipment.status, shipment.carrier) == ("failure", "FedEx")
    assert shipment.status in EXCEPTION_STATUSES
    assert shipment.tracking_url == "https://www.fedex.com/fedextrack/?trknbr=794612345678"
    assert shipment.events[-1].status == "failure"
    assert "could not be found" in shipment.events[-1].message
    assert shipment.delivered_at is None


def test_eli_has_two_open_orders_and_a_delivered_final_sale_item(store: DemoStore) -> None:
    orders = store.orders_for_phone("+15125550105")
    assert [o.name for o in orders] == ["#1006", "#1005", "#1000"]
    unfulfilled, in_transit, delivered = orders
    assert unfulfilled.fulfillment_status == "unfulfilled"
    assert in_transit.fulfillments[0].status == "in_transit"
    assert in_transit.fulfillments[0].carrier == "DHL"
    assert [line.final_sale for line in delivered.line_items] == [True, False]
    assert [i.line_item.sku for i in store.returnable_items(delivered.id)] == ["PSC-CAP-OLV"]


def test_every_order_has_a_zip_and_its_customers_contact(store: DemoStore) -> None:
    for number in (998, 1000, 1001, 1002, 1003, 1004, 1005, 1006):
        order = _order(store, number)
        assert order.id == str(number)
        assert order.name == f"#{number}"
        assert order.shipping_address.zip
        assert order.email
        assert order.phone.startswith("+1")
        assert order.total == sum(li.unit_price * li.quantity for li in order.line_items)
        assert order.total > 0


# Look-ups.


@pytest.mark.parametrize("given", ["#1001", "1001", 1001, " #1001 ", "# 1001"])
def test_an_order_is_found_by_its_number_however_written(store: DemoStore, given) -> None:
    assert _order(store, given).id == "1001"


@pytest.mark.parametrize(
    "given",
    ["", " ", "#", "abc", "1001abc", "10 01", "#-1001", -1001, 0, 1.5, True, None, [1001],
     "99999999999", 4242, "١٠٠١"],
)  # fmt: skip
def test_unknown_or_garbage_numbers_find_nothing(store: DemoStore, given) -> None:
    assert store.order_by_number(given) is None
    assert store.order_by_id(given) is None
    assert store.returnable_items(given) == []


def test_an_order_is_found_by_its_id(store: DemoStore) -> None:
    assert store.order_by_id("1004").name == "#1004"
    assert store.order_by_id("#1004") is None  # ids are bare


def test_orders_by_email_ignore_case_and_spaces(store: DemoStore) -> None:
    assert [o.name for o in store.orders_for_email(" Ava@Example.COM ")] == ["#1001", "#998"]
    assert store.orders_for_email("nobody@example.com") == []
    assert store.orders_for_email("not an email") == []


def test_orders_by_phone_accept_common_formats(store: DemoStore) -> None:
    assert [o.name for o in store.orders_for_phone("(206) 555-0101")] == ["#1001", "#998"]
    assert store.orders_for_phone("+19995550100") == []
    assert store.orders_for_phone("hello") == []
    assert store.orders_for_phone("") == []


# Cancelling.


def test_an_unfulfilled_order_is_cancelled(store: DemoStore, clock: FixedClock) -> None:
    cancelled = store.cancel_order("1003", "customer changed their mind")

    assert cancelled.is_cancelled
    assert cancelled.cancelled_at == clock.now()
    assert cancelled.financial_status == "refunded"
    assert _order(store, 1003).cancelled_at == clock.now()


def test_a_cancelled_order_cannot_be_cancelled_again(store: DemoStore) -> None:
    store.cancel_order("1003", "customer")

    with pytest.raises(NotCancellable, match="#1003 is already cancelled"):
        store.cancel_order("1003", "customer")


@pytest.mark.parametrize("number", ["1001", "1002", "1004"])
def test_a_shipped_order_cannot_be_cancelled(store: DemoStore, number: str) -> None:
    with pytest.raises(NotCancellable, match=f"#{number} has already shipped"):
        store.cancel_order(number, "customer")

    assert not _order(store, int(number)).is_cancelled


@pytest.mark.parametrize("order_id", ["4242", "nope", ""])
def test_an_unknown_order_cannot_be_cancelled(store: DemoStore, order_id: str) -> None:
    with pytest.raises(NotCancellable, match="there is no order with id"):
        store.cancel_order(order_id, "customer")


# Returns.


def test_a_return_is_requested_for_delivered_units(store: DemoStore, clock: FixedClock) -> None:
    order = _order(store, 1002)
    jacket = _line(order, "PSC-RAIN-MOS-M")

    created = store.create_return("1002", [ReturnLine(jacket, 1)], "too small")

    assert (created.order_id, created.status, created.reason) == ("1002", "requested", "too small")
    assert created.lines == (ReturnLine(jacket, 1),)
    assert created.created_at == clock.now()
    left = store.returnable_items("1002")
    assert [i.line_item.sku for i in left] == ["PSC-TEE-WHT-M"]


def test_units_already_in_a_return_cannot_be_returned_again(store: DemoStore) -> None:
    jacket = _line(_order(store, 1002), "PSC-RAIN-MOS-M")
    store.create_return("1002", [ReturnLine(jacket, 1)], "too small")

    with pytest.raises(NotReturnable, match="0 of Ridgeline Rain Jacket in order #1002"):
        store.create_return("1002", [ReturnLine(jacket, 1)], "changed my mind")


def test_final_sale_items_cannot_be_returned(store: DemoStore) -> None:
    fleece = _line(_order(store, 1000), "PSC-ALPF-OAT-M")

    with pytest.raises(NotReturnable, match="is final sale"):
        store.create_return("1000", [ReturnLine(fleece, 1)], "too big")


def test_items_not_yet_delivered_cannot_be_returned(store: DemoStore) -> None:
    assert store.returnable_items("1001") == []  # in transit
    assert store.returnable_items("1003") == []  # not shipped
    assert store.returnable_items("1004") == []  # delivery failed
    hoodie = _line(_order(store, 1001), "PSC-HOOD-NVY-M")

    with pytest.raises(NotReturnable, match="not delivered yet"):
        store.create_return("1001", [ReturnLine(hoodie, 1)], "too small")


def test_the_return_window_is_not_applied_here(store: DemoStore, clock: FixedClock) -> None:
    (old,) = store.returnable_items("998")  # delivered 40 days ago, past the 30-day policy

    assert old.delivered_at == clock.now() - timedelta(days=40)
    assert store.policies().return_window_days == 30


def test_bad_return_requests_are_refused_and_nothing_is_recorded(store: DemoStore) -> None:
    tee = _line(_order(store, 1002), "PSC-TEE-WHT-M")
    other_order_line = _line(_order(store, 1000), "PSC-CAP-OLV")
    bad_requests = {
        "no items were given": [],
        "quantity 0 for line item": [ReturnLine(tee, 0)],
        "quantity True for line item": [ReturnLine(tee, True)],
        "1 of Everyday Crew Tee in order #1002 can be returned": [ReturnLine(tee, 2)],
        "can be returned .*not 2": [ReturnLine(tee, 1), ReturnLine(tee, 1)],
        "unknown line item 'abc'": [ReturnLine("abc", 1)],
        "is not part of order #1002": [ReturnLine(other_order_line, 1)],
    }
    for message, lines in bad_requests.items():
        with pytest.raises(NotReturnable, match=message):
            store.create_return("1002", lines, "reason")
    with pytest.raises(NotReturnable, match="there is no order with id '4242'"):
        store.create_return("4242", [ReturnLine(tee, 1)], "reason")

    assert len(store.returnable_items("1002")) == 2


def test_a_long_reason_is_cut_to_fit(store: DemoStore) -> None:
    tee = _line(_order(store, 1002), "PSC-TEE-WHT-M")

    created = store.create_return("1002", [ReturnLine(tee, 1)], "too small " * 50)

    assert len(created.reason) == 200


# Products.


def test_search_finds_plurals_and_filters_by_size(store: DemoStore, clock: FixedClock) -> None:
    (hoodie, *_) = store.search_products("do you have hoodies", size="medium")

    assert hoodie.title == "Trailhead Hoodie"
    assert [v.title for v in hoodie.variants] == ["M / Navy", "M / Heather Grey"]
    navy, grey = hoodie.variants
    assert (navy.in_stock, navy.price, navy.restock_date) == (True, Decimal("68.00"), None)
    assert (grey.in_stock, grey.inventory) == (False, 0)
    assert grey.restock_date == (clock.now() + timedelta(days=10)).date()


def test_search_filters_by_colour_without_case(store: DemoStore) -> None:
    (hoodie,) = store.search_products("HOODIE", color="gray", limit=1)

    assert {v.color for v in hoodie.variants} == {"Heather Grey"}
    assert [p.title for p in store.search_products("hoodie", size="XL", color="NAVY")] == [
        "Trailhead Hoodie"
    ]


def test_search_ranks_title_matches_first(store: DemoStore) -> None:
    titles = [p.title for p in store.search_products("jackets")]

    assert titles[:2] == ["Packable Puffer Jacket", "Ridgeline Rain Jacket"]
    rain = store.search_products("rain jacket")
    assert rain[0].title == "Ridgeline Rain Jacket"


def test_search_keeps_only_products_in_the_wanted_size_or_colour(store: DemoStore) -> None:
    assert store.search_products("hoodie", size="XXL") == []
    (jacket,) = store.search_products("puffer", color="black")
    assert [(v.size, v.in_stock) for v in jacket.variants] == [
        ("S", True),
        ("M", True),
        ("L", False),
    ]


def test_search_shows_final_sale_products(store: DemoStore) -> None:
    (socks, *_) = store.search_products("socks")

    assert socks.title == "Merino Hiking Socks"
    assert socks.final_sale


@pytest.mark.parametrize("query", ["", "   ", "?!", "the and", "zeppelin", None])
def test_search_for_nothing_finds_nothing(store: DemoStore, query) -> None:
    assert store.search_products(query) == []


def test_search_respects_the_limit(store: DemoStore) -> None:
    assert len(store.search_products("black", limit=2)) == 2
    assert store.search_products("hoodie", limit=0) == []


# Policies.


def test_policies_come_from_the_demo_store(store: DemoStore) -> None:
    policies = store.policies()

    assert policies.return_window_days == 30
    assert "30 days of delivery" in policies.returns
    assert "Final-sale items can't be returned" in policies.final_sale
    assert "United States" in policies.shipping_countries
    assert "Visa" in policies.payment_methods
    for text in (policies.returns, policies.exchanges, policies.shipping_times):
        assert text.isascii()
        assert "\n" not in text


def test_policies_of_an_empty_store_say_what_is_missing(db: Database, clock: FixedClock) -> None:
    with pytest.raises(OrderSystemError, match="the demo store has no 'return_window_days' policy"):
        DemoStore(db, clock).policies()
