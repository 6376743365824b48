"""Cancelling: only unshipped orders, only after YES, only the customer's own order."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.cancel import ActionCancelOrder, ActionHandleAffirm, ActionHandleDeny
from bot.support.replies import reply
from tests.actions.trackers import (
    AVA,
    BEN,
    CHLOE,
    ELI,
    SHELL,
    STRANGER,
    action_event,
    make_tracker,
    slot_event,
    texts,
    user_event,
)

CHLOES_TOTAL = "$172"


def asked_to_cancel(number: str) -> list[dict[str, Any]]:
    """The turn that ended with "Reply YES to cancel" for order `number`."""
    return [
        action_event("action_listen"),
        user_event("cancel my order", "cancel_order"),
        action_event("cancel_form"),
        slot_event("order_number", number),
        slot_event("verification", "phone"),
        action_event("action_cancel_order"),
        {"event": "bot", "timestamp": 0.0, "text": f"Reply YES to cancel #{number}"},
        slot_event("cancel_pending", True),
    ]


async def ask_to_cancel(services, domain, sender: str, number: str) -> tuple[list[str], list]:
    dispatcher = CollectingDispatcher()
    slots = {"order_number": number, "verification": "phone"}
    tracker = make_tracker(sender, "cancel my order", "cancel_order", slots=slots)
    events = await ActionCancelOrder(services).run(dispatcher, tracker, domain)
    return texts(dispatcher), events


async def answer(
    services,
    domain,
    sender: str,
    slots: dict[str, Any],
    text: str = "yes",
    events: list[dict[str, Any]] | None = None,
) -> tuple[list[str], list]:
    """The customer's YES (or NO) right after being asked, unless `events` says otherwise."""
    number = slots.get("order_number") or "1003"
    intent = "affirm" if text == "yes" else "deny"
    history = asked_to_cancel(number) if events is None else events
    tracker = make_tracker(sender, text, intent, slots=slots, events=history)
    action = ActionHandleAffirm if intent == "affirm" else ActionHandleDeny
    dispatcher = CollectingDispatcher()
    result = await action(services).run(dispatcher, tracker, domain)
    return texts(dispatcher), result


async def test_chloe_is_asked_to_reply_yes(services, store, domain) -> None:
    said, events = await ask_to_cancel(services, domain, CHLOE, "1003")
    assert said == [reply("confirm_cancel", order="#1003", total=CHLOES_TOTAL)]
    assert "Reply YES to cancel it" in said[0]
    assert events == [SlotSet("cancel_pending", True)]
    assert not store.order_by_number(1003).is_cancelled


async def test_yes_cancels_1003_in_the_store(services, store, domain) -> None:
    said, events = await answer(
        services, domain, CHLOE, {"order_number": "1003", "cancel_pending": True}
    )
    assert said == [reply("cancelled", order="#1003", total=CHLOES_TOTAL)]
    assert events == [SlotSet("cancel_pending", False)]
    cancelled = store.order_by_number(1003)
    assert cancelled.is_cancelled
    assert cancelled.financial_status == "refunded"


async def test_no_keeps_the_order(services, store, domain) -> None:
    said, events = await answer(
        services, domain, CHLOE, {"order_number": "1003", "cancel_pending": True}, "no"
    )
    assert said == [reply("kept_order", order="#1003")]
    assert events == [SlotSet("cancel_pending", False)]
    assert not store.order_by_number(1003).is_cancelled


async def test_a_shipped_order_is_refused_with_an_offer_to_return(services, store, domain) -> None:
    said, events = await ask_to_cancel(services, domain, AVA, "1001")
    assert said == [
        "Order #1001 has already shipped, so it can't be cancelled. "
        "Once it arrives you can return it within the return window."
    ]
    assert events == [SlotSet("cancel_pending", False)]
    assert not store.order_by_number(1001).is_cancelled


async def test_ben_cannot_be_offered_chloes_order_unproven(services, store, domain) -> None:
    said, events = await ask_to_cancel(services, domain, BEN, "1003")
    assert said == [reply("ask_order_number")]
    assert events == []


async def test_yes_without_a_pending_cancellation_does_nothing(services, store, domain) -> None:
    said, events = await answer(
        services, domain, CHLOE, {"order_number": "1003", "cancel_pending": False}
    )
    assert said == [reply("what_else")]
    assert events == []
    assert not store.order_by_number(1003).is_cancelled


async def test_yes_for_someone_elses_order_does_nothing(services, store, domain) -> None:
    for sender in (BEN, SHELL, STRANGER):
        said, events = await answer(
            services, domain, sender, {"order_number": "1003", "cancel_pending": True}
        )
        assert said == [reply("anything_else")]
        assert events == [SlotSet("cancel_pending", False)]
    assert not store.order_by_number(1003).is_cancelled


async def test_yes_without_an_order_does_nothing(services, domain) -> None:
    said, events = await answer(services, domain, CHLOE, {"cancel_pending": True})
    assert said == [reply("what_else")]
    assert events == [SlotSet("cancel_pending", False)]


async def test_a_verified_shell_customer_can_cancel(services, store, domain) -> None:
    slots = {"order_number": "1003", "verified_order": "1003", "cancel_pending": True}
    said, _ = await answer(services, domain, SHELL, slots)
    assert said == [reply("cancelled", order="#1003", total=CHLOES_TOTAL)]
    assert store.order_by_number(1003).is_cancelled


async def test_yes_twice_explains_the_order_is_already_cancelled(services, store, domain) -> None:
    slots = {"order_number": "1003", "cancel_pending": True}
    await answer(services, domain, CHLOE, slots)
    said, events = await answer(services, domain, CHLOE, slots)
    assert said == ["Order #1003 is already cancelled."]
    assert events == [SlotSet("cancel_pending", False)]


async def test_asking_again_after_cancelling_says_it_is_cancelled(services, store, domain) -> None:
    store.cancel_order("1003", "customer")
    said, events = await ask_to_cancel(services, domain, CHLOE, "1003")
    assert said == ["Order #1003 is already cancelled."]
    assert events == [SlotSet("cancel_pending", False)]


async def test_a_yes_after_another_request_cancels_nothing(services, store, domain) -> None:
    """Eli was asked about #1006, then looked up Chloe's #1003: his YES is not about #1003."""
    then = [
        *asked_to_cancel("1006"),
        action_event("action_listen"),
        user_event("where is order 1003", "order_status"),
        action_event("status_form"),
        slot_event("order_number", "1003"),
        slot_event("verification", "ok"),
        slot_event("verified_order", "1003"),
        action_event("action_order_status"),
        {"event": "bot", "timestamp": 0.0, "text": "Order #1003 hasn't shipped yet."},
    ]
    slots = {"order_number": "1003", "verified_order": "1003", "cancel_pending": True}
    said, events = await answer(services, domain, ELI, slots, events=then)
    assert said == [reply("what_else")]
    assert events == [SlotSet("cancel_pending", False)]
    assert not store.order_by_number(1003).is_cancelled
    assert not store.order_by_number(1006).is_cancelled

    said, events = await answer(services, domain, ELI, slots, "no", events=then)
    assert said == [reply("no_problem")]
    assert events == [SlotSet("cancel_pending", False)]


async def test_a_yes_naming_another_order_cancels_nothing(services, store, domain) -> None:
    """ "yes 1003" after "Reply YES to cancel #1006": Rasa fills order_number from the YES."""
    slots = {"order_number": "1003", "verified_order": "1003", "cancel_pending": True}
    tracker = make_tracker(ELI, "yes 1003", "affirm", slots=slots, events=asked_to_cancel("1006"))
    tracker.events.append(slot_event("order_number", "1003"))  # after the message, by Rasa
    dispatcher = CollectingDispatcher()
    events = await ActionHandleAffirm(services).run(dispatcher, tracker, domain)
    assert texts(dispatcher) == [reply("what_else")]
    assert events == [SlotSet("cancel_pending", False)]
    assert not store.order_by_number(1003).is_cancelled


async def test_a_yes_repeating_the_order_number_still_confirms(services, store, domain) -> None:
    slots = {"order_number": "1003", "cancel_pending": True}
    tracker = make_tracker(
        CHLOE, "yes #1003", "affirm", slots=slots, events=asked_to_cancel("1003")
    )
    tracker.events.append(slot_event("order_number", "1003"))
    dispatcher = CollectingDispatcher()
    await ActionHandleAffirm(services).run(dispatcher, tracker, domain)
    assert texts(dispatcher) == [reply("cancelled", order="#1003", total=CHLOES_TOTAL)]
    assert store.order_by_number(1003).is_cancelled


async def test_no_outside_a_question_drops_the_form_in_progress(services, domain) -> None:
    tracker = make_tracker(
        BEN, "no never mind", "deny", active_loop="status_form", requested_slot="verification"
    )
    dispatcher = CollectingDispatcher()
    events = await ActionHandleDeny(services).run(dispatcher, tracker, domain)
    assert texts(dispatcher) == [reply("no_problem")]
    assert events == [ActiveLoop(None), SlotSet("requested_slot", None)]


async def test_no_with_nothing_going_on_is_just_polite(services, domain) -> None:
    said, events = await answer(services, domain, CHLOE, {}, "no", events=[])
    assert said == [reply("no_problem")]
    assert events == []
