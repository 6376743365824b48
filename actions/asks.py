"""The forms' questions (Rasa calls action_ask_<slot>): texts from replies.yml."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import PigeonAction, sender_phone
from bot.support.orders import is_open
from bot.support.replies import reply
from bot.support.returns import item_titles, return_check
from bot.support.wording import join


class AskAction(PigeonAction, ABC):
    """Ask for one slot; abstract, so the SDK does not register it."""

    @abstractmethod
    async def question(self, tracker: Tracker) -> str:
        """The text that asks for the slot."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(text=await self.question(tracker))
        return []


class ActionAskOrderNumber(AskAction):
    """A known customer with several open orders is asked which; others for the number."""

    def name(self) -> str:
        return "action_ask_order_number"

    async def question(self, tracker: Tracker) -> str:
        phone = sender_phone(tracker)
        orders = await self.call(self.services.oms.orders_for_phone, phone) if phone else []
        open_names = [o.name for o in orders if is_open(o)][:3]
        if len(open_names) > 1:
            return reply("ask_which_order", orders=join(open_names, last="or"))
        return reply("ask_order_number")


class ActionAskVerification(AskAction):
    def name(self) -> str:
        return "action_ask_verification"

    async def question(self, tracker: Tracker) -> str:
        return reply("ask_verification", order_number=tracker.get_slot("order_number"))


class ActionAskReturnItems(AskAction):
    def name(self) -> str:
        return "action_ask_return_items"

    async def question(self, tracker: Tracker) -> str:
        oms, now = self.services.oms, self.services.clock.now()

        def titles() -> str:
            order = oms.order_by_number(tracker.get_slot("order_number"))
            eligible = return_check(oms, order, now).eligible if order else ()
            return join(item_titles(eligible), last="or") or "the item"

        return reply("ask_return_items", items=await self.call(titles))


class ActionAskReturnReason(AskAction):
    def name(self) -> str:
        return "action_ask_return_reason"

    async def question(self, tracker: Tracker) -> str:
        return reply("ask_return_reason")


class ActionAskNewAddress(AskAction):
    def name(self) -> str:
        return "action_ask_new_address"

    async def question(self, tracker: Tracker) -> str:
        return reply("ask_new_address")


class ActionAskProduct(AskAction):
    def name(self) -> str:
        return "action_ask_product"

    async def question(self, tracker: Tracker) -> str:
        return reply("ask_product")
