"""Order status and delivery problems, once the form has found and proven the order."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import ActiveLoop, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import LOCKED
from actions.orders import ActionDeliveryProblem, ActionOrderStatus
from bot.support.replies import reply
from tests.actions.db_checks import thread, thread_count
from tests.actions.trackers import (
    AVA,
    BEN,
    DEV,
    ELI,
    SHELL,
    entity,
    make_tracker,
    texts,
    user_event,
)

UPS_1001 = "https://www.ups.com/track?tracknum=1Z999AA10123456784"


async def status(
    services, domain, sender: str, number: str | None, **slots: Any
) -> tuple[list[str], list]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(sender, slots={"order_number": number, **slots})
    events = await ActionOrderStatus(services).run(dispatcher, tracker, domain)
    return texts(dispatcher), events


async def test_ava_gets_1001_in_transit_with_ups_link_and_eta(services, domain) -> None:
    said, events = await status(services, domain, AVA, "1001", verification="phone")
    assert said == [
        f"Order #1001 is on its way with UPS, arriving Wed, Jun 17. Track it: {UPS_1001}"
    ]
    assert events == []


async def test_the_status_reply_has_no_personal_data(services, domain) -> None:
    (text,) = (await status(services, domain, AVA, "1001", verification="phone"))[0]
    for private in ("1420 Pine", "Apt 5", "Seattle", "98101", "ava@example.com", "Chen"):
        assert private not in text


async def test_eli_hears_of_his_other_open_order(services, domain) -> None:
    said, _ = await status(services, domain, ELI, "1006", verification="phone")
    assert said == [
        "Order #1006 hasn't shipped yet. We'll text you the tracking link when it does. "
        "You have 1 other open order; text its number for an update."
    ]


async def test_asking_about_an_old_order_mentions_the_open_one(services, domain) -> None:
    said, _ = await status(services, domain, AVA, "998", verification="phone")
    assert said == [
        "Order #998 was delivered on Wed, May 6. "
        "You have 1 other open order; text its number for an update."
    ]


async def test_eli_naming_his_other_order_gets_that_one(services, domain) -> None:
    (text,) = (await status(services, domain, ELI, "1005", verification="phone"))[0]
    assert text.startswith("Order #1005 is on its way with DHL, arriving Thu, Jun 18.")
    assert "1006" not in text


async def test_ben_without_proof_sees_nothing_of_avas_order(services, domain) -> None:
    said, events = await status(services, domain, BEN, "1001", verification="ok")
    assert said == [reply("ask_order_number")]
    assert events == []


async def test_once_verified_ben_sees_avas_order(services, domain) -> None:
    said, _ = await status(services, domain, BEN, "1001", verification="ok", verified_order="1001")
    assert said[0].startswith("Order #1001 is on its way with UPS")


async def test_verifying_one_order_does_not_show_another(services, domain) -> None:
    said, _ = await status(services, domain, BEN, "998", verified_order="1001")
    assert said == [reply("ask_order_number")]


async def test_the_shell_sees_a_verified_order(services, domain) -> None:
    said, _ = await status(services, domain, SHELL, "1003", verified_order="1003")
    assert said[0].startswith("Order #1003 hasn't shipped yet.")
    assert "other open order" not in said[0]  # the shell has no number to count orders by


async def test_no_order_at_all_asks_for_it(services, domain) -> None:
    said, events = await status(services, domain, AVA, None)
    assert said == [reply("ask_order_number")]
    assert events == []


async def test_an_order_number_that_does_not_exist_shows_nothing(services, domain) -> None:
    said, _ = await status(services, domain, AVA, "4242", verification="phone")
    assert said == [reply("ask_order_number")]


async def test_after_three_wrong_answers_a_person_takes_over(services, db, domain) -> None:
    earlier = [user_event("where is order 1001", "order_status")]
    tracker = make_tracker(
        BEN,
        "33145",
        "inform",
        slots={"order_number": "1001", "verification": LOCKED},
        events=earlier,
    )
    dispatcher = CollectingDispatcher()
    events = await ActionOrderStatus(services).run(dispatcher, tracker, domain)
    assert texts(dispatcher) == [reply("handoff", support_hours="Mon-Fri 9am-6pm ET")]
    assert events == [SlotSet("verification", None), ConversationPaused()]
    conversation = thread(db, BEN)
    assert conversation.status == "pending"
    assert conversation.handoff_reason == (
        "could not verify the customer (3 wrong answers within an hour)"
    )
    assert conversation.handoff_summary == (
        "Reason: could not verify the customer (3 wrong answers within an hour). "
        'Order: #1001. Customer said: "where is order 1001" / "33145"'
    )


async def test_a_lockout_during_a_form_also_stops_the_form(services, domain) -> None:
    tracker = make_tracker(
        BEN,
        "33145",
        "inform",
        slots={"order_number": "1001", "verification": LOCKED},
        active_loop="status_form",
    )
    events = await ActionOrderStatus(services).run(CollectingDispatcher(), tracker, domain)
    assert events == [
        SlotSet("verification", None),
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        ConversationPaused(),
    ]


# Delivery problems


async def problem(
    services, domain, sender: str, number: str, text: str, **kwargs: Any
) -> tuple[list[str], list]:
    dispatcher = CollectingDispatcher()
    slots = {"order_number": number, "verification": "phone"}
    tracker = make_tracker(sender, text, "delivery_problem", slots=slots, **kwargs)
    events = await ActionDeliveryProblem(services).run(dispatcher, tracker, domain)
    return texts(dispatcher), events


async def test_delivered_but_not_received_shows_tracking_and_hands_off(
    services, db, domain
) -> None:
    said, events = await problem(
        services, domain, BEN, "1002", "it says delivered but i never got it"
    )
    assert said == [
        "Order #1002 was delivered on Wed, Jun 10. Last scan in Miami, FL on Wed, Jun 10. "
        "Track it: https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223197428490",
        reply("handoff", support_hours=services.settings.support_hours),
    ]
    assert events == [ConversationPaused()]
    conversation = thread(db, BEN)
    assert conversation.status == "pending"
    assert conversation.handoff_reason == "marked delivered but not received"
    assert conversation.handoff_summary == (
        "Reason: marked delivered but not received. Order: #1002. "
        'Customer said: "it says delivered but i never got it"'
    )


async def test_a_late_parcel_gets_tracking_and_an_offer_of_a_person(services, db, domain) -> None:
    said, events = await problem(services, domain, AVA, "1001", "my package is late")
    assert said == [
        "Order #1001 is on its way with UPS, arriving Wed, Jun 17. "
        f"Last scan in Salt Lake City, UT today. Track it: {UPS_1001}",
        reply("offer_person"),
    ]
    assert events == []
    assert thread_count(db) == 0


async def test_a_carrier_failure_goes_to_a_person_even_for_a_late_complaint(
    services, db, domain
) -> None:
    said, events = await problem(services, domain, DEV, "1004", "where is my vest")
    assert said[0].startswith(
        "Order #1004 couldn't be delivered by FedEx (Delivery exception: the street address "
        "could not be found. The package is held at the FedEx facility until the address is "
        "corrected). Last scan in Chicago, IL today."
    )
    assert said[1:] == [reply("handoff", support_hours=services.settings.support_hours)]
    assert events == [ConversationPaused()]
    assert thread(db, DEV).handoff_reason == "late delivery"


async def test_elis_shipped_order_gets_its_tracking(services, domain) -> None:
    said, _ = await problem(services, domain, ELI, "1005", "my package is taking too long")
    assert said[0].startswith("Order #1005 is on its way with DHL")


async def test_the_complaint_is_read_from_before_the_order_number_was_given(
    services, db, domain
) -> None:
    complaint = user_event("the jacket arrived damaged", "delivery_problem")
    answer = make_tracker(
        BEN,
        "1002",
        "inform",
        [entity("order_number", "1002")],
        slots={"verification": "phone"},
        events=[complaint],
    )
    events = await ActionDeliveryProblem(services).run(CollectingDispatcher(), answer, domain)
    assert events == [ConversationPaused()]
    conversation = thread(db, BEN)
    assert conversation.handoff_reason == "arrived damaged"
    assert conversation.handoff_summary.startswith("Reason: arrived damaged. Order: #1002.")


async def test_ben_cannot_report_a_problem_with_avas_order_unproven(services, db, domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(BEN, "it never came", "delivery_problem", slots={"order_number": "1001"})
    events = await ActionDeliveryProblem(services).run(dispatcher, tracker, domain)
    assert texts(dispatcher) == [reply("ask_order_number")]
    assert events == []
    assert thread_count(db) == 0
