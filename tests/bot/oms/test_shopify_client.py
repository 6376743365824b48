"""The Shopify GraphQL transport against the fake Admin API: real HTTP on loopback."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

from bot.oms.base import OrderSystemError
from bot.oms.shopify_client import (
    BACKOFF,
    DEFAULT_TIMEOUT,
    MAX_THROTTLE_WAIT,
    MAX_THROTTLED,
    ShopifyGraphQL,
)
from bot.oms.shopify_queries import ORDER_BY_ID, ORDER_CANCEL
from tests.fakes.shopify import TOKEN, VERSION, FakeShopify, fixture

ORDER = {"id": "gid://shopify/Order/5830000001042"}
CANCEL = {"orderId": "gid://shopify/Order/5830000001042", "reason": "CUSTOMER"}


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(fake_shopify: FakeShopify, sleeps: list[float]) -> Iterator[ShopifyGraphQL]:
    graphql = ShopifyGraphQL(
        "pigeon-demo.myshopify.com", TOKEN, VERSION, base_url=fake_shopify.url, sleep=sleeps.append
    )
    yield graphql
    graphql.close()


def _order(client: ShopifyGraphQL) -> dict:
    return client.query(ORDER_BY_ID, "OrderById", ORDER)


def test_a_query_carries_the_token_the_pinned_version_and_its_operation(
    client: ShopifyGraphQL, fake_shopify: FakeShopify
) -> None:
    fake_shopify.answer_next(fixture("order.json"))
    data = _order(client)
    assert data["order"]["name"] == "#1042"
    (request,) = fake_shopify.received
    assert request.path == "/admin/api/2026-10/graphql.json"
    assert request.headers["x-shopify-access-token"] == TOKEN
    assert request.headers["content-type"] == "application/json"
    assert (request.operation, request.variables) == ("OrderById", ORDER)
    assert "query OrderById(" in request.document
    assert client.last_cost is not None
    assert client.last_cost.actual == 23


def test_the_url_is_the_shop_s_admin_api_unless_overridden() -> None:
    real = ShopifyGraphQL("acme.myshopify.com", "t", "2026-10")
    moved = ShopifyGraphQL("acme.myshopify.com", "t", "2026-10", base_url="http://127.0.0.1:9/")
    try:
        assert real.url == "https://acme.myshopify.com/admin/api/2026-10/graphql.json"
        assert moved.url == "http://127.0.0.1:9/admin/api/2026-10/graphql.json"
        assert real.timeout == DEFAULT_TIMEOUT
    finally:
        real.close()
        moved.close()


def test_a_slow_answer_times_out_and_a_query_is_retried(
    fake_shopify: FakeShopify, sleeps: list[float]
) -> None:
    fake_shopify.delay = 0.5
    slow = ShopifyGraphQL(
        "s.myshopify.com",
        TOKEN,
        VERSION,
        base_url=fake_shopify.url,
        timeout=(1.0, 0.1),
        sleep=sleeps.append,
    )
    try:
        with pytest.raises(OrderSystemError, match="timed out waiting for the answer"):
            _order(slow)
    finally:
        slow.close()
    assert sleeps == list(BACKOFF)


def test_a_mutation_that_timed_out_is_not_sent_again(
    fake_shopify: FakeShopify, sleeps: list[float]
) -> None:
    fake_shopify.delay = 0.5
    slow = ShopifyGraphQL(
        "s.myshopify.com",
        TOKEN,
        VERSION,
        base_url=fake_shopify.url,
        timeout=(1.0, 0.1),
        sleep=sleeps.append,
    )
    try:
        with pytest.raises(OrderSystemError, match="may have been applied"):
            slow.mutate(ORDER_CANCEL, "OrderCancel", CANCEL)
    finally:
        slow.close()
    assert sleeps == []


def test_throttled_answers_wait_for_the_bucket_then_succeed(
    client: ShopifyGraphQL, fake_shopify: FakeShopify, sleeps: list[float]
) -> None:
    fake_shopify.throttle_next(2, requested=402, available=52)
    fake_shopify.answer_next(fixture("order.json"))
    assert _order(client)["order"]["id"] == ORDER["id"]
    assert sleeps == [pytest.approx(3.5), pytest.approx(3.5)]  # (402 - 52) / 100 points/s
    assert len(fake_shopify.received) == 3


def test_a_long_throttle_wait_is_bounded(
    client: ShopifyGraphQL, fake_shopify: FakeShopify, sleeps: list[float]
) -> None:
    fake_shopify.throttle_next(1, requested=1000, available=0)
    fake_shopify.answer_next(fixture("order.json"))
    _order(client)
    assert sleeps == [MAX_THROTTLE_WAIT]


def test_throttling_that_never_ends_is_an_order_system_error(
    client: ShopifyGraphQL, fake_shopify: FakeShopify, sleeps: list[float]
) -> None:
    fake_shopify.throttle_next(MAX_THROTTLED + 5)
    with pytest.raises(OrderSystemError, match="kept throttling OrderById"):
        _order(client)
    assert len(fake_shopify.received) == MAX_THROTTLED + 1
    assert len(sleeps) == MAX_THROTTLED


def test_a_throttled_mutation_is_sent_again_as_it_did_not_run(
    client: ShopifyGraphQL, fake_shopify: FakeShopify, sleeps: list[float]
) -> None:
    fake_shopify.throttle_next(1)
    fake_shopify.answer_next(fixture("order_cancel_refused.json"))
    data = client.mutate(ORDER_CANCEL, "OrderCancel", CANCEL)
    assert data["orderCancel"]["orderCancelUserErrors"][0]["code"] == "INVALID"
    assert fake_shopify.operations() == ["OrderCancel", "OrderCancel"]


def test_429_without_cost_waits_a_second(
    client: ShopifyGraphQL, fake_shopify: FakeShopify, sleeps: list[float]
) -> None:
    fake_shopify.answer_next({"errors": "Exceeded 2 calls per second for api client."}, 429)
    fake_shopify.answer_next(fixture("order.json"))
    _order(client)
    assert sleeps == [1.0]


def test_server_errors_are_retried_with_backoff(
    client: ShopifyGraphQL, fake_shopify: FakeShopify, sleeps: list[float]
) -> None:
    fake_shopify.fail_next(2, status=503)
    fake_shopify.answer_next(fixture("order.json"))
    assert _order(client)["order"]["name"] == "#1042"
    assert sleeps == list(BACKOFF[:2])


def test_server_errors_that_persist_are_an_order_system_error(
    client: ShopifyGraphQL, fake_shopify: FakeShopify, sleeps: list[float]
) -> None:
    fake_shopify.fail_next(10, status=502)
    with pytest.raises(OrderSystemError, match=r"OrderById failed 4 times \(last: HTTP 502\)"):
        _order(client)
    assert len(fake_shopify.received) == 1 + len(BACKOFF)


def test_a_mutation_is_not_retried_after_a_server_error(
    client: ShopifyGraphQL, fake_shopify: FakeShopify, sleeps: list[float]
) -> None:
    fake_shopify.fail_next(1, status=500)
    with pytest.raises(OrderSystemError, match="may have been applied"):
        client.mutate(ORDER_CANCEL, "OrderCancel", CANCEL)
    assert len(fake_shopify.received) == 1


def test_an_internal_error_in_the_body_is_retried_like_a_5xx(
    client: ShopifyGraphQL, fake_shopify: FakeShopify, sleeps: list[float]
) -> None:
    internal = {
        "errors": [
            {
                "message": "Internal error. Looks like something went wrong on our end.",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "b5a2-11"},
            }
        ]
    }
    fake_shopify.answer_next(internal)
    fake_shopify.answer_next(fixture("order.json"))
    _order(client)
    assert sleeps == [BACKOFF[0]]


def test_graphql_errors_are_reported_not_retried(
    client: ShopifyGraphQL, fake_shopify: FakeShopify, sleeps: list[float]
) -> None:
    fake_shopify.answer_next(fixture("access_denied.json"))
    with pytest.raises(OrderSystemError) as error:
        _order(client)
    assert "ACCESS_DENIED" in str(error.value)
    assert "`read_returns` access scope" in str(error.value)
    assert sleeps == []
    assert len(fake_shopify.received) == 1


def test_an_unknown_operation_is_refused_by_the_fake(client: ShopifyGraphQL) -> None:
    with pytest.raises(OrderSystemError, match="undefinedField"):
        client.query("query Nope { nope }", "Nope", {})


def test_a_wrong_token_is_401_and_the_token_is_never_in_the_message(
    fake_shopify: FakeShopify, sleeps: list[float]
) -> None:
    wrong = ShopifyGraphQL(
        "s.myshopify.com",
        "shpat_wrong_secret",
        VERSION,
        base_url=fake_shopify.url,
        sleep=sleeps.append,
    )
    try:
        with pytest.raises(OrderSystemError, match="HTTP 401") as error:
            _order(wrong)
    finally:
        wrong.close()
    assert "shpat_wrong_secret" not in str(error.value)
    assert sleeps == []


def test_an_unknown_api_version_is_404_naming_the_setting(
    fake_shopify: FakeShopify, sleeps: list[float]
) -> None:
    old = ShopifyGraphQL(
        "s.myshopify.com", TOKEN, "2025-07", base_url=fake_shopify.url, sleep=sleeps.append
    )
    try:
        with pytest.raises(OrderSystemError, match="SHOPIFY_API_VERSION"):
            _order(old)
    finally:
        old.close()
    assert fake_shopify.received[0].path == "/admin/api/2025-07/graphql.json"


def test_an_answer_that_is_not_json_is_an_error(
    client: ShopifyGraphQL, fake_shopify: FakeShopify
) -> None:
    fake_shopify.answer_next("<html>Bad gateway</html>", 200)
    with pytest.raises(OrderSystemError, match="unexpected answer"):
        _order(client)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_connection_is_retried_even_for_a_mutation(sleeps: list[float]) -> None:
    down = ShopifyGraphQL(
        "s.myshopify.com",
        TOKEN,
        VERSION,
        base_url=f"http://127.0.0.1:{_closed_port()}",
        sleep=sleeps.append,
    )
    try:
        with pytest.raises(OrderSystemError, match="network error"):
            down.mutate(ORDER_CANCEL, "OrderCancel", CANCEL)
    finally:
        down.close()
    assert sleeps == list(BACKOFF)


def test_retrying_stops_at_the_deadline(fake_shopify: FakeShopify, sleeps: list[float]) -> None:
    ticks = iter(range(0, 1000, 20))  # every look at the clock is 20 s later
    client = ShopifyGraphQL(
        "s.myshopify.com",
        TOKEN,
        VERSION,
        base_url=fake_shopify.url,
        sleep=sleeps.append,
        monotonic=lambda: next(ticks),
    )
    fake_shopify.fail_next(5, status=503)
    try:
        with pytest.raises(OrderSystemError, match="gave up after 30s"):
            _order(client)
    finally:
        client.close()
    assert sleeps == [BACKOFF[0]]  # at 20 s it tried again; at 40 s it stopped
    assert len(fake_shopify.received) == 2


def test_logs_name_the_operation_never_the_token_or_the_variables(
    client: ShopifyGraphQL, fake_shopify: FakeShopify, caplog: pytest.LogCaptureFixture
) -> None:
    fake_shopify.throttle_next(1)
    fake_shopify.fail_next(1)
    fake_shopify.answer_next(fixture("order.json"))
    with caplog.at_level(logging.DEBUG, logger="bot.oms.shopify_client"):
        client.query(ORDER_BY_ID, "OrderById", {"id": ORDER["id"], "phone": "+12065550143"})
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "OrderById: throttled" in text
    assert "OrderById: HTTP 503" in text
    assert TOKEN not in text
    assert "2065550143" not in text
