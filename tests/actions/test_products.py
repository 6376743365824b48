"""Product questions answered from the demo catalogue."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ValidateProductForm
from actions.products import ActionProductQuestion
from bot.support.replies import reply
from tests.actions.db_checks import thread
from tests.actions.trackers import AVA, BEN, entity, make_tracker, texts


def answered(product: str | None) -> list[SlotSet]:
    return [SlotSet("product", product), SlotSet("size", None), SlotSet("color", None)]


async def ask(
    services, domain, text: str, slots: dict | None = None, **found: str
) -> tuple[list[str], list]:
    """The question `text` with its entities; the form put the product in its slot."""
    dispatcher = CollectingDispatcher()
    entities = [entity(name, value) for name, value in found.items()]
    tracker = make_tracker(AVA, text, "product_question", entities, slots)
    events = await ActionProductQuestion(services).run(dispatcher, tracker, domain)
    return texts(dispatcher), events


async def test_a_sold_out_variant_with_its_restock_date(services, domain) -> None:
    said, events = await ask(
        services,
        domain,
        "is the trailhead hoodie in medium heather grey in stock",
        product="Trailhead Hoodie",
        size="M",
        color="Heather Grey",
    )
    # Restocks on Thu, Jun 25 (in 10 days); Ava texts from Seattle.
    assert said == [
        "The Trailhead Hoodie in M / Heather Grey is sold out right now. "
        "It should be back around Thu, Jun 25."
    ]
    assert events == answered("Trailhead Hoodie")


async def test_a_sold_out_variant_without_a_restock_date(services, domain) -> None:
    said, _ = await ask(
        services, domain, "hoodie xl navy", product="Trailhead Hoodie", size="XL", color="Navy"
    )
    assert said == [
        "The Trailhead Hoodie in XL / Navy is sold out and we don't have a restock date yet."
    ]


async def test_an_in_stock_variant_with_its_price(services, domain) -> None:
    said, _ = await ask(
        services,
        domain,
        "got the rain jacket in L black?",
        product="Ridgeline Rain Jacket",
        size="L",
        color="Black",
    )
    assert said == ["The Ridgeline Rain Jacket in L / Black is in stock, $148."]


async def test_few_left_is_mentioned(services, domain) -> None:
    said, _ = await ask(
        services, domain, "vest in rust large", product="Summit Down Vest", size="L", color="Rust"
    )
    assert said == ["The Summit Down Vest in L / Rust is in stock (only 1 left), $118."]


@pytest.mark.parametrize(("size", "color"), [("medium", "navy"), ("M", "Navy"), ("med", "NAVY")])
async def test_sizes_and_colours_as_customers_write_them(services, domain, size, color) -> None:
    said, _ = await ask(
        services, domain, "hoodie", product="Trailhead Hoodie", size=size, color=color
    )
    assert said == ["The Trailhead Hoodie in M / Navy is in stock, $68."]


async def test_a_size_the_product_does_not_come_in(services, domain) -> None:
    said, events = await ask(
        services, domain, "hoodie in xxl", product="Trailhead Hoodie", size="XXL"
    )
    (text,) = said
    assert text.startswith(
        "Sorry, the Trailhead Hoodie doesn't come in XXL. "
        "Trailhead Hoodie ($68) comes in Navy and Heather Grey, sizes S, M, L and XL."
    )
    assert events == answered("Trailhead Hoodie")


async def test_the_whole_product_without_size_or_colour(services, domain) -> None:
    said, _ = await ask(services, domain, "tell me about the cap", product="Canvas Trucker Cap")
    assert said == ["Canvas Trucker Cap ($26) comes in Olive and Tan."]


async def test_a_final_sale_product_says_so(services, domain) -> None:
    (text,), _ = await ask(services, domain, "merino socks?", product="Merino Hiking Socks")
    assert text.endswith(". Final sale.")


async def test_the_question_text_is_searched_when_there_is_no_product(services, domain) -> None:
    said, events = await ask(services, domain, "do you sell a daypack")
    assert said == ["Daypack 20L ($89) comes in Forest and Black."]
    assert events == answered("Daypack 20L")


async def test_a_misspelled_product_is_still_found(services, domain) -> None:
    said, _ = await ask(services, domain, "trailhed hoody in M", product="trailhed hoody")
    assert said[0].startswith("Trailhead Hoodie ($68)")


async def test_a_product_the_catalogue_lacks_goes_to_a_person(services, db, domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(BEN, "a kayak paddle", "inform", slots={"product": "a kayak paddle"})
    events = await ActionProductQuestion(services).run(dispatcher, tracker, domain)
    assert texts(dispatcher) == [reply("handoff", support_hours=services.settings.support_hours)]
    assert events == [*answered(None), ConversationPaused()]
    conversation = thread(db, BEN)
    assert conversation.status == "pending"
    assert conversation.handoff_reason == "product question: a kayak paddle"


# The product form


async def extract(services, text: str, slots: dict[str, Any] | None = None, **found: str):
    entities = [entity(name, value) for name, value in found.items()]
    tracker = make_tracker(AVA, text, "product_question", entities, slots)
    return await ValidateProductForm(services).extract_product(CollectingDispatcher(), tracker, {})


async def test_the_form_takes_the_catalogue_title(services) -> None:
    assert await extract(services, "any beanies?", product="beanies") == {"product": "Wool Beanie"}
    assert await extract(services, "do you sell a daypack") == {"product": "Daypack 20L"}


async def test_the_form_asks_when_the_catalogue_lacks_it(services) -> None:
    assert await extract(services, "do you have kayaks", product="kayaks") == {"product": None}


async def test_a_new_question_is_not_about_the_last_product(services) -> None:
    """The slot still says Trailhead Hoodie from an earlier answer; this message names a daypack."""
    result = await extract(services, "do you sell a daypack", {"product": "Trailhead Hoodie"})
    assert result == {"product": "Daypack 20L"}


async def test_the_form_leaves_an_answer_to_which_product_alone(services) -> None:
    tracker = make_tracker(
        AVA, "the blue one", "inform", active_loop="product_form", requested_slot="product"
    )
    form = ValidateProductForm(services)
    assert await form.extract_product(CollectingDispatcher(), tracker, {}) == {}


def test_the_answer_is_tidied(services) -> None:
    validate = ValidateProductForm(services).validate_product
    dispatcher, tracker = CollectingDispatcher(), make_tracker(AVA)
    assert validate("  wool   beanie ", dispatcher, tracker, {}) == {"product": "wool beanie"}
    assert validate("x" * 150, dispatcher, tracker, {}) == {"product": "x" * 100}
    assert validate(" ", dispatcher, tracker, {}) == {"product": None}
