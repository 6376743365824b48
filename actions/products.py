"""Product questions: stock, sizes, colours, price and restock, from the catalogue."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import PigeonAction, zone_of
from actions.handoff import hand_off
from bot.support.products import answer_product


class ActionProductQuestion(PigeonAction):
    """Answer about the product the form settled on; one the catalogue lacks goes to a person."""

    def name(self) -> str:
        return "action_product_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        size, color = tracker.get_slot("size"), tracker.get_slot("color")
        query = tracker.get_slot("product") or tracker.latest_message.get("text") or ""
        now, zone = self.services.clock.now(), zone_of(tracker)
        found = await self.call(answer_product, self.services.oms, query, size, color, now, zone)
        if found is None:
            events = await hand_off(self, dispatcher, tracker, f"product question: {query[:80]}")
            return [*answered(None), *events]
        product, text = found
        dispatcher.utter_message(text=text)
        return answered(product.title)


def answered(product: str | None) -> list[EventType]:
    """The product stays for a follow-up ("in navy?"); this question's size and colour do not."""
    return [SlotSet("product", product), SlotSet("size", None), SlotSet("color", None)]
