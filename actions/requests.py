"""The last step of a request form: the order is known and proven, so answer about it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import PigeonAction, sender_phone
from actions.forms import LOCKED
from actions.handoff import hand_off
from bot.oms.base import Order
from bot.support.lookup import may_see
from bot.support.replies import reply


class AnswerRequest(PigeonAction, ABC):
    """Runs after a request's form; abstract, so the SDK does not register it."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.get_slot("verification") == LOCKED:
            reason = "could not verify the customer (3 wrong answers within an hour)"
            events = await hand_off(self, dispatcher, tracker, reason)
            return [SlotSet("verification", None), *events]
        order = await self.call(self._order, tracker)
        if order is None:  # the form guarantees one; a stale tracker might not
            dispatcher.utter_message(text=reply("ask_order_number"))
            return []
        return await self.answer(dispatcher, tracker, order)

    def _order(self, tracker: Tracker) -> Order | None:
        number = tracker.get_slot("order_number")
        order = self.services.oms.order_by_number(number) if number else None
        if order and may_see(order, sender_phone(tracker), tracker.get_slot("verified_order")):
            return order
        return None

    @abstractmethod
    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order
    ) -> list[EventType]:
        """Answer the request about `order`, which this customer may see."""
