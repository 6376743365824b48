"""Every text the actions compose from the demo data fits SMS: GSM-7, two segments at most."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.address import ActionSubmitAddress
from actions.asks import ActionAskOrderNumber, ActionAskReturnItems, ActionAskVerification
from actions.cancel import ActionCancelOrder, ActionHandleAffirm
from actions.forms import (
    ValidateCancelForm,
    ValidateProblemForm,
    ValidateReturnForm,
    ValidateStatusForm,
)
from actions.orders import ActionDeliveryProblem, ActionOrderStatus
from actions.products import ActionProductQuestion
from actions.returns import ActionSubmitReturn
from bot.sms.gsm import is_gsm7, segments
from bot.support.returns import return_check
from tests.actions.trackers import (
    CUSTOMERS,
    SHELL,
    action_event,
    entity,
    make_tracker,
    slot_event,
    texts,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO = {
    name: yaml.safe_load((ROOT / "data" / "demo" / f"{name}.yml").read_text())
    for name in ("orders", "products")
}
ORDER_NUMBERS = [str(o["number"]) for o in DEMO["orders"]["orders"]]
PRODUCTS = DEMO["products"]["products"]
VARIANTS = [(p["title"], v.get("size"), v.get("color")) for p in PRODUCTS for v in p["variants"]]


def assert_fits_sms(composed: list[str]) -> None:
    assert composed, "the action composed no text"
    for text in composed:
        assert is_gsm7(text), f"not GSM-7: {text!r}"
        assert segments(text) <= 2, f"{segments(text)} segments: {text!r}"


async def composed(action, services, domain, tracker) -> list[str]:
    dispatcher = CollectingDispatcher()
    await action(services).run(dispatcher, tracker, domain)
    return texts(dispatcher)


async def likely_order(services, form, sender: str) -> str:
    found = await form(services).extract_order_number(
        CollectingDispatcher(), make_tracker(sender), {}
    )
    return found["order_number"]


def proven(number: str) -> dict[str, str]:
    """Slots of an order the shell customer proved with its email or ZIP."""
    return {"order_number": number, "verification": "ok", "verified_order": number}


@pytest.mark.parametrize("sender", CUSTOMERS)
async def test_each_customers_own_status_and_questions(services, domain, sender: str) -> None:
    number = await likely_order(services, ValidateStatusForm, sender)
    slots = {"order_number": number, "verification": "phone"}
    tracker = make_tracker(sender, slots=slots)
    assert_fits_sms(await composed(ActionOrderStatus, services, domain, tracker))
    assert_fits_sms(await composed(ActionAskOrderNumber, services, domain, tracker))
    assert_fits_sms(await composed(ActionAskVerification, services, domain, tracker))


@pytest.mark.parametrize("number", ORDER_NUMBERS)
async def test_every_orders_status_and_tracking(services, domain, number: str) -> None:
    status = make_tracker(SHELL, slots=proven(number))
    assert_fits_sms(await composed(ActionOrderStatus, services, domain, status))
    for complaint in ("its late", "it says delivered but i never got it"):
        problem = make_tracker(SHELL, complaint, "delivery_problem", slots=proven(number))
        assert_fits_sms(await composed(ActionDeliveryProblem, services, domain, problem))


@pytest.mark.parametrize("sender", CUSTOMERS)
async def test_each_customers_delivery_problem(services, domain, sender: str) -> None:
    number = await likely_order(services, ValidateProblemForm, sender)
    slots = {"order_number": number, "verification": "phone"}
    tracker = make_tracker(sender, "the box arrived crushed", "delivery_problem", slots=slots)
    assert_fits_sms(await composed(ActionDeliveryProblem, services, domain, tracker))


@pytest.mark.parametrize("number", ORDER_NUMBERS)
async def test_every_orders_return_texts(services, store, clock, domain, number: str) -> None:
    order = store.order_by_number(number)
    eligible = return_check(store, order, clock.now()).eligible
    items = ",".join(r.line_item.id for r in eligible)
    slots = {**proven(number), "return_items": items, "return_reason": "too small"}
    ask = make_tracker(SHELL, slots=proven(number))
    assert_fits_sms(await composed(ActionAskReturnItems, services, domain, ask))
    submit = make_tracker(SHELL, "too small", "inform", slots=slots)
    assert_fits_sms(await composed(ActionSubmitReturn, services, domain, submit))


@pytest.mark.parametrize("sender", CUSTOMERS)
async def test_each_customers_return(services, store, clock, domain, sender: str) -> None:
    number = await likely_order(services, ValidateReturnForm, sender)
    eligible = return_check(store, store.order_by_number(number), clock.now()).eligible
    slots = {"order_number": number, "verification": "phone", "return_reason": "too big"}
    slots["return_items"] = ",".join(r.line_item.id for r in eligible)
    tracker = make_tracker(sender, "too big", "inform", slots=slots)
    assert_fits_sms(await composed(ActionSubmitReturn, services, domain, tracker))


@pytest.mark.parametrize("number", ORDER_NUMBERS)
async def test_every_orders_cancel_and_address_texts(services, domain, number: str) -> None:
    ask = make_tracker(SHELL, "cancel it", "cancel_order", slots=proven(number))
    assert_fits_sms(await composed(ActionCancelOrder, services, domain, ask))
    address = {**proven(number), "new_address": "1 Main St, Springfield IL 62701"}
    moved = make_tracker(SHELL, "1 Main St", "inform", slots=address)
    assert_fits_sms(await composed(ActionSubmitAddress, services, domain, moved))


@pytest.mark.parametrize("sender", CUSTOMERS)
async def test_each_customers_cancellation_end_to_end(services, domain, sender: str) -> None:
    number = await likely_order(services, ValidateCancelForm, sender)
    slots = {"order_number": number, "verification": "phone"}
    ask = make_tracker(sender, "cancel my order", "cancel_order", slots=slots)
    assert_fits_sms(await composed(ActionCancelOrder, services, domain, ask))
    asked = [action_event("action_cancel_order"), slot_event("cancel_pending", True)]
    yes = make_tracker(
        sender,
        "yes",
        "affirm",
        slots={**slots, "cancel_pending": True},
        events=[slot_event("order_number", number), *asked],
    )
    assert_fits_sms(await composed(ActionHandleAffirm, services, domain, yes))


async def test_every_product_and_variant_reply(services, domain) -> None:
    for title, size, color in [(p["title"], None, None) for p in PRODUCTS] + VARIANTS:
        found = [entity("product", title)]
        found += [
            entity(name, value) for name, value in (("size", size), ("color", color)) if value
        ]
        tracker = make_tracker(SHELL, title, "product_question", found)
        assert_fits_sms(await composed(ActionProductQuestion, services, domain, tracker))


def test_the_domain_responses_fit_sms_too(domain) -> None:
    for name, variants in domain["responses"].items():
        for variant in variants:
            text = variant["text"].replace("{store_name}", "Pigeon Supply Co.")
            assert is_gsm7(text), name
            assert segments(text) <= 2, name
