"""Opening a return once the form has the order, the items and the reason."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.requests import AnswerRequest
from bot.oms.base import NotReturnable, Order, OrderSystemError, ReturnLine
from bot.support.replies import reply
from bot.support.returns import ReturnCheck, item_titles, partial_note, return_check
from bot.support.wording import join

RETURN_SLOTS = ("return_items", "return_reason")


class ActionSubmitReturn(AnswerRequest):
    def name(self) -> str:
        return "action_submit_return"

    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order
    ) -> list[EventType]:
        clear = [SlotSet(slot, None) for slot in RETURN_SLOTS]
        oms, now = self.services.oms, self.services.clock.now()
        check = await self.call(return_check, oms, order, now)
        if not check.eligible:
            reasons = join([f"{r.item.title} {r.reason}" for r in check.refused])
            dispatcher.utter_message(
                text=reply("not_returnable", order=order.name, reasons=reasons)
            )
            return clear
        wanted = set((tracker.get_slot("return_items") or "").split(","))
        chosen = [r for r in check.eligible if r.line_item.id in wanted]
        lines = [ReturnLine(r.line_item.id, r.quantity) for r in chosen]
        reason = tracker.get_slot("return_reason") or "not given"
        try:
            created = await self.call(oms.create_return, order.id, lines, reason)
        except (NotReturnable, OrderSystemError):
            dispatcher.utter_message(text=reply("return_failed"))
            return clear
        _say_created(dispatcher, check, order, created.id, item_titles(chosen))
        return clear


def _say_created(
    dispatcher: CollectingDispatcher,
    check: ReturnCheck,
    order: Order,
    return_id: str,
    titles: list[str],
) -> None:
    note = partial_note(check)
    if note:
        dispatcher.utter_message(text=note)
    text = reply("return_created", return_id=return_id, order=order.name, items=join(titles))
    dispatcher.utter_message(text=text)
