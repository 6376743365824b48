"""The forms end to end through the SDK, with the trackers Rasa sends validate_<form>.

Rasa asks for the slot the validation action names in `requested_slot`; when the action names
none (a form whose required slots are the domain's), Rasa asks for the first empty one itself.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from actions.forms import (
    LOCKED,
    ValidateAddressForm,
    ValidateProductForm,
    ValidateReturnForm,
    ValidateStatusForm,
)
from bot.oms.demo import DemoStore
from bot.support.replies import reply
from tests.actions.trackers import (
    AVA,
    BEN,
    CHLOE,
    ELI,
    STRANGER,
    entity,
    form_tracker,
    texts,
)


async def run(
    form: FormValidationAction, tracker: Tracker, domain: dict
) -> tuple[list[str], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await form.run(dispatcher, tracker, domain)
    return texts(dispatcher), events


def line_ids(store: DemoStore, number: int) -> dict[str, str]:
    return {item.title: item.id for item in store.order_by_number(number).line_items}


# The status form


async def test_the_owner_starts_and_the_form_is_done(services, domain) -> None:
    tracker = form_tracker(AVA, "status_form", "wheres my stuff", "order_status")
    said, events = await run(ValidateStatusForm(services), tracker, domain)
    assert said == []
    assert events == [SlotSet("order_number", "1001"), SlotSet("verification", "phone")]


async def test_a_stranger_starts_and_rasa_asks_for_the_number(services, domain) -> None:
    tracker = form_tracker(STRANGER, "status_form", "where is my order", "order_status")
    said, events = await run(ValidateStatusForm(services), tracker, domain)
    assert said == []
    assert events == [SlotSet("order_number", None), SlotSet("verification", None)]


async def test_ben_naming_avas_order_is_asked_to_verify(services, domain, db) -> None:
    named = [entity("order_number", "1001")]
    tracker = form_tracker(
        BEN,
        "status_form",
        "where is order 1001",
        "order_status",
        entities=named,
        candidates={"order_number": "1001"},  # Rasa filled it from the entity
    )
    said, events = await run(ValidateStatusForm(services), tracker, domain)
    assert said == []
    assert events == [SlotSet("order_number", "1001"), SlotSet("verification", None)]


async def test_a_stale_proof_is_checked_again_when_a_request_starts(services, domain) -> None:
    tracker = form_tracker(
        BEN,
        "status_form",
        "where is order 1001",
        "order_status",
        entities=[entity("order_number", "1001")],
        candidates={"order_number": "1001", "verification": "ok"},  # left from before
    )
    _, events = await run(ValidateStatusForm(services), tracker, domain)
    assert SlotSet("verification", None) in events
    assert SlotSet("verification", "ok") not in events


async def test_ben_answers_with_avas_zip_and_the_form_is_done(services, domain) -> None:
    tracker = form_tracker(
        BEN,
        "status_form",
        "its 98101",
        requested="verification",
        candidates={"verification": "its 98101"},
        slots={"order_number": "1001"},
    )
    said, events = await run(ValidateStatusForm(services), tracker, domain)
    assert said == []
    assert events == [SlotSet("verification", "ok"), SlotSet("verified_order", "1001")]


async def test_a_wrong_answer_is_refused_and_asked_again(services, domain) -> None:
    tracker = form_tracker(
        BEN,
        "status_form",
        "33145",
        requested="verification",
        candidates={"verification": "33145"},
        slots={"order_number": "1001"},
    )
    said, events = await run(ValidateStatusForm(services), tracker, domain)
    assert said == [reply("verification_failed", order_number="1001")]
    assert events == [SlotSet("verification", None)]


async def test_the_third_wrong_answer_ends_the_form(services, domain) -> None:
    for _ in range(3):
        tracker = form_tracker(
            BEN,
            "status_form",
            "33145",
            requested="verification",
            candidates={"verification": "33145"},
            slots={"order_number": "1001"},
        )
        said, events = await run(ValidateStatusForm(services), tracker, domain)
    assert said == []
    assert events == [SlotSet("verification", LOCKED), SlotSet("requested_slot", None)]


async def test_an_unknown_number_is_asked_again(services, domain) -> None:
    tracker = form_tracker(
        STRANGER,
        "status_form",
        "4242",
        requested="order_number",
        candidates={"order_number": "4242"},
    )
    said, events = await run(ValidateStatusForm(services), tracker, domain)
    assert said == [reply("order_not_found", order_number="4242")]
    assert events == [SlotSet("order_number", None)]


async def test_through_the_action_server_as_json(services, domain) -> None:
    """The same turn as the action server gets it: a JSON body, the action found by name."""
    tracker = form_tracker(
        BEN,
        "status_form",
        "ava@example.com",
        requested="verification",
        candidates={"verification": "ava@example.com"},
        slots={"order_number": "1001"},
    )
    state = {
        "sender_id": tracker.sender_id,
        "slots": tracker.slots,
        "latest_message": tracker.latest_message,
        "events": tracker.events,
        "paused": False,
        "followup_action": None,
        "active_loop": tracker.active_loop,
        "latest_action_name": tracker.latest_action_name,
    }
    body = {"next_action": "validate_status_form", "tracker": state, "domain": domain}
    executor = ActionExecutor()
    executor.register_action(ValidateStatusForm(services))
    result = await executor.run(json.loads(json.dumps(body)))
    assert result is not None
    assert result["responses"] == []
    assert [(e["event"], e["name"], e["value"]) for e in result["events"]] == [
        ("slot", "verification", "ok"),
        ("slot", "verified_order", "1001"),
    ]


# The return form


async def test_ben_starts_a_return_and_is_asked_which_items(services, domain) -> None:
    tracker = form_tracker(BEN, "return_form", "i want to return something", "return_request")
    said, events = await run(ValidateReturnForm(services), tracker, domain)
    assert said == []
    assert events == [SlotSet("order_number", "1002"), SlotSet("verification", "phone")]


async def test_the_only_eligible_item_is_chosen_without_asking(services, store, domain) -> None:
    tracker = form_tracker(ELI, "return_form", "i want to return my order", "return_request")
    _, events = await run(ValidateReturnForm(services), tracker, domain)
    cap = line_ids(store, 1000)["Canvas Trucker Cap"]
    assert events == [
        SlotSet("order_number", "1000"),
        SlotSet("verification", "phone"),
        SlotSet("return_items", cap),
    ]


async def test_a_return_of_someone_elses_order_asks_for_the_proof_first(services, domain) -> None:
    tracker = form_tracker(
        BEN,
        "return_form",
        "i want to return order 1000",
        "return_request",
        entities=[entity("order_number", "1000")],
        candidates={"order_number": "1000"},
    )
    said, events = await run(ValidateReturnForm(services), tracker, domain)
    assert said == []
    assert events == [
        SlotSet("order_number", "1000"),
        SlotSet("verification", None),
        SlotSet("requested_slot", "verification"),
    ]


async def test_an_unknown_number_in_the_return_form_is_asked_again(services, domain) -> None:
    tracker = form_tracker(
        STRANGER,
        "return_form",
        "4242",
        requested="order_number",
        candidates={"order_number": "4242"},
    )
    said, events = await run(ValidateReturnForm(services), tracker, domain)
    assert said == [reply("order_not_found", order_number="4242")]
    assert events == [SlotSet("order_number", None), SlotSet("requested_slot", "order_number")]


async def test_nothing_eligible_ends_the_form_so_the_reason_can_be_explained(
    services, domain
) -> None:
    tracker = form_tracker(AVA, "return_form", "i want to return my daypack", "return_request")
    said, events = await run(ValidateReturnForm(services), tracker, domain)
    assert said == []
    assert events == [
        SlotSet("order_number", "998"),
        SlotSet("verification", "phone"),
        SlotSet("requested_slot", None),
    ]


async def test_ben_answers_both_then_the_reason(services, store, domain) -> None:
    ids = line_ids(store, 1002)
    proven = {"order_number": "1002", "verification": "phone"}
    tracker = form_tracker(
        BEN,
        "return_form",
        "both",
        requested="return_items",
        candidates={"return_items": "both"},
        slots=proven,
    )
    said, events = await run(ValidateReturnForm(services), tracker, domain)
    both = f"{ids['Ridgeline Rain Jacket']},{ids['Everyday Crew Tee']}"
    assert said == []
    assert events == [SlotSet("return_items", both)]

    tracker = form_tracker(
        BEN,
        "return_form",
        "too  big",
        requested="return_reason",
        candidates={"return_reason": "too  big"},
        slots={**proven, "return_items": both},
    )
    said, events = await run(ValidateReturnForm(services), tracker, domain)
    assert said == []
    assert events == [SlotSet("return_reason", "too big")]


async def test_an_item_ben_did_not_buy_is_asked_again(services, domain) -> None:
    tracker = form_tracker(
        BEN,
        "return_form",
        "the pizza",
        requested="return_items",
        candidates={"return_items": "the pizza"},
        slots={"order_number": "1002", "verification": "phone"},
    )
    said, events = await run(ValidateReturnForm(services), tracker, domain)
    assert said == [
        reply(
            "which_item", items="Ridgeline Rain Jacket (M / Moss) or Everyday Crew Tee (M / White)"
        )
    ]
    assert events == [SlotSet("return_items", None)]


# The address form


async def test_an_unshipped_order_asks_for_the_new_address(services, domain) -> None:
    tracker = form_tracker(CHLOE, "address_form", "i need to change my address", "change_address")
    _, events = await run(ValidateAddressForm(services), tracker, domain)
    assert events == [SlotSet("order_number", "1003"), SlotSet("verification", "phone")]


async def test_a_shipped_order_ends_the_form_without_asking(services, domain) -> None:
    tracker = form_tracker(AVA, "address_form", "change my shipping address", "change_address")
    _, events = await run(ValidateAddressForm(services), tracker, domain)
    assert events == [
        SlotSet("order_number", "1001"),
        SlotSet("verification", "phone"),
        SlotSet("requested_slot", None),
    ]


# The product form


async def test_a_product_named_in_the_question_fills_the_form(services, domain) -> None:
    tracker = form_tracker(AVA, "product_form", "do you sell a daypack", "product_question")
    said, events = await run(ValidateProductForm(services), tracker, domain)
    assert said == []
    assert events == [SlotSet("product", "Daypack 20L")]


async def test_an_entity_is_replaced_by_the_catalogue_title(services, domain) -> None:
    tracker = form_tracker(
        AVA,
        "product_form",
        "is the hoodie in stock",
        "product_question",
        entities=[entity("product", "hoodie")],
        candidates={"product": "hoodie"},
    )
    _, events = await run(ValidateProductForm(services), tracker, domain)
    assert events == [SlotSet("product", "Trailhead Hoodie")]


async def test_an_unknown_product_is_left_for_rasa_to_ask(services, domain) -> None:
    tracker = form_tracker(
        AVA,
        "product_form",
        "do you have kayaks",
        "product_question",
        entities=[entity("product", "kayaks")],
        candidates={"product": "kayaks"},
    )
    _, events = await run(ValidateProductForm(services), tracker, domain)
    assert events == [SlotSet("product", None)]


async def test_the_answer_to_which_product_is_taken_as_said(services, domain) -> None:
    tracker = form_tracker(
        AVA,
        "product_form",
        " a kayak   paddle ",
        requested="product",
        candidates={"product": " a kayak   paddle "},
    )
    _, events = await run(ValidateProductForm(services), tracker, domain)
    assert events == [SlotSet("product", "a kayak paddle")]
