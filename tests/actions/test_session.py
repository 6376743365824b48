"""Session start: the store's name, the customer's first name, carried-over slots."""

from __future__ import annotations

from dataclasses import replace

from rasa_sdk.events import ActionExecuted, ConversationPaused, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.session import ActionSessionStart
from bot.desk_inbox import resolve as resolve_thread
from bot.support.handoff import request_handoff, thread_for_sender
from tests.actions.trackers import AVA, SHELL, STRANGER, make_tracker


async def start(services, domain, sender: str, slots: dict | None = None) -> list:
    tracker = make_tracker(sender, "", "session_start", slots=slots)
    return await ActionSessionStart(services).run(CollectingDispatcher(), tracker, domain)


async def test_a_known_number_gets_the_store_and_first_name(services, domain) -> None:
    assert await start(services, domain, AVA) == [
        SessionStarted(),
        SlotSet("store_name", "Pigeon Supply Co."),
        SlotSet("customer_name", "Ava"),
        ActionExecuted("action_listen"),
    ]


async def test_an_unknown_number_and_the_shell_get_the_store_name_only(services, domain) -> None:
    for sender in (STRANGER, SHELL):
        assert await start(services, domain, sender) == [
            SessionStarted(),
            SlotSet("store_name", "Pigeon Supply Co."),
            ActionExecuted("action_listen"),
        ]


async def test_the_order_and_name_carry_over_but_not_a_question_in_progress(
    services, domain
) -> None:
    slots = {
        "order_number": "1001",
        "verified_order": "1001",
        "customer_name": "Ava",
        "cancel_pending": True,
        "verification": "phone",
        "requested_slot": "verification",
        "product": "Wool Beanie",
    }
    events = await start(services, domain, AVA, slots)
    assert events == [
        SessionStarted(),
        SlotSet("order_number", "1001"),
        SlotSet("verified_order", "1001"),
        SlotSet("customer_name", "Ava"),
        SlotSet("store_name", "Pigeon Supply Co."),
        ActionExecuted("action_listen"),
    ]


async def test_the_store_name_comes_from_settings(services, domain) -> None:
    services.settings = replace(services.settings, store_name="Trail & Co")
    events = await start(services, domain, STRANGER)
    assert SlotSet("store_name", "Trail & Co") in events


async def test_a_new_session_stays_paused_while_an_agent_has_the_thread(
    services, domain, db
) -> None:
    with db.write() as session:
        request_handoff(session, AVA, "customer asked for a person", "", services.clock)
    events = await start(services, domain, AVA)
    assert events[-2:] == [ActionExecuted("action_listen"), ConversationPaused()]
    with db.write() as session:
        resolve_thread(session, thread_for_sender(session, AVA, services.clock).id, services.clock)
    assert ConversationPaused() not in await start(services, domain, AVA)
