"""The Shopify Admin GraphQL transport: one session, timeouts, cost-based throttling, retries.

A query is retried on 5xx answers, timeouts and network errors, with backoff. A mutation is
retried only when it cannot have run (a throttled answer, or no connection was made): a
return requested twice is worse than a "try again later" text. Errors carry the operation
and the HTTP status, never the access token or the variables (phone numbers, emails).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from bot.oms.base import OrderSystemError

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Shopify-Access-Token"  # noqa: S105 (a header name, not a secret)
DEFAULT_TIMEOUT = (3.05, 10.0)  # seconds to connect, seconds to wait for the answer
BACKOFF = (0.5, 1.0, 2.0)  # waits before each retry of a failed query
MAX_THROTTLED = 4  # throttled answers in a row before giving up
MAX_THROTTLE_WAIT = 5.0  # seconds; Shopify's bucket refills at 100 points/s or more
MIN_THROTTLE_WAIT = 0.05
DEADLINE = 30.0  # seconds one call may spend retrying, so a customer is not left waiting
_SERVER_ERROR_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"})
_REFUSALS = {
    401: "Shopify refused the access token (HTTP 401): check SHOPIFY_ACCESS_TOKEN",
    402: "the shop is frozen for an unpaid bill (HTTP 402)",
    403: "Shopify forbade the call (HTTP 403): the app may lack an access scope",
    404: "no Admin API at this address (HTTP 404): check SHOPIFY_SHOP and SHOPIFY_API_VERSION",
    423: "the shop is locked (HTTP 423)",
}


@dataclass(frozen=True)
class Cost:
    """`extensions.cost` of an answer: what the query asked for and what is left in the bucket."""

    requested: float | None
    actual: float | None
    available: float | None
    maximum: float | None
    restore_rate: float | None

    def wait(self) -> float | None:
        """Seconds until the bucket holds the requested cost again, or None when unknown."""
        if self.requested is None or self.available is None or not self.restore_rate:
            return None
        return max(self.requested - self.available, 0.0) / self.restore_rate


class _Retry(Exception):
    """One attempt failed in a way worth trying again; `reason` is safe to log."""

    def __init__(self, reason: str, *, sure_not_run: bool, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.sure_not_run, self.wait = reason, sure_not_run, wait


class _Throttled(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(f"throttled, {wait:.2f}s to wait")
        self.wait = wait


class ShopifyGraphQL:
    """POSTs GraphQL documents to one shop's Admin API; `close()` when done."""

    def __init__(
        self,
        shop: str,
        token: str,
        version: str,
        *,
        base_url: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        root = (base_url or f"https://{shop}").rstrip("/")
        self.url = f"{root}/admin/api/{version}/graphql.json"
        self.timeout = timeout
        self.last_cost: Cost | None = None
        self._sleep, self._monotonic = sleep, monotonic
        self._session = requests.Session()
        self._session.headers.update(
            {TOKEN_HEADER: token, "Accept": "application/json", "User-Agent": "Pigeon"}
        )

    def query(self, document: str, operation: str, variables: Mapping[str, Any]) -> dict:
        """The `data` of a query, retried through throttling, outages and timeouts."""
        return self._execute(document, operation, variables, mutation=False)

    def mutate(self, document: str, operation: str, variables: Mapping[str, Any]) -> dict:
        """The `data` of a mutation, retried only when it cannot have run."""
        return self._execute(document, operation, variables, mutation=True)

    def close(self) -> None:
        self._session.close()

    def _execute(
        self, document: str, operation: str, variables: Mapping[str, Any], *, mutation: bool
    ) -> dict:
        body = {"query": document, "operationName": operation, "variables": dict(variables)}
        started, failures, throttled = self._monotonic(), 0, 0
        while True:
            try:
                return self._attempt(body, operation)
            except _Throttled as exc:
                throttled += 1
                if throttled > MAX_THROTTLED:
                    raise OrderSystemError(
                        f"Shopify kept throttling {operation} ({throttled} answers in a row)"
                    ) from None
                wait = exc.wait
                reason = "throttled"
            except _Retry as exc:
                failures += 1
                if mutation and not exc.sure_not_run:
                    raise OrderSystemError(
                        f"Shopify {operation} failed ({exc.reason}); not retried, as it may "
                        "have been applied"
                    ) from None
                if failures > len(BACKOFF):
                    raise OrderSystemError(
                        f"Shopify {operation} failed {failures} times (last: {exc.reason})"
                    ) from None
                wait, reason = exc.wait or BACKOFF[failures - 1], exc.reason
            if self._monotonic() - started + wait > DEADLINE:
                raise OrderSystemError(f"Shopify {operation} gave up after {DEADLINE:.0f}s")
            log.warning("Shopify %s: %s; trying again in %.2fs", operation, reason, wait)
            self._sleep(wait)

    def _attempt(self, body: dict, operation: str) -> dict:
        try:
            response = self._session.post(self.url, json=body, timeout=self.timeout)
        except requests.ConnectTimeout:
            raise _Retry("timed out connecting", sure_not_run=True) from None
        except requests.Timeout:
            raise _Retry("timed out waiting for the answer", sure_not_run=False) from None
        except requests.ConnectionError as exc:
            raise _Retry("network error", sure_not_run=_never_connected(exc)) from None
        except requests.RequestException as exc:
            raise _Retry(f"request failed ({type(exc).__name__})", sure_not_run=False) from None
        return self._answer(response, operation)

    def _answer(self, response: requests.Response, operation: str) -> dict:
        status = response.status_code
        payload = _json(response)
        self.last_cost = _cost(payload)
        if _is_throttled(status, payload):
            raise _Throttled(_throttle_wait(self.last_cost, response))
        if status >= 500:
            raise _Retry(f"HTTP {status}", sure_not_run=False)
        if status in _REFUSALS:
            raise OrderSystemError(f"Shopify {operation}: {_REFUSALS[status]}")
        if status != 200 or payload is None:
            raise OrderSystemError(f"Shopify {operation}: unexpected answer (HTTP {status})")
        errors = payload.get("errors")
        if errors:
            if _codes(errors) & _SERVER_ERROR_CODES:
                raise _Retry("Shopify internal error", sure_not_run=False)
            raise OrderSystemError(f"Shopify {operation}: {_describe(errors)}")
        data = payload.get("data")
        if not isinstance(data, dict):
            raise OrderSystemError(f"Shopify {operation}: the answer has no data")
        log.debug("Shopify %s: cost %s", operation, self.last_cost)
        return data


def _never_connected(exc: requests.ConnectionError) -> bool:
    """True when the request cannot have reached Shopify (refused, unknown host)."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)


def _json(response: requests.Response) -> dict | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _cost(payload: dict | None) -> Cost | None:
    extensions = payload.get("extensions") if payload else None
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    if not isinstance(cost, dict):
        return None
    status = cost.get("throttleStatus")
    status = status if isinstance(status, dict) else {}
    return Cost(
        requested=_number(cost.get("requestedQueryCost")),
        actual=_number(cost.get("actualQueryCost")),
        available=_number(status.get("currentlyAvailable")),
        maximum=_number(status.get("maximumAvailable")),
        restore_rate=_number(status.get("restoreRate")),
    )


def _codes(errors: object) -> set[str]:
    codes = set()
    for error in errors if isinstance(errors, list) else []:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        if isinstance(extensions, dict) and isinstance(extensions.get("code"), str):
            codes.add(extensions["code"])
    return codes


def _is_throttled(status: int, payload: dict | None) -> bool:
    return status == 429 or bool(payload and "THROTTLED" in _codes(payload.get("errors")))


def _throttle_wait(cost: Cost | None, response: requests.Response) -> float:
    """(requested - available) / restore rate, else Retry-After, else a second; bounded."""
    wait = cost.wait() if cost else None
    if wait is None:
        try:
            wait = float(response.headers.get("Retry-After", "1"))
        except ValueError:
            wait = 1.0
    return min(max(wait, MIN_THROTTLE_WAIT), MAX_THROTTLE_WAIT)


def _describe(errors: object) -> str:
    """The first error's code and message, cut short: enough for an operator to act on."""
    first = errors[0] if isinstance(errors, list) and errors else {}
    message = first.get("message") if isinstance(first, dict) else None
    codes = sorted(_codes(errors[:1] if isinstance(errors, list) else []))
    text = " ".join(str(message or "GraphQL error").split())[:200]
    return f"{codes[0]}: {text}" if codes else text
