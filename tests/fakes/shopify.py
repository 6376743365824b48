"""A fake Shopify Admin GraphQL API on loopback (real HTTP), backed by the seeded demo store.

`requests` is synchronous and the action tests call it from inside their event loop, so the
fake serves from its own thread. It checks the access token and the API version in the path,
answers each operation the adapter sends (by `operationName` and variables, not by running
GraphQL) from the demo store, performs cancellations and returns through it, and can be told
to throttle, fail, or answer with a recorded payload. Every request is recorded.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from bot.clock import Clock
from bot.oms.policies import load_policies
from bot.oms.shopify import ShopifyStore
from bot.oms.shopify_client import ShopifyGraphQL
from bot.oms.shopify_products import DEFAULT_REACH, Reach
from bot.store import Database
from tests.fakes.shopify_ops import Operations, Refusal

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "shopify" / "graphql"
POLICIES = ROOT / "data" / "demo" / "policies.yml"
TOKEN = "shpat_fake_0123456789abcdef"
VERSION = "2026-10"
UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def shopify_store(
    fake: FakeShopify, *, sleep: Callable[[float], None] | None = None, reach: Reach = DEFAULT_REACH
) -> ShopifyStore:
    """The real adapter pointed at `fake`; `sleep` (default: none) replaces waiting."""
    no_wait = sleep or (lambda seconds: None)
    client = ShopifyGraphQL(
        "pigeon-demo.myshopify.com", fake.token, fake.version, base_url=fake.url, sleep=no_wait
    )
    return ShopifyStore(client, load_policies(POLICIES), sleep=no_wait, reach=reach)


def fixture(name: str) -> dict:
    """A recorded answer from tests/fixtures/shopify/graphql/."""
    return json.loads((FIXTURES / name).read_text())


@dataclass(frozen=True)
class Received:
    """One request the fake got."""

    path: str
    headers: dict[str, str]
    operation: str | None
    variables: dict[str, Any]
    document: str


@dataclass
class _Canned:
    status: int
    body: dict | str


@dataclass
class _State:
    canned: list[_Canned] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)


class FakeShopify:
    """`with FakeShopify() as fake:` then `fake.serve(db, clock)`; point a client at `fake.url`."""

    def __init__(self, token: str = TOKEN, version: str = VERSION) -> None:
        self.token, self.version = token, version
        self.url = ""
        self.pending_jobs = 0  # cancellation jobs answer done: false this many times
        self.delay = 0.0  # seconds to wait before answering, to provoke read timeouts
        self._closing = threading.Event()
        self._ops: Operations | None = None
        self._state = _State()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FakeShopify:
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- programming the fake ---

    def serve(self, db: Database, clock: Clock) -> None:
        """Answer from the demo store in `db` (seeded), forgetting earlier programming."""
        with self._lock:
            self._ops = Operations(db, clock, self)
            self._state = _State()
            self.pending_jobs, self.delay = 0, 0.0

    def reset(self) -> None:
        """Forget the store and all programming: for tests of the transport alone."""
        with self._lock:
            self._ops, self._state = None, _State()
            self.pending_jobs, self.delay = 0, 0.0

    @property
    def received(self) -> list[Received]:
        return list(self._state.received)

    def operations(self) -> list[str | None]:
        return [r.operation for r in self._state.received]

    def answer_next(self, body: dict | str, status: int = 200) -> None:
        """Answer the next request with `body` (a recorded payload), whatever it asks."""
        self._state.canned.append(_Canned(status, body))

    def throttle_next(self, n: int = 1, *, requested: int = 402, available: int = 52) -> None:
        """Answer THROTTLED `n` times: Shopify's bucket holds `available` of `requested`."""
        body = fixture("throttled.json")
        body["extensions"]["cost"]["requestedQueryCost"] = requested
        body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] = available
        for _ in range(n):
            self.answer_next(body)

    def fail_next(self, n: int = 1, *, status: int = 503) -> None:
        """Answer HTTP `status` `n` times, as Shopify does during an incident."""
        for _ in range(n):
            self.answer_next({"errors": "Service Unavailable"}, status)

    # --- the API ---

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict | str]:
        state = self._state
        if self.delay:
            self._closing.wait(self.delay)
        with self._lock:
            if state is not self._state:  # a request of an earlier test, answered too late
                return 503, {"errors": "Service Unavailable"}
            return self._handle(path, headers, raw)

    def _handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict | str]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        variables = body.get("variables") if isinstance(body.get("variables"), dict) else {}
        operation = body.get("operationName")
        self._state.received.append(
            Received(path, headers, operation, variables, str(body.get("query", "")))
        )
        if headers.get("x-shopify-access-token") != self.token:
            return 401, {"errors": UNAUTHORIZED}
        if path != f"/admin/api/{self.version}/graphql.json":
            return 404, {"errors": "Not Found"}
        if self._state.canned:
            canned = self._state.canned.pop(0)
            return canned.status, canned.body
        return 200, self._answer(operation, variables, str(body.get("query", "")))

    def _answer(self, operation: object, variables: dict, document: str) -> dict:
        handlers = self._ops.handlers if self._ops else {}
        answer: Callable[[dict], dict] | None = handlers.get(str(operation))
        declared = f"query {operation}(" in document or f"mutation {operation}(" in document
        if answer is None or not declared:
            message = f"Field '{operation}' doesn't exist on type 'QueryRoot'"
            return _error(message, "undefinedField")
        try:
            data = answer(variables)
        except Refusal as exc:
            return _error(str(exc), "argumentLiteralsIncompatible")
        return {"data": data, "extensions": {"cost": _cost(operation)}}

    def new_job(self) -> dict:
        done = self.pending_jobs == 0
        return {"id": f"gid://shopify/Job/{uuid.uuid4()}", "done": done}

    def job(self, job_id: str) -> dict:
        self.pending_jobs = max(self.pending_jobs - 1, 0)
        return {"id": job_id, "done": self.pending_jobs == 0}


def _error(message: str, code: str) -> dict:
    return {"errors": [{"message": message, "locations": [], "extensions": {"code": code}}]}


def _cost(operation: object) -> dict:
    requested = 12 if operation in ("Job", "Customers") else 402
    return {
        "requestedQueryCost": requested,
        "actualQueryCost": min(requested, 14),
        "throttleStatus": {
            "maximumAvailable": 2000.0,
            "currentlyAvailable": 1986,
            "restoreRate": 100.0,
        },
    }


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a read timeout) is expected here; anything else is not."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler(fake: FakeShopify) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait between

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body = fake.handle(self.path, headers, raw)
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
