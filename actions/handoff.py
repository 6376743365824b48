"""Handing the conversation to a person, and the fallback that leads there."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import PigeonAction, customer_text
from bot.support.handoff import hand_over, summarize
from bot.support.replies import reply


async def hand_off(
    action: PigeonAction,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    order_ref: str | None = None,
    extra: str | None = None,
) -> list[EventType]:
    """Hand the thread to the inbox (the desk's handoff endpoint), tell the customer when a
    person will answer, and pause the assistant (Rasa's `pause` event) for this customer."""
    number = tracker.get_slot("order_number")
    order_ref = order_ref or (f"#{str(number).lstrip('#')}" if number else None)
    summary = summarize(reason, customer_text(tracker), order_ref, detail=extra)
    services = action.services

    await action.call(
        hand_over,
        services.settings,
        services.db,
        tracker.sender_id,
        reason,
        summary,
        services.clock,
    )
    dispatcher.utter_message(text=reply("handoff", support_hours=services.settings.support_hours))
    events: list[EventType] = [ConversationPaused()]
    if tracker.active_loop.get("name"):  # a form in progress stops: a person takes it from here
        events = [ActiveLoop(None), SlotSet("requested_slot", None), *events]
    return events


class ActionHandoff(PigeonAction):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return await hand_off(self, dispatcher, tracker, "customer asked for a person")


class ActionFallback(PigeonAction):
    """Ask to rephrase once; the second miss in a row goes to a person."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intents = [
            e.get("parse_data", {}).get("intent", {}).get("name")
            for e in tracker.events
            if e.get("event") == "user"
        ]
        if intents[-2:] == ["nlu_fallback", "nlu_fallback"]:
            return await hand_off(
                self, dispatcher, tracker, "the assistant did not understand twice"
            )
        dispatcher.utter_message(text=reply("please_rephrase"))
        # Then wait for the customer. Rasa also runs this when no policy is sure what comes
        # next (core fallback); predicting again would ask to rephrase up to 10 times a turn.
        return [FollowupAction("action_listen")]
