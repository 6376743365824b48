"""Session start: the store's name, the customer's first name, and a pause kept for an agent."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import PigeonAction, sender_phone
from bot.oms.base import OrderSystemError
from bot.support.handoff import waits_for_agent

CARRIED = ("order_number", "verified_order", "customer_name", "alerted_order")


class ActionSessionStart(PigeonAction):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        events += [SlotSet(s, tracker.get_slot(s)) for s in CARRIED if tracker.get_slot(s)]
        events.append(SlotSet("store_name", self.services.settings.store_name))
        phone = sender_phone(tracker)
        if phone and not tracker.get_slot("customer_name"):
            try:  # the name is a courtesy: a session starts even when the store is down
                orders = await self.call(self.services.oms.orders_for_phone, phone)
            except OrderSystemError:
                orders = []
            name = next((o.customer_name for o in orders if o.customer_name), None)
            if name:
                events.append(SlotSet("customer_name", name.split()[0]))
        events.append(ActionExecuted("action_listen"))
        if await self.call(self._waits_for_agent, tracker.sender_id):
            # A new session would unpause the assistant while an agent has the thread.
            events.append(ConversationPaused())
        return events

    def _waits_for_agent(self, sender_id: str) -> bool:
        with self.services.db.read() as session:
            return waits_for_agent(session, sender_id)
