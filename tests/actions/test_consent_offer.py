"""'Want shipping updates for #1003 by text? Reply YES': once per order, and YES opts in."""

from __future__ import annotations

import itertools

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.orders import ActionOrderStatus
from bot.consent import ConsentState, consent_state, history, record_opt_out
from bot.sms.inbound import accept, parse_form
from bot.sms.outbound import enqueue_for_phone
from bot.sms.simulator import SIMULATOR_ACCOUNT_SID
from bot.store.models import ConsentOffer, Customer
from bot.support.replies import reply
from tests.actions.trackers import AVA, BEN, CHLOE, make_tracker
from tests.fakes.twilio import inbound_sms

OFFER = reply("shipping_offer", order="#1003")
_sids = itertools.count(1)


async def status(services, domain, sender: str, number: str, **slots) -> list[dict]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(sender, slots={"order_number": number, **slots})
    await ActionOrderStatus(services).run(dispatcher, tracker, domain)
    return dispatcher.messages


def deliver(services, messages: list[dict], phone: str) -> None:
    """What the SMS output channel does with the action's messages."""
    for message in messages:
        enqueue_for_phone(
            services, phone, message["text"], "reply", consent_offer=message.get("consent_offer")
        )


def text_in(services, body: str, phone: str = CHLOE):
    sid = f"SM{next(_sids)}"
    form = inbound_sms(SIMULATOR_ACCOUNT_SID, phone, "+15005550006", body, message_sid=sid)
    return accept(services.db, parse_form(form), services.settings, services.clock)


def state(services, phone: str = CHLOE) -> ConsentState:
    with services.db.read() as session:
        return consent_state(session, phone)


async def test_a_number_without_consent_is_offered_updates_after_the_answer(
    services, domain
) -> None:
    first, offer = await status(services, domain, CHLOE, "1003", verification="phone")
    assert first["text"].startswith("Order #1003 hasn't shipped yet.")
    assert offer["text"] == OFFER
    assert offer["consent_offer"] == "1003"
    assert OFFER.endswith("Reply STOP to opt out.")


async def test_the_offer_is_made_once_per_order(services, domain) -> None:
    deliver(services, await status(services, domain, CHLOE, "1003", verification="phone"), CHLOE)
    again = await status(services, domain, CHLOE, "1003", verification="phone")
    assert len(again) == 1
    with services.db.read() as session:
        offers = list(session.execute(select(ConsentOffer)).scalars())
    assert [(o.phone, o.order_id, o.text) for o in offers] == [(CHLOE, "1003", OFFER)]


async def test_no_offer_to_consented_or_opted_out_numbers_nor_for_delivered_orders(
    services, domain
) -> None:
    assert len(await status(services, domain, AVA, "1001", verification="phone")) == 1
    assert len(await status(services, domain, AVA, "998", verification="phone")) == 1
    with services.db.write() as session:
        record_opt_out(session, CHLOE, "keyword", detail="STOP")
    assert len(await status(services, domain, CHLOE, "1003", verification="phone")) == 1


async def test_no_offer_to_someone_who_verified_anothers_order(services, domain) -> None:
    said = await status(services, domain, BEN, "1003", verification="ok", verified_order="1003")
    assert len(said) == 1


async def test_yes_right_after_the_offer_opts_in_with_the_offer_as_disclosure(
    services, domain
) -> None:
    deliver(services, await status(services, domain, CHLOE, "1003", verification="phone"), CHLOE)
    accepted = text_in(services, "yes")
    assert not accepted.for_assistant
    assert state(services) is ConsentState.OPTED_IN
    with services.db.read() as session:
        (entry,) = history(session, CHLOE)
    assert (entry.action, entry.source) == ("opt_in", "keyword")
    assert OFFER in entry.disclosure
    assert "1003" in entry.detail


async def test_another_reply_in_between_makes_yes_just_a_word_again(services, domain) -> None:
    deliver(services, await status(services, domain, CHLOE, "1003", verification="phone"), CHLOE)
    # The customer asks to cancel; the assistant's next question is "Reply YES to cancel".
    enqueue_for_phone(services, CHLOE, "Order #1003 ($68). Reply YES to cancel it.", "reply")
    with services.db.read() as session:
        customer = session.execute(select(Customer).where(Customer.phone == CHLOE)).scalar_one()
        assert customer.opt_in_requested_at is None
    assert text_in(services, "YES").for_assistant  # the cancel flow's YES
    assert state(services) is ConsentState.UNKNOWN
