"""Order status and delivery problems."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import sender_phone, zone_of
from actions.handoff import hand_off
from actions.requests import AnswerRequest
from bot.notify.offers import should_offer
from bot.oms.base import Order
from bot.support.orders import is_open, status_reply
from bot.support.problems import LABELS, needs_person, problem_kind, tracking_reply
from bot.support.replies import reply


class ActionOrderStatus(AnswerRequest):
    def name(self) -> str:
        return "action_order_status"

    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order
    ) -> list[EventType]:
        phone = sender_phone(tracker)
        orders = await self.call(self.services.oms.orders_for_phone, phone) if phone else []
        others = sum(1 for o in orders if is_open(o) and o.id != order.id)
        now = self.services.clock.now()
        dispatcher.utter_message(text=status_reply(order, others, now, zone_of(tracker)))
        if phone and await self.call(self._may_offer, phone, order):
            offer = reply("shipping_offer", order=order.name)
            dispatcher.utter_message(text=offer, consent_offer=order.id)
        return []

    def _may_offer(self, phone: str, order: Order) -> bool:
        with self.services.db.read() as session:
            return should_offer(session, phone, order)


class ActionDeliveryProblem(AnswerRequest):
    def name(self) -> str:
        return "action_delivery_problem"

    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order
    ) -> list[EventType]:
        kind = problem_kind(_first_complaint(tracker))
        now = self.services.clock.now()
        dispatcher.utter_message(text=tracking_reply(order, now, zone_of(tracker)))
        if not needs_person(kind, order):
            dispatcher.utter_message(text=reply("offer_person"))
            return []
        return await hand_off(self, dispatcher, tracker, LABELS[kind], order.name)


def _first_complaint(tracker: Tracker) -> str:
    """The customer's message that raised the problem (not their later order number)."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if event.get("parse_data", {}).get("intent", {}).get("name") == "delivery_problem":
            return event.get("text") or ""
    return tracker.latest_message.get("text") or ""
