"""The forms' questions: which order (listing a customer's open ones), the proof, the details."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.asks import (
    ActionAskNewAddress,
    ActionAskOrderNumber,
    ActionAskProduct,
    ActionAskReturnItems,
    ActionAskReturnReason,
    ActionAskVerification,
)
from bot.support.replies import reply
from tests.actions.trackers import AVA, BEN, ELI, SHELL, STRANGER, make_tracker, texts


async def asks(services, domain, action, sender: str = BEN, **slots) -> list[str]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(sender, slots=slots, active_loop="status_form")
    assert await action(services).run(dispatcher, tracker, domain) == []
    return texts(dispatcher)


async def test_a_customer_with_open_orders_is_asked_which(services, domain) -> None:
    said = await asks(services, domain, ActionAskOrderNumber, ELI)
    assert said == [reply("ask_which_order", orders="#1006 or #1005")]
    assert said == ["Which order do you mean: #1006 or #1005? Reply with the order number."]


@pytest.mark.parametrize("sender", [AVA, BEN, SHELL, STRANGER])
async def test_others_are_asked_for_the_number(services, domain, sender: str) -> None:
    assert await asks(services, domain, ActionAskOrderNumber, sender) == [reply("ask_order_number")]


async def test_the_proof_question_names_the_order(services, domain) -> None:
    said = await asks(services, domain, ActionAskVerification, order_number="1001")
    assert said == [
        "To keep your order private, what's the email address or ZIP code on order #1001?"
    ]


async def test_the_item_question_without_an_order_still_reads_well(services, domain) -> None:
    said = await asks(services, domain, ActionAskReturnItems, order_number="4242")
    assert said == [reply("ask_return_items", items="the item")]


@pytest.mark.parametrize(
    ("action", "name"),
    [
        (ActionAskReturnReason, "ask_return_reason"),
        (ActionAskNewAddress, "ask_new_address"),
        (ActionAskProduct, "ask_product"),
    ],
)
async def test_the_plain_questions(services, domain, action, name: str) -> None:
    assert await asks(services, domain, action) == [reply(name)]
