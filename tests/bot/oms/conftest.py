"""The fake Shopify, one per session: each test serves it its own seeded database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.shopify import FakeShopify


@pytest.fixture(scope="session")
def shopify_server() -> Iterator[FakeShopify]:
    with FakeShopify() as fake:
        yield fake


@pytest.fixture
def fake_shopify(shopify_server: FakeShopify) -> Iterator[FakeShopify]:
    """The fake with no store behind it: recorded answers only, until a test serves one."""
    shopify_server.reset()
    yield shopify_server
    shopify_server.reset()
