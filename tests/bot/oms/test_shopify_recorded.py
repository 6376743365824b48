"""The Shopify adapter reads Shopify's real answers: recorded payloads, served over HTTP."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from bot.oms.base import (
    SHIPMENT_STATUSES,
    Address,
    FulfilledItem,
    Fulfillment,
    LineItem,
    NotCancellable,
    NotReturnable,
    Order,
    OrderSystemError,
    Return,
    ReturnableItem,
    ReturnLine,
    TrackingEvent,
    Variant,
)
from bot.oms.shopify import ShopifyStore
from bot.oms.shopify_parse import shipment_status
from bot.oms.shopify_products import UNTRACKED_STOCK, to_product
from tests.fakes.shopify import FakeShopify, fixture, shopify_store

ORDER_ID = "5830000001042"
HOODIE = LineItem(
    "14100000000711", "PSC-HOOD-NVY-M", "Trailhead Hoodie", "M / Navy", 1, Decimal("68.00"), False
)
CAP = LineItem("14100000000712", "PSC-CAP-OLV", "Ridgeline Cap", "Olive", 1, Decimal("24.00"), True)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.fixture
def store(fake_shopify: FakeShopify) -> Iterator[ShopifyStore]:
    adapter = shopify_store(fake_shopify)
    yield adapter
    adapter.close()


def test_an_order_reads_field_by_field(store: ShopifyStore, fake_shopify: FakeShopify) -> None:
    fake_shopify.answer_next(fixture("order.json"))
    ups = Fulfillment(
        id="4710000000501",
        status="attempted_delivery",
        carrier="UPS",
        tracking_number="1Z9X4E270312345678",
        tracking_url="https://www.ups.com/track?tracknum=1Z9X4E270312345678",
        created_at=utc(2026, 6, 13, 15, 2, 44),
        estimated_delivery_at=utc(2026, 6, 17),
        delivered_at=None,
        items=(FulfilledItem(HOODIE.id, 1),),
        events=(
            TrackingEvent("carrier_picked_up", utc(2026, 6, 13, 21, 10), None, "Asheville, NC"),
            TrackingEvent(
                "in_transit", utc(2026, 6, 14, 6, 20), "Departed from facility", "Portland, OR"
            ),
            TrackingEvent("out_for_delivery", utc(2026, 6, 15, 12, 58), None, "Seattle, WA"),
            TrackingEvent(
                "attempted_delivery",
                utc(2026, 6, 15, 17, 42),
                "Delivery attempted, no access",
                "Seattle, WA",
            ),
        ),
    )
    relabelled = Fulfillment(
        id="4710000000503",
        status="confirmed",  # FULFILLED and no scan yet
        carrier="USPS",  # "usps" as the usual name
        tracking_number="9400111899562537123456",
        tracking_url="https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899562537123456",
        created_at=utc(2026, 6, 13, 15, 41, 30),
        estimated_delivery_at=None,
        delivered_at=None,
        items=(FulfilledItem(CAP.id, 1),),
        events=(),
    )
    assert store.order_by_id(ORDER_ID) == Order(
        id=ORDER_ID,
        name="#1042",
        number=1042,
        email="maya.okafor@example.com",
        phone="+12065550143",  # the order has none: its customer's
        customer_name="Maya Okafor",
        created_at=utc(2026, 6, 12, 13, 14, 7),
        financial_status="paid",
        cancelled_at=None,
        currency="USD",
        shipping_address=Address("Maya Okafor", "2214 Alder Ave", "Seattle", "WA", "98122", "US"),
        line_items=(HOODIE, CAP),
        fulfillments=(ups, relabelled),  # the voided label is no shipment
    )
    assert fake_shopify.received[0].variables == {"id": f"gid://shopify/Order/{ORDER_ID}"}


def test_the_shipping_address_phone_is_the_last_resort(
    store: ShopifyStore, fake_shopify: FakeShopify
) -> None:
    answer = fixture("order.json")
    answer["data"]["order"]["customer"] = None
    fake_shopify.answer_next(answer)
    order = store.order_by_id(ORDER_ID)
    assert order.phone == "+12065550143"  # "(206) 555-0143" in E.164
    assert order.customer_name == "Maya Okafor"  # from the address


def test_a_missing_order_is_none(store: ShopifyStore, fake_shopify: FakeShopify) -> None:
    fake_shopify.answer_next({"data": {"order": None}})
    assert store.order_by_id("1") is None
    assert store.order_by_id("not an id") is None
    assert len(fake_shopify.received) == 1  # a malformed id is not worth a request


def test_an_order_without_a_creation_time_is_an_error(
    store: ShopifyStore, fake_shopify: FakeShopify
) -> None:
    answer = fixture("order.json")
    answer["data"]["order"]["createdAt"] = "yesterday"
    fake_shopify.answer_next(answer)
    with pytest.raises(OrderSystemError, match="order #1042 without a valid createdAt"):
        store.order_by_id(ORDER_ID)


def test_only_delivered_units_that_are_not_final_sale_are_returnable(
    store: ShopifyStore, fake_shopify: FakeShopify
) -> None:
    fake_shopify.answer_next(fixture("returnables.json"))
    delivered = utc(2026, 6, 16, 19, 3)
    assert store.returnable_items(ORDER_ID) == [
        ReturnableItem(HOODIE, 1, "4710000000501", delivered)
    ]
    assert fake_shopify.received[0].variables == {"orderId": f"gid://shopify/Order/{ORDER_ID}"}


def test_a_return_is_requested_per_package_with_the_reason(
    store: ShopifyStore, fake_shopify: FakeShopify
) -> None:
    fake_shopify.answer_next(fixture("returnables.json"))
    fake_shopify.answer_next(fixture("return_request.json"))
    made = store.create_return(
        ORDER_ID, [ReturnLine(HOODIE.id, 1)], " too small in \n the shoulders"
    )
    assert made == Return(
        id="3310000000021",
        order_id=ORDER_ID,
        status="requested",
        reason="too small in the shoulders",
        lines=(ReturnLine(HOODIE.id, 1),),
        created_at=utc(2026, 6, 17, 15, 20, 11),
    )
    sent = fake_shopify.received[1]
    assert sent.operation == "ReturnRequest"
    assert sent.variables == {
        "input": {
            "orderId": f"gid://shopify/Order/{ORDER_ID}",
            "returnLineItems": [
                {
                    "fulfillmentLineItemId": "gid://shopify/FulfillmentLineItem/9920000000811",
                    "quantity": 1,
                    "customerNote": "too small in the shoulders",
                }
            ],
        }
    }


def test_shopify_refusing_a_return_is_not_returnable(
    store: ShopifyStore, fake_shopify: FakeShopify
) -> None:
    fake_shopify.answer_next(fixture("returnables.json"))
    fake_shopify.answer_next(fixture("return_request_refused.json"))
    with pytest.raises(NotReturnable, match="Quantity is not available for return"):
        store.create_return(ORDER_ID, [ReturnLine(HOODIE.id, 1)], "too small")


def test_a_final_sale_or_undelivered_item_is_refused_before_asking_shopify(
    store: ShopifyStore, fake_shopify: FakeShopify
) -> None:
    fake_shopify.answer_next(fixture("returnables.json"))
    with pytest.raises(NotReturnable, match="Ridgeline Cap in order #1042 is final sale"):
        store.create_return(ORDER_ID, [ReturnLine(CAP.id, 1)], "changed my mind")
    assert fake_shopify.operations() == ["Returnables"]


def _unfulfilled() -> dict:
    answer = copy.deepcopy(fixture("order.json"))
    answer["data"]["order"]["fulfillments"] = []
    return answer


def test_shopify_refusing_a_cancellation_is_not_cancellable(
    store: ShopifyStore, fake_shopify: FakeShopify
) -> None:
    fake_shopify.answer_next(_unfulfilled())
    fake_shopify.answer_next(fixture("order_cancel_refused.json"))
    with pytest.raises(NotCancellable, match="Cannot cancel an order with fulfillments"):
        store.cancel_order(ORDER_ID, "customer")


def test_a_cancellation_the_app_may_not_make_is_an_order_system_error(
    store: ShopifyStore, fake_shopify: FakeShopify
) -> None:
    fake_shopify.answer_next(_unfulfilled())
    fake_shopify.answer_next(fixture("order_cancel_no_permission.json"))
    with pytest.raises(OrderSystemError, match="permission to refund") as error:
        store.cancel_order(ORDER_ID, "customer")
    assert not isinstance(error.value, NotCancellable)


def test_a_shipped_order_is_not_sent_to_be_cancelled(
    store: ShopifyStore, fake_shopify: FakeShopify
) -> None:
    fake_shopify.answer_next(fixture("order.json"))
    with pytest.raises(NotCancellable, match="#1042 has already shipped"):
        store.cancel_order(ORDER_ID, "customer")
    assert fake_shopify.operations() == ["OrderById"]


def test_products_read_with_options_stock_and_restock_dates(
    store: ShopifyStore, fake_shopify: FakeShopify
) -> None:
    fake_shopify.answer_next(fixture("product_candidates.json"))
    fake_shopify.answer_next(fixture("product_details.json"))
    (hoodie,) = store.search_products("navy hoodie", size="m")
    assert (hoodie.id, hoodie.handle, hoodie.product_type) == (
        "8010000000101",
        "trailhead-hoodie",
        "Hoodie",
    )
    assert not hoodie.final_sale
    assert hoodie.variants == (
        Variant(
            "4420000000201", "PSC-HOOD-NVY-M", "M / Navy", "M", "Navy", Decimal("68.00"), 4, None
        ),
        Variant(
            "4420000000203",
            "PSC-HOOD-GRY-M",
            "M / Heather Grey",
            "M",
            "Heather Grey",
            Decimal("72.50"),
            UNTRACKED_STOCK,
            None,
        ),
    )
    candidates, details = fake_shopify.received
    assert candidates.variables["query"] == "status:active"  # the first page is the catalogue
    assert details.variables == {"ids": ["gid://shopify/Product/8010000000101"]}


def test_a_product_node_reads_its_final_sale_tag_and_plain_variant() -> None:
    nodes = fixture("product_details.json")["data"]["nodes"]
    hoodie, cap = to_product(nodes[0]), to_product(nodes[2])
    assert hoodie.variants[1].restock_date == date(2026, 6, 25)
    assert cap.final_sale
    assert cap.product_type is None
    assert cap.variants == (
        Variant("4420000000301", "", "Default", None, None, Decimal("24.00"), 9, None),
    )


@pytest.mark.parametrize("status", SHIPMENT_STATUSES)
def test_every_event_status_reads_as_ours(status: str) -> None:
    assert shipment_status(status.upper()) == status


@pytest.mark.parametrize(
    ("shopify", "ours"),
    [("PICKED_UP", "delivered"), ("NOT_DELIVERED", "failure"), ("FULFILLED", None), (None, None)],
)
def test_other_statuses_read_as_the_nearest_or_not_at_all(
    shopify: object, ours: str | None
) -> None:
    assert shipment_status(shopify) == ours


def test_customers_whose_number_is_not_the_texter_s_are_not_asked_about(
    store: ShopifyStore, fake_shopify: FakeShopify
) -> None:
    near_miss = {
        "data": {
            "customers": {
                "nodes": [
                    {
                        "id": "gid://shopify/Customer/7120000004418",
                        "defaultPhoneNumber": {"phoneNumber": "+12065550144"},
                    }
                ]
            }
        }
    }
    fake_shopify.answer_next(near_miss)
    assert store.orders_for_phone("(206) 555-0143") == []
    (asked,) = fake_shopify.received
    assert asked.variables == {"query": 'phone:"+12065550143"', "first": 5}


def test_an_order_with_another_number_is_not_the_texter_s(
    store: ShopifyStore, fake_shopify: FakeShopify
) -> None:
    customer = {
        "id": "gid://shopify/Customer/7120000004417",
        "defaultPhoneNumber": {"phoneNumber": "+1 206 555 0143"},
    }
    fake_shopify.answer_next({"data": {"customers": {"nodes": [customer]}}})
    order = fixture("order.json")["data"]["order"]
    order["phone"] = "+13125550199"  # given at checkout: it wins over the customer's
    page = {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": [order]}
    fake_shopify.answer_next({"data": {"orders": page}})
    assert store.orders_for_phone("+12065550143") == []
    assert fake_shopify.received[1].variables["query"] == "customer_id:7120000004417"
