"""CHAT_ORIGINS as CORS headers: "*" for anyone, else only the listed sites."""

from __future__ import annotations

from bot.chat import cors

SHOP = "https://shop.example.com"


def test_any_origin_when_the_list_has_a_star() -> None:
    assert cors.allows(("*",), "https://anywhere.example")
    assert cors.headers(("*",), "https://anywhere.example", preflight=False) == {
        "Access-Control-Allow-Origin": "*"
    }


def test_only_listed_origins_otherwise_echoed_with_vary() -> None:
    origins = (SHOP, "http://localhost:8000")
    assert cors.allows(origins, SHOP)
    assert cors.allows(origins, "HTTPS://Shop.Example.com")
    assert not cors.allows(origins, "https://evil.example")
    assert not cors.allows(origins, "null")
    assert cors.headers(origins, SHOP, preflight=False) == {
        "Access-Control-Allow-Origin": SHOP,
        "Vary": "Origin",
    }
    assert cors.headers(origins, "https://evil.example", preflight=True) == {}


def test_a_request_without_an_origin_is_no_browser_page() -> None:
    assert cors.allows((SHOP,), None)
    assert cors.headers((SHOP,), None, preflight=True) == {}


def test_a_preflight_allows_the_authorization_header() -> None:
    found = cors.headers((SHOP,), SHOP, preflight=True)
    assert found["Access-Control-Allow-Origin"] == SHOP
    assert "Authorization" in found["Access-Control-Allow-Headers"]
    assert "Content-Type" in found["Access-Control-Allow-Headers"]
    assert found["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert "Access-Control-Allow-Credentials" not in found
