"""The request forms: find the order, prove the customer may see it, collect the rest."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import UsesServices, sender_email, sender_phone
from bot.customers import join_verified
from bot.oms.base import Order, ReturnableItem
from bot.support.identity import (
    is_locked,
    owns_order,
    record_attempt,
    secret_matches,
    wrote_from_order_email,
)
from bot.support.lookup import Chooser, order_number_in
from bot.support.orders import pick_cancellable, pick_order, pick_shipped
from bot.support.replies import reply
from bot.support.returns import choose_items, item_titles, pick_returnable, return_check
from bot.support.wording import join

LOCKED = "locked"  # three wrong answers within the hour: a person takes over
PROVEN = ("phone", "ok")  # the number is on the order / the customer gave its email or ZIP
ORDER_SLOTS = ["order_number", "verification"]
CHATTER = frozenset({"affirm", "thanks", "greet"})  # "ok", "thanks": still on the same topic


def number_of(order: Order) -> str:
    return order.name.lstrip("#")


def mentioned(tracker: Tracker, entity_name: str) -> str | None:
    """The `entity_name` entity in the customer's latest message, if they gave one."""
    for entity in tracker.latest_message.get("entities", []):
        if entity.get("entity") == entity_name and entity.get("value"):
            return str(entity["value"])
    return None


def mentioned_order(tracker: Tracker) -> str | None:
    """The order number in the customer's latest message, if they gave one."""
    return order_number_in(mentioned(tracker, "order_number"))


def replying_to_alert(tracker: Tracker) -> str | None:
    """The order of the shipping alert the customer is replying to, if they are.

    Only "ok" or "thanks" may come between the alert and the question.
    """
    order = tracker.get_slot("alerted_order")
    if not order:
        return None
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_shipment_update":
            return str(order)
        if event.get("event") != "user":
            continue
        users += 1
        intent = event.get("parse_data", {}).get("intent", {}).get("name")
        if users > 1 and intent not in CHATTER:
            return None
    return None


class GuardedForm(UsesServices, FormValidationAction, ABC):
    """A form's validation, answering politely when the order system fails (UsesServices)."""

    @abstractmethod
    def name(self) -> str:
        """validate_<form>."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        return await super().run(dispatcher, tracker, domain)


class OrderForm(GuardedForm):
    """Shared by every form about one order; abstract, so the SDK does not register it."""

    choose: Chooser = staticmethod(pick_order)

    def more_slots(self, tracker: Tracker, order: Order) -> list[str]:
        """What the request needs once the order is known and proven (nothing by default)."""
        return []

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict,
    ) -> list[str]:
        if tracker.get_slot("verification") == LOCKED:
            return []
        number = tracker.get_slot("order_number")
        if not number or tracker.get_slot("verification") not in PROVEN:
            return list(ORDER_SLOTS)
        order = await self.call(self.services.oms.order_by_number, number)
        more = await self.call(self.more_slots, tracker, order) if order else []
        return ORDER_SLOTS + more

    async def extract_order_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        """When the request starts: the order named, else the one the customer most likely means."""
        if tracker.get_slot("requested_slot") is not None:
            return {}
        number = mentioned_order(tracker) or await self.call(self._likely_order, tracker)
        return {"order_number": number, "verification": None}

    def _likely_order(self, tracker: Tracker) -> str | None:
        alerted = replying_to_alert(tracker)
        if alerted:  # "when will it get here?" right after a shipping alert
            return alerted
        oms = self.services.oms
        phone, email = sender_phone(tracker), sender_email(tracker)
        if phone:
            chosen, _ = self.choose(oms.orders_for_phone(phone))
        elif email:
            chosen, _ = self.choose(oms.orders_for_email(email))
        else:
            chosen = None
        if chosen is None and tracker.get_slot("verified_order"):
            chosen = oms.order_by_id(tracker.get_slot("verified_order"))
        return number_of(chosen) if chosen else None

    async def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if value is None:
            return {}
        if await self.call(self._locked, tracker):
            return {"verification": LOCKED}
        number = order_number_in(str(value))
        if number is None:
            dispatcher.utter_message(text=reply("no_order_number"))
            return {"order_number": None}
        order = await self.call(self.services.oms.order_by_number, number)
        if order is None:
            if await self.call(self._attempt, tracker, number, False):
                return {"order_number": None, "verification": LOCKED}
            dispatcher.utter_message(text=reply("order_not_found", order_number=number))
            return {"order_number": None}
        if owns_order(order, sender_phone(tracker)):
            return {"order_number": number, "verification": "phone"}
        if wrote_from_order_email(order, sender_email(tracker)):
            await self.call(self._attempt, tracker, number, True, order)
            return {"order_number": number, "verification": "ok", "verified_order": order.id}
        if order.id == tracker.get_slot("verified_order"):
            return {"order_number": number, "verification": "ok"}
        return {"order_number": number, "verification": None}

    async def validate_verification(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if value is None:  # cleared when the request started: nothing was answered
            return {}
        if await self.call(self._locked, tracker):
            return {"verification": LOCKED}
        number = tracker.get_slot("order_number")
        order = await self.call(self.services.oms.order_by_number, number) if number else None
        if order is not None and secret_matches(order, str(value)):
            await self.call(self._attempt, tracker, number, True, order)
            return {"verification": "ok", "verified_order": order.id}
        if await self.call(self._attempt, tracker, number, False):
            return {"verification": LOCKED}
        dispatcher.utter_message(text=reply("verification_failed", order_number=number))
        return {"verification": None}

    def _attempt(
        self, tracker: Tracker, order_ref: str | None, ok: bool, order: Order | None = None
    ) -> bool:
        """Record a verification attempt; True when the sender is now locked out.

        A success joins the thread to the order's customer (a chat visitor stops being
        anonymous; an email and a phone become one customer in the inbox).
        """
        now = self.services.clock.now()
        with self.services.db.write() as session:
            record_attempt(session, tracker.sender_id, order_ref, ok, now)
            if ok and order is not None:
                join_verified(session, tracker.sender_id, order)
            return is_locked(session, tracker.sender_id, now)

    def _locked(self, tracker: Tracker) -> bool:
        with self.services.db.read() as session:
            return is_locked(session, tracker.sender_id, self.services.clock.now())


class ValidateStatusForm(OrderForm):
    def name(self) -> str:
        return "validate_status_form"


class ValidateProblemForm(OrderForm):
    choose = staticmethod(pick_shipped)  # a delivery problem is about a package that went out

    def name(self) -> str:
        return "validate_problem_form"


class ValidateCancelForm(OrderForm):
    choose = staticmethod(pick_cancellable)

    def name(self) -> str:
        return "validate_cancel_form"


class ValidateAddressForm(OrderForm):
    choose = staticmethod(pick_cancellable)

    def name(self) -> str:
        return "validate_address_form"

    def more_slots(self, tracker: Tracker, order: Order) -> list[str]:
        shipped = order.is_cancelled or order.fulfillment_status != "unfulfilled"
        return [] if shipped else ["new_address"]

    def validate_new_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        """A blank answer is asked again."""
        address = " ".join(str(value or "").split())[:200]
        return {"new_address": address or None}


class ValidateReturnForm(OrderForm):
    choose = staticmethod(pick_returnable)

    def name(self) -> str:
        return "validate_return_form"

    def _eligible(self, number: str | None) -> list[ReturnableItem]:
        oms, now = self.services.oms, self.services.clock.now()
        order = oms.order_by_number(number) if number else None
        return list(return_check(oms, order, now).eligible) if order else []

    def more_slots(self, tracker: Tracker, order: Order) -> list[str]:
        """Nothing eligible: stop here, and action_submit_return explains why."""
        eligible = return_check(self.services.oms, order, self.services.clock.now()).eligible
        return ["return_items", "return_reason"] if eligible else []

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        """Also after the order is proven this turn: the SDK extracts before it validates."""
        events = await super().get_validation_events(dispatcher, tracker, domain)
        chosen = await self.extract_return_items(dispatcher, tracker, domain)
        tracker.slots.update(chosen)
        return events + [SlotSet(slot, value) for slot, value in chosen.items()]

    async def extract_return_items(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        """One item that can go back: no need to ask which."""
        if tracker.get_slot("return_items") or tracker.get_slot("verification") not in PROVEN:
            return {}
        eligible = await self.call(self._eligible, tracker.get_slot("order_number"))
        return {"return_items": eligible[0].line_item.id} if len(eligible) == 1 else {}

    async def validate_return_items(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        eligible = await self.call(self._eligible, tracker.get_slot("order_number"))
        ids = {r.line_item.id for r in eligible}
        if value and set(str(value).split(",")) <= ids:
            return {"return_items": value}  # already line item ids
        chosen = choose_items(eligible, str(value or ""))
        if not chosen:
            items = join(item_titles(eligible), last="or")
            dispatcher.utter_message(text=reply("which_item", items=items))
            return {"return_items": None}
        return {"return_items": ",".join(r.line_item.id for r in chosen)}

    def validate_return_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        reason = " ".join(str(value or "").split())[:200]
        return {"return_reason": reason or None}


class ValidateProductForm(GuardedForm):
    def name(self) -> str:
        return "validate_product_form"

    async def extract_product(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        """When the question starts: the product its words name, if the catalogue has it.

        Only this message counts: the slot may still hold the last question's product.
        """
        if tracker.get_slot("requested_slot") is not None:
            return {}
        query = mentioned(tracker, "product") or tracker.latest_message.get("text") or ""
        found = await self.call(self.services.oms.search_products, query, limit=1)
        return {"product": found[0].title if found else None}

    def validate_product(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())[:100]
        return {"product": text or None}
