"""What a shipping alert says: the response to use and the phrases that fill it.

The wording itself is in domain.yml (`utter_shipment_*`), for conversation designers to
edit; these functions only turn an alert's facts into the pieces those texts take. The
desk uses the same responses when it has to compose an alert without the assistant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import yaml

from bot.notify import policy
from bot.oms.tracking import carrier_name
from bot.support.wording import day, on_day

DOMAIN_FILE = Path(__file__).resolve().parents[2] / "domain.yml"
EXCEPTION_RESPONSES = ("attempted_delivery", "delayed", "failure", "ready_for_pickup")
# The domain.yml responses action_shipment_update sends (and the desk, as a fallback).
ACTION_RESPONSES = tuple(
    f"utter_shipment_{name}"
    for name in (policy.SHIPPED, policy.OUT_FOR_DELIVERY, policy.DELIVERED, *EXCEPTION_RESPONSES)
)
STOP_HINT = " Reply STOP to opt out."


@dataclass(frozen=True)
class Alert:
    """The facts of one alert, as the desk hands them to the assistant."""

    order_name: str  # "#1001"
    kind: str  # policy.SHIPPED, ...
    status: str | None  # the carrier status behind it
    carrier: str | None
    tracking_url: str | None
    eta: datetime | None
    happened_at: datetime
    location: str | None
    message: str | None
    opt_out_hint: bool
    time_zone: str | None


def to_entities(alert: Alert, notification_id: int) -> dict[str, str]:
    """The alert as trigger_intent entities: the desk sends them, the assistant's action reads."""
    return {
        "notification_id": str(notification_id),
        "order_number": alert.order_name.lstrip("#"),
        "shipment_kind": alert.kind,
        "shipment_status": alert.status or "",
        "carrier": alert.carrier or "",
        "tracking_url": alert.tracking_url or "",
        "eta": alert.eta.isoformat() if alert.eta else "",
        "happened_at": alert.happened_at.isoformat(),
        "location": alert.location or "",
        "carrier_message": alert.message or "",
        "opt_out_hint": "yes" if alert.opt_out_hint else "no",
        "time_zone": alert.time_zone or "",
    }


def from_entities(facts: Mapping[str, str]) -> Alert | None:
    """The alert back from its entities; None when they are incomplete."""
    number, kind = facts.get("order_number"), facts.get("shipment_kind")
    happened = _when(facts.get("happened_at"))
    if not number or not kind or happened is None:
        return None
    return Alert(
        order_name=f"#{number.lstrip('#')}",
        kind=kind,
        status=facts.get("shipment_status") or None,
        carrier=facts.get("carrier") or None,
        tracking_url=facts.get("tracking_url") or None,
        eta=_when(facts.get("eta")),
        happened_at=happened,
        location=facts.get("location") or None,
        message=facts.get("carrier_message") or None,
        opt_out_hint=facts.get("opt_out_hint") == "yes",
        time_zone=facts.get("time_zone") or None,
    )


def _when(value: str | None) -> datetime | None:
    """An aware datetime from ISO text, or None."""
    try:
        when = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return when if when is None or when.tzinfo else None


def response_name(kind: str, status: str | None) -> str:
    """utter_shipment_<kind>, or the exception's own response (delayed, failure, ...)."""
    if kind == policy.EXCEPTION:
        return f"utter_shipment_{status if status in EXCEPTION_RESPONSES else 'delayed'}"
    return f"utter_shipment_{kind}"


def params(alert: Alert, store_name: str, now: datetime) -> dict[str, str]:
    """The values the utter_shipment_* texts are written with."""
    tz = alert.time_zone
    eta = alert.eta if alert.eta and alert.eta >= now else None
    message = (alert.message or "").strip().rstrip(".")
    return {
        "store_name": store_name,
        "order_name": alert.order_name,
        "carrier": carrier_name(alert.carrier) or alert.carrier or "the carrier",
        "eta": f", arriving {day(eta, now, tz)}" if eta else "",
        "tracking": f" Track it: {alert.tracking_url}" if alert.tracking_url else "",
        "note": f" ({message})" if message else "",
        "place": f" at {alert.location}" if alert.location else "",
        "delivered_when": f" {on_day(alert.happened_at, now, tz)}",
        "stop_hint": STOP_HINT if alert.opt_out_hint else "",
    }


@lru_cache(maxsize=2)
def _responses(path: Path) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    responses = data.get("responses") or {}
    return {
        name: variants[0]["text"]
        for name, variants in responses.items()
        if name.startswith("utter_shipment_") and variants and "text" in variants[0]
    }


def render(name: str, values: Mapping[str, str], path: Path = DOMAIN_FILE) -> str:
    """A domain.yml response filled in as Rasa fills it ({name} -> value)."""
    template = _responses(path)[name]
    return re.sub(r"{([^\n{}]+?)}", lambda m: str(values.get(m.group(1), m.group(0))), template)
