"""action_shipment_update: the desk's alert told in the conversation, then the customer's reply.

Runs through Rasa's own action and response machinery (tests/actions/rasa_turns.py), so the
texts are filled from domain.yml exactly as the Rasa server fills them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from rasa.shared.core.events import BotUttered

from bot.notify import policy
from bot.notify.wording import Alert, params, render, response_name, to_entities
from bot.oms.base import Order
from bot.sms.gsm import is_gsm7, segments
from tests.actions.rasa_turns import Conversation
from tests.actions.trackers import AVA, ELI, entity

SITUATIONS = [
    ("shipped", "in_transit"),
    ("out_for_delivery", "out_for_delivery"),
    ("delivered", "delivered"),
    ("exception", "attempted_delivery"),
    ("exception", "delayed"),
    ("exception", "failure"),
    ("exception", "ready_for_pickup"),
]
SHIPPED_DEMO_ORDERS = (998, 1000, 1001, 1002, 1004, 1005)


def alert_for(order: Order, kind: str, status: str, now, *, hint: bool = True) -> Alert:
    package = order.fulfillments[0]
    return Alert(
        order_name=order.name,
        kind=kind,
        status=status,
        carrier=package.carrier,
        tracking_url=package.tracking_url,
        eta=now + timedelta(days=2),
        happened_at=now,
        location="Walgreens, 1501 3rd Ave, Seattle, WA" if status == "ready_for_pickup" else None,
        message="Business closed" if kind == "exception" else None,
        opt_out_hint=hint,
        time_zone="America/Los_Angeles",
    )


async def tell(chat: Conversation, alert: Alert, notification_id: int = 41) -> list[str]:
    facts = to_entities(alert, notification_id)
    entities = [entity(name, value) for name, value in facts.items()]
    await chat.says("EXTERNAL: EXTERNAL_shipment_update", "EXTERNAL_shipment_update", entities)
    return await chat.action("action_shipment_update")


@pytest.mark.parametrize(("kind", "status"), SITUATIONS)
@pytest.mark.parametrize("number", SHIPPED_DEMO_ORDERS)
async def test_every_alert_fits_two_gsm7_segments_and_names_the_order(
    services, number: int, kind: str, status: str
) -> None:
    order = services.oms.order_by_number(number)
    alert = alert_for(order, kind, status, services.clock.now())
    (text,) = await tell(Conversation(services, order.phone), alert)
    assert is_gsm7(text), text
    assert segments(text) <= 2, f"{len(text)} characters: {text}"
    assert order.name in text
    assert text.startswith("Pigeon Supply Co.: ")
    assert text.endswith("Reply STOP to opt out.")
    if kind != policy.DELIVERED and order.fulfillments[0].tracking_url:
        assert order.fulfillments[0].tracking_url in text


@pytest.mark.parametrize(("kind", "status"), SITUATIONS)
async def test_the_desk_fills_a_response_exactly_as_rasa_does(services, kind, status) -> None:
    order = services.oms.order_by_number(1001)
    now = services.clock.now()
    alert = alert_for(order, kind, status, now, hint=False)
    (said,) = await tell(Conversation(services, AVA), alert)
    desk = render(response_name(kind, status), params(alert, "Pigeon Supply Co.", now))
    assert said == desk
    assert "{" not in said


async def test_the_alert_goes_out_as_a_proactive_text_linked_to_its_notification(
    services,
) -> None:
    order = services.oms.order_by_number(1001)
    chat = Conversation(services, AVA)
    (text,) = await tell(
        chat,
        alert_for(order, "out_for_delivery", "out_for_delivery", services.clock.now()),
        notification_id=77,
    )
    assert text == (
        "Pigeon Supply Co.: your order #1001 is out for delivery with UPS today. "
        "Track it: https://www.ups.com/track?tracknum=1Z999AA10123456784 "
        "Reply STOP to opt out."
    )
    uttered = [e for e in chat.tracker.events if isinstance(e, BotUttered)][-1]
    assert uttered.metadata["purpose"] == "proactive"
    assert uttered.metadata["notification_id"] == "77"
    assert chat.slot("order_number") == "1001"
    assert chat.slot("alerted_order") == "1001"


async def test_an_alert_without_its_facts_says_nothing(services) -> None:
    chat = Conversation(services, AVA)
    await chat.says("EXTERNAL: EXTERNAL_shipment_update", "EXTERNAL_shipment_update", [])
    assert await chat.action("action_shipment_update") == []


async def test_when_will_it_get_here_after_an_alert_is_about_the_alerted_order(
    services,
) -> None:
    # Eli has two open orders; the newest (#1006) has not shipped. The alert was about #1005.
    order = services.oms.order_by_number(1005)
    chat = Conversation(services, ELI)
    await tell(chat, alert_for(order, "shipped", "in_transit", services.clock.now()))
    await chat.says("ok when will it get here?", "order_status")
    assert await chat.form("status_form") == []
    (status, *_) = await chat.action("action_order_status")
    assert status.startswith("Order #1005 is on its way with DHL")


async def test_ok_thanks_may_come_between_the_alert_and_the_question(services) -> None:
    order = services.oms.order_by_number(1005)
    chat = Conversation(services, ELI)
    await tell(chat, alert_for(order, "shipped", "in_transit", services.clock.now()))
    await chat.says("ok thanks", "thanks")
    await chat.says("when will it arrive", "order_status")
    await chat.form("status_form")
    (status, *_) = await chat.action("action_order_status")
    assert status.startswith("Order #1005")


async def test_another_question_in_between_ends_the_alerts_context(services) -> None:
    order = services.oms.order_by_number(1005)
    chat = Conversation(services, ELI)
    await tell(chat, alert_for(order, "shipped", "in_transit", services.clock.now()))
    await chat.says("do you sell hats", "product_question")
    await chat.says("where is my order", "order_status")
    await chat.form("status_form")
    (status, *_) = await chat.action("action_order_status")
    assert status.startswith("Order #1006")  # the usual choice: the newest open order
