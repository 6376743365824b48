"""Changing the address: before shipping, through a person, with the address in the summary."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.address import ActionSubmitAddress
from actions.asks import ActionAskNewAddress
from actions.forms import ValidateAddressForm
from bot.support.replies import reply
from tests.actions.db_checks import thread, thread_count
from tests.actions.trackers import AVA, BEN, CHLOE, make_tracker, texts, user_event

NEW = "12 Oak St, Brooklyn NY 11201"


async def submit(
    services, domain, sender: str, number: str, address: str | None, **kwargs: Any
) -> tuple[list[str], list]:
    slots = {"order_number": number, "verification": "phone", "new_address": address}
    tracker = make_tracker(sender, address or "", "inform", slots=slots, **kwargs)
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitAddress(services).run(dispatcher, tracker, domain)
    return texts(dispatcher), events


async def test_submit_hands_off_with_the_new_address_in_the_summary(services, db, domain) -> None:
    earlier = [user_event("i need to change my address " + "please " * 90, "change_address")]
    said, events = await submit(services, domain, CHLOE, "1003", NEW, events=earlier)
    assert said == [reply("handoff", support_hours="Mon-Fri 9am-6pm ET")]
    assert events == [SlotSet("new_address", None), ConversationPaused()]
    conversation = thread(db, CHLOE)
    assert conversation.status == "pending"
    assert conversation.handoff_reason == "address change before shipping"
    assert conversation.handoff_summary.startswith(
        "Reason: address change before shipping. Order: #1003. "
        "New address: 12 Oak St, Brooklyn NY 11201. Customer said:"
    )


async def test_a_shipped_order_is_explained(services, db, domain) -> None:
    said, events = await submit(services, domain, AVA, "1001", None)
    assert said == [reply("address_too_late", order="#1001")]
    assert events == [SlotSet("new_address", None)]
    assert thread_count(db) == 0


async def test_a_cancelled_order_is_not_handed_off(services, store, db, domain) -> None:
    store.cancel_order("1003", "customer")
    said, _ = await submit(services, domain, CHLOE, "1003", NEW)
    assert said == [reply("address_too_late", order="#1003")]
    assert thread_count(db) == 0


async def test_an_unshipped_order_without_an_address_is_not_told_it_shipped(
    services, db, domain
) -> None:
    said, events = await submit(services, domain, CHLOE, "1003", "   ")
    assert said == [reply("handoff", support_hours="Mon-Fri 9am-6pm ET")]
    assert events == [SlotSet("new_address", None), ConversationPaused()]
    summary = thread(db, CHLOE).handoff_summary
    assert summary == "Reason: address change before shipping. Order: #1003."


async def test_ben_cannot_redirect_chloes_order_unproven(services, db, domain) -> None:
    slots = {"order_number": "1003", "new_address": NEW}
    tracker = make_tracker(BEN, NEW, "inform", slots=slots)
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitAddress(services).run(dispatcher, tracker, domain)
    assert texts(dispatcher) == [reply("ask_order_number")]
    assert events == []
    assert thread_count(db) == 0


async def test_the_form_asks_for_the_address(services, domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(CHLOE, active_loop="address_form", requested_slot="new_address")
    assert await ActionAskNewAddress(services).run(dispatcher, tracker, domain) == []
    assert texts(dispatcher) == [reply("ask_new_address")]


def test_the_address_is_tidied_and_a_blank_one_asked_again(services) -> None:
    validate = ValidateAddressForm(services).validate_new_address
    dispatcher, tracker = CollectingDispatcher(), make_tracker(CHLOE)
    assert validate(" 12 Oak St,\n Brooklyn ", dispatcher, tracker, {}) == {
        "new_address": "12 Oak St, Brooklyn"
    }
    assert validate("x" * 300, dispatcher, tracker, {}) == {"new_address": "x" * 200}
    assert validate("  ", dispatcher, tracker, {}) == {"new_address": None}
