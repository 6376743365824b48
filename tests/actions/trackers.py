"""Real trackers for action tests, shaped as Rasa sends them to the action server."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

# The demo customers' numbers (data/demo/customers.yml), as Twilio sends them.
AVA = "+12065550101"
BEN = "+13055550102"
CHLOE = "+12125550103"
DEV = "+13125550104"
ELI = "+15125550105"
CUSTOMERS = (AVA, BEN, CHLOE, DEV, ELI)
SHELL = "default"  # the sender id of `rasa shell`: not a phone number
STRANGER = "+14155550199"  # a real-looking number with no orders


def user_event(
    text: str, intent: str, entities: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A `user` event as Rasa puts it on the tracker."""
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.98},
        "entities": entities or [],
    }
    return {"event": "user", "timestamp": 0.0, "text": text, "parse_data": parse}


def action_event(name: str) -> dict[str, Any]:
    return {"event": "action", "timestamp": 0.0, "name": name}


def slot_event(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "timestamp": 0.0, "name": name, "value": value}


def entity(name: str, value: str) -> dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": len(value), "extractor": "test"}


def make_tracker(
    sender: str = AVA,
    text: str = "where is my order",
    intent: str = "order_status",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    *,
    active_loop: str | None = None,
    requested_slot: str | None = None,
) -> Tracker:
    """A real Tracker whose latest message is `text`, after `events` (the earlier turns).

    Entities fill their same-named slots, as the domain's from_entity mappings do.
    """
    entities = entities or []
    latest = _parse(text, intent, entities)
    values = {e["entity"]: e["value"] for e in entities} | dict(slots or {})
    if requested_slot:
        values["requested_slot"] = requested_slot
    history = [*(events or []), action_event("action_listen"), user_event(text, intent, entities)]
    loop = {"name": active_loop} if active_loop else {}
    return Tracker(sender, values, latest, history, False, None, loop, "action_listen")


def form_tracker(
    sender: str,
    form: str,
    text: str,
    intent: str = "inform",
    *,
    requested: str | None = None,
    candidates: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
) -> Tracker:
    """The tracker Rasa 3.6 sends validate_<form> after the customer's message `text`.

    As FormAction._temporary_tracker builds it: the conversation, then `requested_slot`
    (None when the form is being activated), the form's `action` event, and the slot
    candidates Rasa extracted from the message. While the form runs, `active_loop` names
    it; on activation the form is not active yet.
    """
    candidates = dict(candidates or {})
    latest = _parse(text, intent, entities or [])
    events = [
        action_event("action_listen"),
        user_event(text, intent, entities),
        slot_event("requested_slot", requested),
        action_event(form),
        *(slot_event(name, value) for name, value in candidates.items()),
    ]
    values = dict(slots or {}) | {"requested_slot": requested} | candidates
    loop = {"name": form, "is_interrupted": False, "rejected": False} if requested else {}
    return Tracker(sender, values, latest, events, False, None, loop, form)


def _parse(text: str, intent: str, entities: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "text": text,
        "intent": {"name": intent, "confidence": 0.98},
        "intent_ranking": [{"name": intent, "confidence": 0.98}],
        "entities": entities,
    }


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    """What the actions said. Every message is a composed text: no response names, no buttons."""
    for message in dispatcher.messages:
        assert message.get("text"), f"not a composed text: {message}"
        assert not message.get("response"), message
        assert not message.get("buttons"), message
    return [m["text"] for m in dispatcher.messages]
