"""Cancelling an order that has not shipped, only after the customer says YES."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import PigeonAction, sender_phone
from actions.requests import AnswerRequest
from bot.oms.base import NotCancellable, Order, OrderSystemError
from bot.support.lookup import may_see
from bot.support.orders import cancel_refusal
from bot.support.replies import reply
from bot.support.wording import money


class ActionCancelOrder(AnswerRequest):
    """Ask the customer to confirm; nothing is cancelled until they reply YES."""

    def name(self) -> str:
        return "action_cancel_order"

    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order
    ) -> list[EventType]:
        refusal = cancel_refusal(order)
        if refusal:
            dispatcher.utter_message(text=refusal)
            return [SlotSet("cancel_pending", False)]
        text = reply("confirm_cancel", order=order.name, total=money(order.total))
        dispatcher.utter_message(text=text)
        return [SlotSet("cancel_pending", True)]


class ActionHandleAffirm(PigeonAction):
    """YES: confirms the cancellation just asked about; otherwise keeps the conversation going."""

    def name(self) -> str:
        return "action_handle_affirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        number = pending_order(tracker)
        if number is None:
            dispatcher.utter_message(text=reply("what_else"))
            return _forget_pending(tracker)
        order = await self.call(self.services.oms.order_by_number, number)
        if order is None or not may_see(
            order, sender_phone(tracker), tracker.get_slot("verified_order")
        ):
            dispatcher.utter_message(text=reply("anything_else"))
            return [SlotSet("cancel_pending", False)]
        dispatcher.utter_message(text=await self._cancel(order))
        return [SlotSet("cancel_pending", False)]

    async def _cancel(self, order: Order) -> str:
        try:
            cancelled = await self.call(self.services.oms.cancel_order, order.id, "customer")
        except NotCancellable as exc:
            return cancel_refusal(order) or str(exc)
        except OrderSystemError:
            return reply("system_error")
        return reply("cancelled", order=cancelled.name, total=money(cancelled.total))


class ActionHandleDeny(PigeonAction):
    """NO: keeps a pending order, or drops whatever was being asked."""

    def name(self) -> str:
        return "action_handle_deny"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        number = pending_order(tracker)
        if number is not None:
            dispatcher.utter_message(text=reply("kept_order", order=f"#{number}"))
            return [SlotSet("cancel_pending", False)]
        dispatcher.utter_message(text=reply("no_problem"))
        events = _forget_pending(tracker)
        if tracker.active_loop.get("name"):
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        return events


def pending_order(tracker: Tracker) -> str | None:
    """The order "Reply YES to cancel" named, when the latest message answers that question.

    Another action since (the customer moved on to another request), or another order
    number since (even in the answer itself), voids the question: YES then cancels nothing.
    """
    if not tracker.get_slot("cancel_pending"):
        return None
    number, asked = None, None
    for event in tracker.events:
        if event.get("event") == "slot" and event.get("name") == "order_number":
            number = event.get("value")
        elif event.get("event") == "action" and event.get("name") != "action_listen":
            asked = number if event.get("name") == "action_cancel_order" else None
    return asked if asked is not None and asked == tracker.get_slot("order_number") else None


def _forget_pending(tracker: Tracker) -> list[EventType]:
    return [SlotSet("cancel_pending", False)] if tracker.get_slot("cancel_pending") else []
