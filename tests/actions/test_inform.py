"""A bare answer outside any question: a product gets its answer, anything else is asked again."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.inform import ActionHandleInform
from bot.support.replies import reply
from tests.actions.trackers import AVA, entity, make_tracker, texts

ROOT = Path(__file__).resolve().parents[2]
HOODIE_NAVY_M = "The Trailhead Hoodie in M / Navy is in stock, $68."


def answered(product: str) -> list[SlotSet]:
    return [SlotSet("product", product), SlotSet("size", None), SlotSet("color", None)]


async def inform(services, domain, text: str, entities: list, slots: dict | None = None):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(AVA, text, "inform", entities, slots)
    events = await ActionHandleInform(services).run(dispatcher, tracker, domain)
    return texts(dispatcher), events


async def test_a_product_gets_its_answer(services, domain) -> None:
    said, events = await inform(services, domain, "the beanie", [entity("product", "beanie")])
    assert said[0].startswith("Wool Beanie ($24) comes in Rust, Black and Cream.")
    assert events == answered("Wool Beanie")


async def test_a_size_and_colour_follow_up_the_last_product(services, domain) -> None:
    said, events = await inform(
        services,
        domain,
        "in medium navy?",
        [entity("size", "medium"), entity("color", "navy")],
        {"product": "Trailhead Hoodie"},
    )
    assert said == [HOODIE_NAVY_M]
    assert events == answered("Trailhead Hoodie")


@pytest.mark.parametrize("name", ["size", "color"])
async def test_a_size_or_colour_alone_with_no_product_asks_again(services, domain, name) -> None:
    said, events = await inform(services, domain, "the thing", [entity(name, "zzz")])
    assert said == [reply("please_rephrase")]
    assert events == []


async def test_a_product_the_catalogue_lacks_asks_again(services, domain) -> None:
    said, _ = await inform(services, domain, "kayak", [entity("product", "kayak")])
    assert said == [reply("please_rephrase")]


async def test_nothing_recognisable_asks_to_rephrase(services, domain) -> None:
    said, events = await inform(services, domain, "the thing", [])
    assert said == [reply("please_rephrase")]
    assert events == []


def test_a_bare_order_number_goes_to_the_status_form() -> None:
    """A rule, not this action, handles "1001": it must start the status form."""
    rules = yaml.safe_load((ROOT / "data" / "rules.yml").read_text())["rules"]
    starts = [
        [step.get("action") for step in rule["steps"][1:]]
        for rule in rules
        if rule["steps"][0].get("intent") == "inform"
        and "order_number" in rule["steps"][0].get("entities", [])
    ]
    assert starts == [["status_form", None]]
