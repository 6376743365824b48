"""The auth sweep: every route of the desk and of the Rasa server, called by strangers.

Routes come from the apps themselves: the desk as `python -m bot serve` builds it (embedded,
where the SMS simulator is public, and with Twilio, where it is not), and the Rasa server as
`rasa run --enable-api --auth-token` builds it with our credentials.yml (Rasa's own
`create_http_input_channels` and `configure_app`; no model is loaded, none is needed to
decide who may call). Each route and method is called with no credentials, a wrong token,
a forged session cookie, and a wrong signature; it must refuse (401, 403, 404, 405, or a
redirect to /login), unless it is on the reviewed allow-list below, with its reason.

Not swept: the action server (`rasa run actions`, rasa_sdk). Its `POST /webhook` has no
authentication by design and trusts the tracker it is sent (sender id, slots), so it must
never be reachable from outside the host: `python -m bot run` binds it to `ACTION_HOST`
(127.0.0.1 unless set; tests/bot/test_launch.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
from sanic import Sanic

ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = ROOT / "credentials.yml"
TOKEN = "sweep-token-" + "7" * 20  # RASA_TOKEN and DESK_API_TOKEN of the swept apps
REFUSED = {401, 403, 404, 405}
ENV = {
    "RASA_TOKEN": TOKEN,
    "DESK_API_TOKEN": TOKEN,
    "EMAIL_INBOUND_SECRET": "sweep-email-secret-" + "5" * 20,
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "7e3b" * 8,
    "TWILIO_FROM_NUMBER": "+12065550100",
    "SHOPIFY_WEBHOOK_SECRET": "sweep-shopify-secret",
}
TWILIO_ONLY = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")

_STATIC = "/static/<__file_uri__:path>"
_SIMULATOR = "public only in the embedded mode: the local SMS simulator plays the phone"
# (app, route as registered, method) -> why anyone may call it. Reviewed; keep it short.
PUBLIC: dict[tuple[str, str, str], str] = {
    ("desk", "/healthz", "GET"): "health check (status and database only)",
    ("desk", "/login", "GET"): "the sign-in form",
    ("desk", "/login", "POST"): "signing in (rate limited, CSRF-free by design: no session yet)",
    ("desk", _STATIC, "GET"): "static assets (CSS, JS) of the inbox",
    ("desk", _STATIC, "HEAD"): "static assets (CSS, JS) of the inbox",
    ("desk", "/chat/widget.js", "GET"): "the chat widget, embedded by stores' pages",
    ("desk", "/chat/widget.css", "GET"): "the chat widget's style",
    ("desk", "/demo", "GET"): "the demo store's product page that shows the widget",
    ("desk", "/simulator", "GET"): _SIMULATOR,
    ("desk", "/simulator/customers", "GET"): _SIMULATOR,
    ("desk", "/simulator/messages", "GET"): _SIMULATOR,
    ("desk", "/simulator/send", "POST"): _SIMULATOR,
    ("rasa", "/", "GET"): "Rasa's hello (health check, no data)",
    ("rasa", "/version", "GET"): "Rasa's version numbers (health check, no data)",
    ("rasa", "/webhooks/sms", "GET"): "SMS channel health check",
    ("rasa", "/webhooks/email", "GET"): "email channel health check",
    ("rasa", "/webhooks/chat", "GET"): "chat channel health check",
    ("rasa", "/webhooks/rest", "GET"): "REST channel health check",
    ("rasa", "/webhooks/chat/session", "POST"): "a visitor's chat token (rate limited per address)",
}
PUBLIC_PREFLIGHT = "CORS preflight of the chat widget (no data, no effect)"
EMBEDDED_ONLY = {key for key, why in PUBLIC.items() if why == _SIMULATOR}


def sweep() -> dict[str, Any]:
    """The table for the bench report: routes checked, public by design, let in (should be 0)."""
    return asyncio.run(sweep_async())


async def sweep_async() -> dict[str, Any]:
    checked: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="pigeon-sweep-") as data_dir, environment(data_dir):
        for name, mode in (("desk", "embedded"), ("desk", "twilio"), ("rasa", "twilio")):
            with _mode(mode):
                app = desk_app() if name == "desk" else rasa_app()
                checked += await sweep_app(app, name, mode)
    return table(checked)


def table(checked: list[dict[str, Any]]) -> dict[str, Any]:
    let_in = [c for c in checked if c["verdict"] != "refused" and "reason" not in c]
    public = [c for c in checked if "reason" in c]
    return {
        "routes_checked": len(checked),
        "requests": sum(c["requests"] for c in checked),
        "public_by_design": len(public),
        "unauthenticated": len(let_in),
        "public": [{k: c[k] for k in ("app", "mode", "method", "route", "reason")} for c in public],
        "let_in": let_in,
        "broken": [c for c in checked if c["verdict"] == "public but broken"],
        "routes": checked,
    }


def markdown(table: dict[str, Any]) -> str:
    """The sweep as a Markdown table for reports/bench.md."""
    lines = [
        f"{table['routes_checked']} routes and methods checked with "
        f"{table['requests']} anonymous requests; {table['public_by_design']} public by design, "
        f"**{table['unauthenticated']} unauthenticated**.",
        "",
        "| app (mode) | method | route | public because |",
        "|---|---|---|---|",
    ]
    for p in table["public"]:
        lines.append(
            f"| {p['app']} ({p['mode']}) | {p['method']} | `{p['route']}` | {p['reason']} |"
        )
    for c in table["let_in"]:
        lines.append(f"| {c['app']} ({c['mode']}) | {c['method']} | `{c['route']}` | **LET IN** |")
    return "\n".join(lines)


@contextmanager
def environment(data_dir: str) -> Iterator[None]:
    """The environment `make run` gives every process, on a migrated throwaway data dir."""
    ours = ("PIGEON_", "DATABASE_", "RASA_", "TWILIO_", "PUBLIC_URL", "SMTP_", "EMAIL_", "CHAT_")
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith(ours) or k in ENV]:
        del os.environ[key]
    os.environ.update(ENV, PIGEON_DATA_DIR=data_dir)
    Sanic.test_mode = True  # several apps in one process
    try:
        _migrate()
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _mode(mode: str) -> Iterator[None]:
    """Embedded: no Twilio account (the simulator is public). Twilio: the account is set."""
    removed = {k: os.environ.pop(k) for k in TWILIO_ONLY if mode == "embedded"}
    try:
        yield
    finally:
        os.environ.update(removed)


def _migrate() -> None:
    from bot.config import Settings
    from bot.store import Database
    from bot.store.migrate import upgrade

    db = Database(Settings.from_env().database_url)
    upgrade(db)
    db.dispose()


def desk_app() -> Sanic:
    """The desk as `python -m bot serve` builds it from the environment (no background jobs)."""
    from bot.config import Settings
    from bot.desk.app import create_app
    from bot.services import build_services

    services = build_services(Settings.from_env())
    return create_app(services, f"sweep_desk_{id(services)}", dispatch=False, notify=False)


def rasa_app(credentials: Path = CREDENTIALS) -> Sanic:
    """The Rasa server's app as `rasa run --enable-api --auth-token` builds it (no model)."""
    from rasa.core.run import configure_app, create_http_input_channels

    channels = create_http_input_channels(None, str(credentials))
    return configure_app(channels, auth_token=TOKEN, enable_api=True)


async def sweep_app(app: Sanic, name: str, mode: str) -> list[dict[str, Any]]:
    """Every route and method of `app`, served on loopback, called by every stranger."""
    from tests.http import serving  # serves the app with its start and stop listeners run

    routes = sorted({("/" + r.path.lstrip("/"), m) for r in app.router.routes for m in r.methods})
    results = []
    async with serving(app) as base, aiohttp.ClientSession(base_url=base) as client:
        for route, method in routes:
            results.append(await _check(client, name, mode, route, method))
    return results


def _public_reason(name: str, mode: str, route: str, method: str) -> str | None:
    key = (name, route, method)
    if key in EMBEDDED_ONLY and mode != "embedded":
        return None
    if method == "OPTIONS" and route.startswith("/webhooks/chat/"):
        return PUBLIC_PREFLIGHT
    return PUBLIC.get(key)


async def _check(
    client: aiohttp.ClientSession, name: str, mode: str, route: str, method: str
) -> dict[str, Any]:
    reason = _public_reason(name, mode, route, method)
    answers = [await _call(client, method, _concrete(route), **kw) for kw in _strangers(method)]
    row = {"app": name, "mode": mode, "route": route, "method": method, "requests": len(answers)}
    if reason is not None:
        broken = [a for a in answers if a[0] >= 500]
        verdict = "public" if not broken else "public but broken"
        return row | {"verdict": verdict, "reason": reason, "answers": sorted(set(answers))}
    # Refused: every stranger got a 4xx (or the sign-in page), and the well-formed requests
    # reached the check and got 401/403/404/405: a 400 for a bad body alone proves nothing.
    let_in = [a for a in answers if not (400 <= a[0] < 500 or _to_login(*a))]
    checked = [a for a in answers if a[0] in REFUSED or _to_login(*a)]
    verdict = "let in" if let_in or not checked else "refused"
    return row | {"verdict": verdict, "answers": sorted(set(let_in or answers))}


def _to_login(status: int, location: str) -> bool:
    return status in (302, 303) and location.startswith("/login")


def _strangers(method: str) -> Iterator[dict[str, Any]]:
    """No credentials, a wrong bearer/query token, a forged cookie, a wrong signature."""
    who = [
        {},
        {"headers": {"Authorization": "Bearer " + TOKEN[::-1]}},
        {"params": {"token": TOKEN[::-1]}},
        {"headers": {"Cookie": "pigeon_session=" + "f" * 43}},
        {"headers": {"Authorization": "Basic c3dlZXA6d3Jvbmc="}},  # sweep:wrong
        {"headers": {"X-Twilio-Signature": "Zm9v", "X-Shopify-Hmac-Sha256": "Zm9v"}},
    ]
    for stranger in who:
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            yield stranger | {"data": _FORM}
            yield stranger | {"json": _JSON}
        else:
            yield stranger


_FORM = {
    "MessageSid": "SM" + "1" * 32,
    "AccountSid": ENV["TWILIO_ACCOUNT_SID"],
    "From": "+12065550101",
    "To": ENV["TWILIO_FROM_NUMBER"],
    "Body": "where is my order",
    "MessageStatus": "delivered",
    "from": "Ava <ava@example.com>",
    "subject": "order",
    "text": "where is my order",
}
_JSON = {"sender": "+12065550101", "message": "where is my order", "text": "hi", "name": "x"}


async def _call(client: aiohttp.ClientSession, method: str, path: str, **kw: Any):
    headers = {"Accept": "application/json", **kw.pop("headers", {})}
    async with client.request(method, path, headers=headers, allow_redirects=False, **kw) as got:
        await got.read()
        return got.status, got.headers.get("Location", "")


def _concrete(route: str) -> str:
    """A path the route matches: 1 for <x:int>, a word for anything else."""
    return re.sub(r"<\w+(?::(\w+))?>", lambda m: "1" if m.group(1) == "int" else "word", route)


async def run(logs: Path) -> Any:
    """The sweep as a bench section (`BENCHMARKS["security"] = "bench.security"`)."""
    from bench.report import Goal, Section

    found = await sweep_async()
    (logs / "security.json").write_text(json.dumps(found, indent=1, default=str))
    return Section(
        title="Auth sweep",
        method=__doc__.split("\n\n", 1)[1].replace("\n", " "),
        tables=[markdown(found)],
        goals=[
            Goal(
                "0 unauthenticated routes",
                f"{found['unauthenticated']} of {found['routes_checked']}",
                found["unauthenticated"] == 0 and not found["broken"],
            )
        ],
    )
