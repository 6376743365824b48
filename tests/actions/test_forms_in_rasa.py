"""Whole requests through Rasa's form loop: what it asks, in what order, and the answer."""

from __future__ import annotations

from bot.support.replies import reply
from tests.actions.db_checks import thread
from tests.actions.rasa_turns import Conversation
from tests.actions.trackers import AVA, BEN, CHLOE, ELI, STRANGER, entity

JACKET_AND_TEE = "Ridgeline Rain Jacket (M / Moss) or Everyday Crew Tee (M / White)"


async def test_the_owner_gets_the_status_without_a_question(services) -> None:
    chat = Conversation(services, AVA)
    await chat.says("wheres my stuff", "order_status")
    assert await chat.form("status_form") == []
    assert chat.active_form is None
    (status,) = await chat.action("action_order_status")
    assert status.startswith("Order #1001 is on its way with UPS, arriving Wed, Jun 17.")


async def test_ben_must_prove_avas_order_before_seeing_it(services) -> None:
    chat = Conversation(services, BEN)
    await chat.says("where is order 1001", "order_status", [entity("order_number", "1001")])
    assert await chat.form("status_form") == [reply("ask_verification", order_number="1001")]
    assert chat.slot("requested_slot") == "verification"

    await chat.says("its 98101")
    assert await chat.form("status_form") == []
    assert chat.active_form is None
    assert chat.slot("verified_order") == "1001"
    (status,) = await chat.action("action_order_status")
    assert status.startswith("Order #1001 is on its way with UPS")


async def test_a_stranger_gives_the_number_then_the_email(services) -> None:
    chat = Conversation(services, STRANGER)
    await chat.says("where is my order", "order_status")
    assert await chat.form("status_form") == [reply("ask_order_number")]
    assert chat.slot("requested_slot") == "order_number"

    await chat.says("its 4242")
    assert await chat.form("status_form") == [
        reply("order_not_found", order_number="4242"),
        reply("ask_order_number"),
    ]

    await chat.says("1003")
    assert await chat.form("status_form") == [reply("ask_verification", order_number="1003")]
    await chat.says("chloe@example.com")
    assert await chat.form("status_form") == []
    (status,) = await chat.action("action_order_status")
    assert status.startswith("Order #1003 hasn't shipped yet.")


async def test_three_wrong_answers_end_the_form_and_a_person_takes_over(services, db) -> None:
    chat = Conversation(services, BEN)
    await chat.says("where is order 1001", "order_status", [entity("order_number", "1001")])
    await chat.form("status_form")
    for answer in ("33145", "ben@example.com"):
        await chat.says(answer)
        assert await chat.form("status_form") == [
            reply("verification_failed", order_number="1001"),
            reply("ask_verification", order_number="1001"),
        ]
    await chat.says("10006")
    assert await chat.form("status_form") == []
    assert chat.active_form is None
    said = await chat.action("action_order_status")
    assert said == [reply("handoff", support_hours=services.settings.support_hours)]
    assert chat.tracker.is_paused()
    assert chat.slot("verification") is None
    assert thread(db, BEN).status == "pending"


async def test_a_return_with_two_items_asks_which_and_why(services, store) -> None:
    chat = Conversation(services, BEN)
    await chat.says("i want to return something", "return_request")
    assert await chat.form("return_form") == [reply("ask_return_items", items=JACKET_AND_TEE)]
    await chat.says("just the jacket")
    assert await chat.form("return_form") == [reply("ask_return_reason")]
    await chat.says("too big")
    assert await chat.form("return_form") == []
    (created,) = await chat.action("action_submit_return")
    assert created.startswith("Return ")
    assert "for Ridgeline Rain Jacket (M / Moss) from order #1002" in created
    assert [r.line_item.title for r in store.returnable_items("1002")] == ["Everyday Crew Tee"]


async def test_the_only_returnable_item_is_not_asked_about(services, store) -> None:
    chat = Conversation(services, ELI)
    await chat.says("i want to send back my order", "return_request")
    assert await chat.form("return_form") == [reply("ask_return_reason")]
    await chat.says("doesnt fit")
    assert await chat.form("return_form") == []
    note, created = await chat.action("action_submit_return")
    assert note == (
        "Canvas Trucker Cap (Olive) can be returned; "
        "Alpine Fleece Pullover (Archive Sale) is final sale."
    )
    assert "for Canvas Trucker Cap (Olive) from order #1000" in created
    assert store.returnable_items("1000") == []


async def test_a_return_past_the_window_is_explained_without_questions(services) -> None:
    chat = Conversation(services, AVA)
    await chat.says("i want to return my daypack", "return_request")
    assert await chat.form("return_form") == []
    said = await chat.action("action_submit_return")
    assert said == [
        reply(
            "not_returnable",
            order="#998",
            reasons="Daypack 20L was delivered more than 30 days ago",
        )
    ]


async def test_an_address_change_collects_the_address_for_a_person(services, db) -> None:
    chat = Conversation(services, CHLOE)
    await chat.says("i moved, can you change the address", "change_address")
    assert await chat.form("address_form") == [reply("ask_new_address")]
    await chat.says("12 Oak St, Brooklyn NY 11201")
    assert await chat.form("address_form") == []
    said = await chat.action("action_submit_address")
    assert said == [reply("handoff", support_hours=services.settings.support_hours)]
    assert "New address: 12 Oak St, Brooklyn NY 11201." in thread(db, CHLOE).handoff_summary


async def test_cancelling_waits_for_yes(services, store) -> None:
    chat = Conversation(services, CHLOE)
    await chat.says("cancel my order", "cancel_order")
    assert await chat.form("cancel_form") == []
    assert await chat.action("action_cancel_order") == [
        reply("confirm_cancel", order="#1003", total="$172")
    ]
    assert not store.order_by_number(1003).is_cancelled
    await chat.says("yes", "affirm")
    assert await chat.action("action_handle_affirm") == [
        reply("cancelled", order="#1003", total="$172")
    ]
    assert store.order_by_number(1003).is_cancelled


async def test_an_unknown_product_is_asked_about_then_goes_to_a_person(services, db) -> None:
    chat = Conversation(services, AVA)
    await chat.says("do you have kayaks", "product_question", [entity("product", "kayaks")])
    assert await chat.form("product_form") == [reply("ask_product")]
    await chat.says("a kayak paddle")
    assert await chat.form("product_form") == []
    said = await chat.action("action_product_question")
    assert said == [reply("handoff", support_hours=services.settings.support_hours)]
    assert thread(db, AVA).handoff_reason == "product question: a kayak paddle"
