"""The auth sweep (issue 8): every route of the desk and of the Rasa server refuses strangers.

The routes come from the apps themselves (bench/security.py builds them as the processes
do), so a route added later is swept too: it fails this module unless it refuses a caller
without credentials or is on the reviewed allow-list, with its reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.rest import RestInput

from bench import security
from bench.security import PUBLIC, TOKEN, environment, rasa_app, sweep_app, sweep_async
from bot.sms.signature import sign
from tests.http import serving

# Swept as protected, so a sweep that lost its routes cannot pass.
SURELY_PROTECTED = {
    ("desk", "/api/conversations", "GET"),
    ("desk", "/api/handoff", "POST"),
    ("desk", "/inbox/<conversation_id:int>", "GET"),
    ("desk", "/media/<message_id:int>/<index:int>", "GET"),
    ("desk", "/webhooks/twilio/status", "POST"),
    ("desk", "/webhooks/shopify", "POST"),
    ("rasa", "/status", "GET"),
    ("rasa", "/domain", "GET"),
    ("rasa", "/model/parse", "POST"),
    ("rasa", "/model/train", "POST"),
    ("rasa", "/conversations/<conversation_id:path>/tracker", "GET"),
    ("rasa", "/conversations/<conversation_id:path>/trigger_intent", "POST"),
    ("rasa", "/webhooks/sms/webhook", "POST"),
    ("rasa", "/webhooks/chat/webhook", "POST"),
    ("rasa", "/webhooks/chat/messages", "GET"),
    ("rasa", "/webhooks/email/inbound", "POST"),
    ("rasa", "/webhooks/email/inbound/<secret:str>", "POST"),
    ("rasa", "/webhooks/rest/webhook", "POST"),
}


@pytest.fixture(scope="module")
def swept() -> dict[str, Any]:
    import asyncio

    return asyncio.run(sweep_async())


def test_no_route_lets_a_stranger_in(swept: dict[str, Any]) -> None:
    print("\n" + security.markdown(swept))
    assert swept["let_in"] == []
    assert swept["unauthenticated"] == 0
    assert swept["broken"] == []  # a public route never answers a stranger with a 5xx


def test_the_sweep_covered_the_routes_it_must(swept: dict[str, Any]) -> None:
    verdicts = {(r["app"], r["route"], r["method"]): r["verdict"] for r in swept["routes"]}
    assert {key: verdicts.get(key) for key in SURELY_PROTECTED} == dict.fromkeys(
        SURELY_PROTECTED, "refused"
    )
    assert swept["routes_checked"] >= 80
    assert swept["requests"] >= 6 * swept["routes_checked"]


def test_every_allow_listed_route_exists_and_answers(swept: dict[str, Any]) -> None:
    """A stale entry would quietly open a route added later under the same name."""
    seen = {(p["app"], p["route"], p["method"]) for p in swept["public"]}
    assert set(PUBLIC) <= seen
    simulator = {(p["mode"], p["route"]) for p in swept["public"] if "simulator" in p["route"]}
    assert {mode for mode, _ in simulator} == {"embedded"}  # with Twilio it is not public


async def test_rasa_s_open_rest_channel_would_fail_the_sweep(tmp_path: Path) -> None:
    """The hole this sweep found: Rasa's REST channel lets anyone speak as Ava's number."""
    credentials = tmp_path / "credentials.yml"
    text = security.CREDENTIALS.read_text().replace("channels.rest.TokenRestInput:", "rest:")
    credentials.write_text(text)
    with environment(str(tmp_path / "data")):
        app = rasa_app(credentials)
        assert any(isinstance(c, RestInput) for c in app.ctx.input_channels)
        rows = await sweep_app(app, "rasa", "twilio")
    let_in = [(r["method"], r["route"]) for r in security.table(rows)["let_in"]]
    assert let_in == [("POST", "/webhooks/rest/webhook")]


async def test_an_open_route_added_to_a_channel_fails_the_sweep(tmp_path: Path) -> None:
    with environment(str(tmp_path / "data")):
        app = rasa_app()

        async def peek(request: Any) -> Any:
            from sanic import response

            return response.json({"orders": []})

        app.add_route(peek, "/webhooks/sms/peek", methods=["GET"])
        rows = await sweep_app(app, "rasa", "twilio")
    let_in = [(r["method"], r["route"]) for r in security.table(rows)["let_in"]]
    assert let_in == [("GET", "/webhooks/sms/peek")]


async def test_the_right_credentials_do_get_in(tmp_path: Path) -> None:
    """The refusals are the checks at work, not routes that answer no one."""
    with environment(str(tmp_path / "data")):
        app = rasa_app()
        async with serving(app) as base, aiohttp.ClientSession(base_url=base) as client:
            status = await client.get("/status", params={"token": TOKEN})
            rest = await client.post(
                "/webhooks/rest/webhook", params={"token": TOKEN}, json={"sender": "x"}
            )
            form = {
                "MessageSid": "SM" + "2" * 32,
                "AccountSid": security.ENV["TWILIO_ACCOUNT_SID"],
                "From": "+12065550101",
                "To": security.ENV["TWILIO_FROM_NUMBER"],
                "Body": "",
                "NumMedia": "0",
            }
            url = f"{base}/webhooks/sms/webhook"
            signature = sign(security.ENV["TWILIO_AUTH_TOKEN"], url, form)
            sms = await client.post(
                "/webhooks/sms/webhook", data=form, headers={"X-Twilio-Signature": signature}
            )
    assert status.status not in (401, 403)  # 409 here: no model is loaded
    assert rest.status not in (401, 403)
    assert sms.status == 200
