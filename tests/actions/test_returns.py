"""Returns: what is eligible, which items and why, then a real return in the demo store."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.asks import ActionAskReturnItems
from actions.forms import ValidateReturnForm
from actions.returns import ActionSubmitReturn
from bot.oms.demo import DemoStore
from bot.support.replies import reply
from tests.actions.db_checks import returns
from tests.actions.trackers import AVA, BEN, DEV, ELI, make_tracker, texts

CLEARED = [SlotSet("return_items", None), SlotSet("return_reason", None)]
JACKET_OR_TEE = "Ridgeline Rain Jacket (M / Moss) or Everyday Crew Tee (M / White)"


def line_ids(store: DemoStore, number: int) -> dict[str, str]:
    """Line item ids of the order by title."""
    order = store.order_by_number(number)
    return {item.title: item.id for item in order.line_items}


# Which items


async def test_ask_return_items_lists_the_eligible_items(services, domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(BEN, slots={"order_number": "1002", "verification": "phone"})
    assert await ActionAskReturnItems(services).run(dispatcher, tracker, domain) == []
    assert texts(dispatcher) == [reply("ask_return_items", items=JACKET_OR_TEE)]


async def validate_items(services, text: Any, number: str = "1002") -> tuple[list[str], dict]:
    dispatcher = CollectingDispatcher()
    slots = {"order_number": number, "verification": "phone", "return_items": text}
    tracker = make_tracker(BEN, str(text), "inform", slots=slots, requested_slot="return_items")
    result = await ValidateReturnForm(services).validate_return_items(text, dispatcher, tracker, {})
    return texts(dispatcher), result


async def test_items_are_picked_by_name(services, store) -> None:
    ids = line_ids(store, 1002)
    assert (await validate_items(services, "the rain jacket"))[1] == {
        "return_items": ids["Ridgeline Rain Jacket"]
    }
    assert (await validate_items(services, "just the tee"))[1] == {
        "return_items": ids["Everyday Crew Tee"]
    }


@pytest.mark.parametrize("text", ["both", "ALL of them"])
async def test_both_or_all_picks_every_eligible_item(services, store, text: str) -> None:
    ids = line_ids(store, 1002)
    said, result = await validate_items(services, text)
    assert said == []
    assert result == {"return_items": f"{ids['Ridgeline Rain Jacket']},{ids['Everyday Crew Tee']}"}


async def test_line_item_ids_already_chosen_are_kept(services, store) -> None:
    tee = line_ids(store, 1002)["Everyday Crew Tee"]
    assert await validate_items(services, tee) == ([], {"return_items": tee})


@pytest.mark.parametrize("text", ["pizza", "", None])
async def test_anything_else_is_asked_again(services, text: Any) -> None:
    said, result = await validate_items(services, text)
    assert result == {"return_items": None}
    assert said == [reply("which_item", items=JACKET_OR_TEE)]


async def test_an_item_of_another_order_is_not_accepted(services, store) -> None:
    cap = line_ids(store, 1000)["Canvas Trucker Cap"]
    said, result = await validate_items(services, cap)
    assert result == {"return_items": None}
    assert said == [reply("which_item", items=JACKET_OR_TEE)]


async def extract(services, sender: str, number: str, **slots: Any) -> dict:
    tracker = make_tracker(sender, slots={"order_number": number, "verification": "phone", **slots})
    form = ValidateReturnForm(services)
    return await form.extract_return_items(CollectingDispatcher(), tracker, {})


async def test_the_only_eligible_item_is_filled_in(services, store) -> None:
    cap = line_ids(store, 1000)["Canvas Trucker Cap"]
    assert await extract(services, ELI, "1000") == {"return_items": cap}


async def test_with_a_choice_to_make_nothing_is_filled_in(services) -> None:
    assert await extract(services, BEN, "1002") == {}


async def test_nothing_is_filled_in_before_the_order_is_proven(services) -> None:
    assert await extract(services, ELI, "1000", verification=None) == {}
    assert await extract(services, ELI, "1000", verification="locked") == {}


async def test_a_choice_already_made_is_kept(services, store) -> None:
    assert await extract(services, ELI, "1000", return_items="9") == {}


async def test_the_reason_is_kept_tidy(services) -> None:
    validate = ValidateReturnForm(services).validate_return_reason
    dispatcher, tracker = CollectingDispatcher(), make_tracker(BEN)
    assert validate("  too   small\n", dispatcher, tracker, {}) == {"return_reason": "too small"}
    assert validate("x" * 300, dispatcher, tracker, {}) == {"return_reason": "x" * 200}
    assert validate("   ", dispatcher, tracker, {}) == {"return_reason": None}
    assert dispatcher.messages == []


# Opening the return


async def submit(
    services, domain, sender: str, number: str, items: str | None, reason: str | None = "too big"
) -> tuple[list[str], list]:
    dispatcher = CollectingDispatcher()
    slots = {
        "order_number": number,
        "verification": "phone",
        "return_items": items,
        "return_reason": reason,
    }
    tracker = make_tracker(sender, reason or "", "inform", slots=slots)
    events = await ActionSubmitReturn(services).run(dispatcher, tracker, domain)
    return texts(dispatcher), events


async def test_submit_creates_the_return_in_the_store(services, store, db, domain) -> None:
    jacket = line_ids(store, 1002)["Ridgeline Rain Jacket"]
    said, events = await submit(services, domain, BEN, "1002", jacket)
    ((return_id, reason, lines),) = returns(db, "1002")
    assert (reason, lines) == ("too big", [jacket])
    assert said == [
        reply(
            "return_created",
            return_id=return_id,
            order="#1002",
            items="Ridgeline Rain Jacket (M / Moss)",
        )
    ]
    assert events == CLEARED
    (left,) = store.returnable_items("1002")
    assert left.line_item.title == "Everyday Crew Tee"


async def test_both_items_go_back_in_one_return(services, store, db, domain) -> None:
    ids = line_ids(store, 1002)
    both = f"{ids['Ridgeline Rain Jacket']},{ids['Everyday Crew Tee']}"
    said, _ = await submit(services, domain, BEN, "1002", both)
    ((return_id, _, lines),) = returns(db, "1002")
    assert lines == sorted(ids.values())
    assert said == [
        reply(
            "return_created",
            return_id=return_id,
            order="#1002",
            items="Ridgeline Rain Jacket (M / Moss) and Everyday Crew Tee (M / White)",
        )
    ]
    assert store.returnable_items("1002") == []


async def test_the_same_items_cannot_be_returned_twice(services, store, db, domain) -> None:
    ids = line_ids(store, 1002)
    both = f"{ids['Ridgeline Rain Jacket']},{ids['Everyday Crew Tee']}"
    await submit(services, domain, BEN, "1002", both)
    said, events = await submit(services, domain, BEN, "1002", both)
    assert said == [
        reply(
            "not_returnable",
            order="#1002",
            reasons="Ridgeline Rain Jacket has already been returned and "
            "Everyday Crew Tee has already been returned",
        )
    ]
    assert events == CLEARED
    assert len(returns(db, "1002")) == 1


async def test_each_return_gets_its_own_id(services, store, db, domain) -> None:
    ids = line_ids(store, 1002)
    first, _ = await submit(services, domain, BEN, "1002", ids["Ridgeline Rain Jacket"])
    second, _ = await submit(services, domain, BEN, "1002", ids["Everyday Crew Tee"], None)
    (first_id, _, _), (second_id, reason, _) = returns(db, "1002")
    assert first_id != second_id
    assert f"Return {first_id} is open" in first[-1]
    assert second[0] == (
        "Everyday Crew Tee (M / White) can be returned; "
        "Ridgeline Rain Jacket has already been returned."
    )
    assert f"Return {second_id} is open" in second[-1]
    assert reason == "not given"


async def test_avas_order_from_40_days_ago_is_past_the_window(services, db, domain) -> None:
    said, events = await submit(services, domain, AVA, "998", None, None)
    assert said == [
        reply(
            "not_returnable",
            order="#998",
            reasons="Daypack 20L was delivered more than 30 days ago",
        )
    ]
    assert events == CLEARED
    assert returns(db, "998") == []


async def test_elis_final_sale_fleece_stays_and_the_cap_goes_back(
    services, store, db, domain
) -> None:
    cap = line_ids(store, 1000)["Canvas Trucker Cap"]
    said, _ = await submit(services, domain, ELI, "1000", cap, "doesnt fit")
    ((return_id, _, lines),) = returns(db, "1000")
    assert lines == [cap]
    assert said == [
        "Canvas Trucker Cap (Olive) can be returned; "
        "Alpine Fleece Pullover (Archive Sale) is final sale.",
        reply(
            "return_created", return_id=return_id, order="#1000", items="Canvas Trucker Cap (Olive)"
        ),
    ]


async def test_devs_parcel_that_never_arrived_is_not_yet_returnable(services, domain) -> None:
    said, _ = await submit(services, domain, DEV, "1004", None)
    assert said == [
        reply("not_returnable", order="#1004", reasons="Summit Down Vest hasn't been delivered yet")
    ]


async def test_a_final_sale_item_slipped_in_is_not_returned(services, store, db, domain) -> None:
    ids = line_ids(store, 1000)
    both = f"{ids['Canvas Trucker Cap']},{ids['Alpine Fleece Pullover (Archive Sale)']}"
    await submit(services, domain, ELI, "1000", both)
    ((_, _, lines),) = returns(db, "1000")
    assert lines == [ids["Canvas Trucker Cap"]]


async def test_submit_without_items_fails_politely(services, store, db, domain) -> None:
    said, events = await submit(services, domain, BEN, "1002", "")
    assert said == [reply("return_failed")]
    assert events == CLEARED
    assert returns(db, "1002") == []
    assert len(store.returnable_items("1002")) == 2


async def test_ben_cannot_return_avas_order_unproven(services, db, domain) -> None:
    dispatcher = CollectingDispatcher()
    slots = {"order_number": "998", "return_items": "1", "return_reason": "x"}
    tracker = make_tracker(BEN, "x", "inform", slots=slots)
    events = await ActionSubmitReturn(services).run(dispatcher, tracker, domain)
    assert texts(dispatcher) == [reply("ask_order_number")]
    assert events == []
    assert returns(db, "998") == []
