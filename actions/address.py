"""Changing the shipping address: only before the order ships, and through a person."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import hand_off
from actions.requests import AnswerRequest
from bot.oms.base import Order
from bot.support.replies import reply


class ActionSubmitAddress(AnswerRequest):
    def name(self) -> str:
        return "action_submit_address"

    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order
    ) -> list[EventType]:
        address = " ".join((tracker.get_slot("new_address") or "").split())
        if order.is_cancelled or order.fulfillment_status != "unfulfilled":
            dispatcher.utter_message(text=reply("address_too_late", order=order.name))
            return [SlotSet("new_address", None)]
        # The form asks until it has an address; without one, the person asks for it.
        events = await hand_off(
            self,
            dispatcher,
            tracker,
            "address change before shipping",
            order.name,
            extra=f"New address: {address}" if address else None,
        )
        return [SlotSet("new_address", None), *events]
