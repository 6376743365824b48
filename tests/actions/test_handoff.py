"""Handing off: asked for, or after two misunderstandings in a row."""

from __future__ import annotations

from rasa_sdk.events import ActiveLoop, ConversationPaused, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionFallback, ActionHandoff
from bot.support.replies import reply
from tests.actions.db_checks import thread, thread_count
from tests.actions.trackers import AVA, SHELL, make_tracker, texts, user_event


def handoff_text(services) -> str:
    return reply("handoff", support_hours=services.settings.support_hours)


async def test_handoff_records_the_thread_pending_and_pauses(services, db, domain) -> None:
    earlier = [
        user_event("where is my order", "order_status"),
        user_event("/restart", "restart"),  # buttons and commands are not the customer's words
    ]
    tracker = make_tracker(
        AVA,
        "let me talk to a human",
        "human_handoff",
        slots={"order_number": "1001"},
        events=earlier,
    )
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff(services).run(dispatcher, tracker, domain)
    assert events == [ConversationPaused()]
    assert texts(dispatcher) == [handoff_text(services)]
    assert texts(dispatcher) == [
        "I've passed this to our team. A person will answer you here (Mon-Fri 9am-6pm ET)."
    ]
    conversation = thread(db, AVA)
    assert (conversation.status, conversation.channel) == ("pending", "sms")
    assert conversation.handoff_reason == "customer asked for a person"
    assert conversation.handoff_summary == (
        "Reason: customer asked for a person. Order: #1001. "
        'Customer said: "where is my order" / "let me talk to a human"'
    )


async def test_handoff_from_the_shell_works_too(services, db, domain) -> None:
    tracker = make_tracker(SHELL, "agent", "human_handoff")
    events = await ActionHandoff(services).run(CollectingDispatcher(), tracker, domain)
    assert events == [ConversationPaused()]
    conversation = thread(db, SHELL)
    assert (conversation.status, conversation.channel) == ("pending", "chat")


async def test_handoff_during_a_form_stops_the_form(services, db, domain) -> None:
    tracker = make_tracker(
        AVA, "agent", "human_handoff", active_loop="return_form", requested_slot="return_reason"
    )
    events = await ActionHandoff(services).run(CollectingDispatcher(), tracker, domain)
    assert events == [ActiveLoop(None), SlotSet("requested_slot", None), ConversationPaused()]
    assert thread(db, AVA).status == "pending"


async def test_a_second_handoff_reuses_the_thread(services, db, domain) -> None:
    for text in ("agent", "AGENT please"):
        tracker = make_tracker(AVA, text, "human_handoff")
        await ActionHandoff(services).run(CollectingDispatcher(), tracker, domain)
    assert thread_count(db) == 1


async def fallback(services, domain, intents: list[str]) -> tuple[list[str], list]:
    earlier = [user_event(f"message {i}", name) for i, name in enumerate(intents[:-1])]
    tracker = make_tracker(AVA, "asdf qwer", intents[-1], events=earlier)
    dispatcher = CollectingDispatcher()
    events = await ActionFallback(services).run(dispatcher, tracker, domain)
    return texts(dispatcher), events


async def test_one_fallback_asks_to_rephrase(services, db, domain) -> None:
    said, events = await fallback(services, domain, ["greet", "nlu_fallback"])
    assert said == [reply("please_rephrase")]
    # The turn ends there: after a core fallback (no policy sure what comes next, e.g. when
    # action_session_start failed) Rasa would otherwise predict the fallback again, 10 times.
    assert events == [FollowupAction("action_listen")]
    assert thread_count(db) == 0


async def test_a_second_fallback_in_a_row_hands_off(services, db, domain) -> None:
    said, events = await fallback(services, domain, ["nlu_fallback", "nlu_fallback"])
    assert said == [handoff_text(services)]
    assert events == [ConversationPaused()]
    conversation = thread(db, AVA)
    assert conversation.status == "pending"
    assert conversation.handoff_reason == "the assistant did not understand twice"


async def test_fallbacks_with_something_understood_between_them_do_not(services, domain) -> None:
    said, events = await fallback(
        services, domain, ["nlu_fallback", "order_status", "nlu_fallback"]
    )
    assert said == [reply("please_rephrase")]
    assert events == [FollowupAction("action_listen")]
