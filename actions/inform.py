"""A bare answer outside any question ("the hoodie", "98101"): answer what we can."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import PigeonAction, zone_of
from actions.products import answered
from bot.support.products import answer_product
from bot.support.replies import reply

PRODUCT_ENTITIES = frozenset({"product", "size", "color"})


class ActionHandleInform(PigeonAction):
    """Order numbers start the status form (a rule); a product gets its answer; else, ask."""

    def name(self) -> str:
        return "action_handle_inform"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        entities = {e.get("entity") for e in tracker.latest_message.get("entities", [])}
        if entities & PRODUCT_ENTITIES:
            query = tracker.get_slot("product") or tracker.latest_message.get("text") or ""
            size, color = tracker.get_slot("size"), tracker.get_slot("color")
            now, zone = self.services.clock.now(), zone_of(tracker)
            oms = self.services.oms
            found = await self.call(answer_product, oms, query, size, color, now, zone)
            if found:
                dispatcher.utter_message(text=found[1])
                return answered(found[0].title)
        dispatcher.utter_message(text=reply("please_rephrase"))
        return []
