"""The request forms: which order, proof of identity, at most three wrong answers an hour."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.forms import (
    LOCKED,
    OrderForm,
    ValidateAddressForm,
    ValidateCancelForm,
    ValidateProblemForm,
    ValidateReturnForm,
    ValidateStatusForm,
)
from bot.clock import FixedClock
from bot.inbox import thread_for
from bot.services import Services
from bot.store.models import Conversation, Customer
from bot.support.replies import reply
from tests.actions.db_checks import attempts
from tests.actions.trackers import (
    AVA,
    BEN,
    CHLOE,
    DEV,
    ELI,
    SHELL,
    STRANGER,
    entity,
    make_tracker,
    texts,
)

ORDER_SLOTS = ["order_number", "verification"]
WRONG_ZIP = "33145"  # Ben's own ZIP: wrong for Ava's order #1001


async def start(
    services: Services,
    sender: str,
    form: type[OrderForm] = ValidateStatusForm,
    text: str = "where is my order",
    **kwargs: Any,
) -> dict[str, Any]:
    """extract_order_number at the start of a request."""
    tracker = make_tracker(sender, text, **kwargs)
    return await form(services).extract_order_number(CollectingDispatcher(), tracker, {})


async def give_number(
    services: Services, sender: str, value: Any, slots: dict | None = None
) -> tuple[list[str], dict[str, Any]]:
    """The customer answers "What's your order number?" with `value`."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        sender,
        str(value),
        "inform",
        slots={**(slots or {}), "order_number": value},
        active_loop="status_form",
        requested_slot="order_number",
    )
    form = ValidateStatusForm(services)
    result = await form.validate_order_number(value, dispatcher, tracker, {})
    return texts(dispatcher), result


async def answer(
    services: Services, sender: str, order: str, text: str | None
) -> tuple[list[str], dict[str, Any]]:
    """The customer answers the email/ZIP question for `order`."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        sender,
        text or "",
        "inform",
        slots={"order_number": order, "verification": text},
        active_loop="status_form",
        requested_slot="verification",
    )
    form = ValidateStatusForm(services)
    result = await form.validate_verification(text, dispatcher, tracker, {})
    return texts(dispatcher), result


async def lock_out(services: Services, sender: str = BEN) -> None:
    for _ in range(3):
        await answer(services, sender, "1001", WRONG_ZIP)


# Which order: at the start of a request


@pytest.mark.parametrize(
    ("sender", "form", "number"),
    [
        (AVA, ValidateStatusForm, "1001"),  # her open order, not the old delivered one
        (ELI, ValidateStatusForm, "1006"),  # the newest of his two open orders
        (ELI, ValidateCancelForm, "1006"),  # the one not shipped yet
        (ELI, ValidateAddressForm, "1006"),
        (ELI, ValidateProblemForm, "1005"),  # the one a package went out for
        (ELI, ValidateReturnForm, "1000"),  # the one delivered
        (AVA, ValidateReturnForm, "998"),
        (DEV, ValidateReturnForm, "1004"),  # nothing delivered: his latest order
        (AVA, ValidateCancelForm, "1001"),  # nothing unshipped: the usual choice
        (CHLOE, ValidateCancelForm, "1003"),
    ],
)
async def test_a_known_number_gets_the_order_the_request_is_likely_about(
    services, sender: str, form: type[OrderForm], number: str
) -> None:
    assert await start(services, sender, form) == {"order_number": number, "verification": None}


async def test_the_order_named_in_the_message_wins(services) -> None:
    named = [entity("order_number", "#1005")]
    result = await start(services, ELI, text="what about #1005", entities=named)
    assert result == {"order_number": "1005", "verification": None}


async def test_someone_else_naming_an_order_gets_it_to_verify_later(services) -> None:
    named = [entity("order_number", "1001")]
    result = await start(services, BEN, text="where is order 1001", entities=named)
    assert result == {"order_number": "1001", "verification": None}


@pytest.mark.parametrize("sender", [STRANGER, SHELL])
async def test_no_orders_for_the_sender_leaves_the_number_to_ask(services, sender: str) -> None:
    assert await start(services, sender) == {"order_number": None, "verification": None}


async def test_an_order_verified_earlier_is_the_one_meant(services) -> None:
    result = await start(services, SHELL, slots={"verified_order": "1003"})
    assert result == {"order_number": "1003", "verification": None}


async def test_the_start_forgets_the_last_requests_proof(services) -> None:
    result = await start(services, BEN, slots={"order_number": "1001", "verification": "ok"})
    assert result == {"order_number": "1002", "verification": None}


async def test_an_answer_to_a_question_is_not_overridden(services) -> None:
    result = await start(services, AVA, text="998", intent="inform", requested_slot="order_number")
    assert result == {}


# The order number the customer gives


async def test_the_owner_is_verified_by_their_number(services, db) -> None:
    said, result = await give_number(services, AVA, "1001")
    assert said == []
    assert result == {"order_number": "1001", "verification": "phone"}
    assert attempts(db, AVA) == []


async def test_the_number_is_found_inside_a_sentence(services) -> None:
    _, result = await give_number(services, AVA, "its #998 i think")
    assert result == {"order_number": "998", "verification": "phone"}


async def test_someone_else_must_give_the_email_or_zip(services, db) -> None:
    said, result = await give_number(services, BEN, "1001")
    assert said == []
    assert result == {"order_number": "1001", "verification": None}
    assert attempts(db, BEN) == []


async def test_a_verified_order_needs_no_second_proof(services) -> None:
    _, result = await give_number(services, BEN, "1001", {"verified_order": "1001"})
    assert result == {"order_number": "1001", "verification": "ok"}


async def test_verifying_one_order_does_not_open_another(services) -> None:
    _, result = await give_number(services, BEN, "998", {"verified_order": "1001"})
    assert result == {"order_number": "998", "verification": None}


async def test_the_shell_sender_must_verify_too(services) -> None:
    _, result = await give_number(services, SHELL, "1003")
    assert result == {"order_number": "1003", "verification": None}


async def test_an_unknown_order_number_counts_as_a_failure(services, db) -> None:
    said, result = await give_number(services, BEN, "#4242")
    assert said == [reply("order_not_found", order_number="4242")]
    assert result == {"order_number": None}
    assert attempts(db, BEN) == [("4242", False)]


async def test_the_third_unknown_number_locks_without_another_apology(services, db) -> None:
    for guess in ("4242", "4243"):
        await give_number(services, BEN, guess)
    said, result = await give_number(services, BEN, "4244")
    assert said == []
    assert result == {"order_number": None, "verification": LOCKED}
    assert [ok for _, ok in attempts(db, BEN)] == [False] * 3


async def test_text_without_a_number_is_explained_and_not_counted(services, db) -> None:
    said, result = await give_number(services, BEN, "i dont know it")
    assert said == [reply("no_order_number")]
    assert result == {"order_number": None}
    assert attempts(db, BEN) == []


async def test_nothing_to_validate_changes_nothing(services, db) -> None:
    said, result = await give_number(services, STRANGER, None)
    assert (said, result) == ([], {})


async def test_a_locked_sender_giving_a_number_is_sent_to_a_person(services) -> None:
    await lock_out(services)
    said, result = await give_number(services, BEN, "1002")
    assert said == []
    assert result == {"verification": LOCKED}


# The email or ZIP


@pytest.mark.parametrize(
    "text", ["ava@example.com", "AVA@EXAMPLE.COM", "its Ava@Example.com", "98101", "98101-4321"]
)
async def test_the_right_email_or_zip_verifies(services, db, text: str) -> None:
    said, result = await answer(services, BEN, "1001", text)
    assert said == []
    assert result == {"verification": "ok", "verified_order": "1001"}
    assert attempts(db, BEN) == [("1001", True)]


async def test_a_wrong_answer_is_refused_and_counted(services, db) -> None:
    said, result = await answer(services, BEN, "1001", "ben@example.com")
    assert said == [reply("verification_failed", order_number="1001")]
    assert said == ["Sorry, that doesn't match order #1001."]
    assert result == {"verification": None}
    assert attempts(db, BEN) == [("1001", False)]


@pytest.mark.parametrize("text", ["ok", "phone", "locked"])
async def test_the_forms_own_markers_typed_by_the_customer_prove_nothing(
    services, db, text: str
) -> None:
    _, result = await answer(services, BEN, "1001", text)
    assert result == {"verification": None}
    assert attempts(db, BEN) == [("1001", False)]


async def test_no_answer_yet_is_not_a_try(services, db) -> None:
    said, result = await answer(services, BEN, "1001", None)
    assert (said, result) == ([], {})
    assert attempts(db, BEN) == []


async def test_the_third_wrong_answer_within_an_hour_locks(services, db, clock) -> None:
    for _ in range(2):
        said, result = await answer(services, BEN, "1001", WRONG_ZIP)
        assert said == [reply("verification_failed", order_number="1001")]
        assert result == {"verification": None}
        clock.advance(timedelta(minutes=29))
    said, result = await answer(services, BEN, "1001", "ben@example.com")
    assert said == []
    assert result == {"verification": LOCKED}
    assert attempts(db, BEN) == [("1001", False)] * 3


async def test_a_locked_sender_cannot_verify_even_with_the_right_answer(services, db) -> None:
    await lock_out(services)
    said, result = await answer(services, BEN, "1001", "98101")
    assert said == []
    assert result == {"verification": LOCKED}
    assert ("1001", True) not in attempts(db, BEN)


async def test_failures_older_than_an_hour_do_not_count(services, clock: FixedClock) -> None:
    for _ in range(2):
        await answer(services, BEN, "1001", WRONG_ZIP)
    clock.advance(timedelta(minutes=61))
    _, result = await answer(services, BEN, "1001", WRONG_ZIP)
    assert result == {"verification": None}
    _, result = await answer(services, BEN, "1001", "98101")
    assert result == {"verification": "ok", "verified_order": "1001"}


async def test_the_lock_lifts_an_hour_after_the_failures(services, clock: FixedClock) -> None:
    await lock_out(services)
    clock.advance(timedelta(minutes=59))
    assert (await answer(services, BEN, "1001", "98101"))[1] == {"verification": LOCKED}
    clock.advance(timedelta(minutes=2))
    _, result = await answer(services, BEN, "1001", "98101")
    assert result == {"verification": "ok", "verified_order": "1001"}


async def test_unknown_numbers_and_wrong_answers_add_up(services) -> None:
    await give_number(services, BEN, "4242")
    await answer(services, BEN, "1001", WRONG_ZIP)
    _, result = await answer(services, BEN, "1001", "ben@example.com")
    assert result == {"verification": LOCKED}


async def test_the_lock_is_per_sender(services) -> None:
    await lock_out(services, BEN)
    _, result = await answer(services, ELI, "1001", "ava@example.com")
    assert result == {"verification": "ok", "verified_order": "1001"}


async def test_the_shell_sender_verifies_with_the_zip(services) -> None:
    _, result = await answer(services, SHELL, "1003", "10006")
    assert result == {"verification": "ok", "verified_order": "1003"}


# What each form still needs


async def required(
    services: Services, form: type[OrderForm], sender: str, slots: dict[str, Any]
) -> list[str]:
    tracker = make_tracker(sender, slots=slots)
    return await form(services).required_slots(ORDER_SLOTS, CollectingDispatcher(), tracker, {})


@pytest.mark.parametrize(
    "slots",
    [
        {},
        {"order_number": "1001"},
        {"order_number": "1001", "verification": "98101"},  # an answer not yet checked
    ],
)
async def test_the_order_and_its_proof_come_first(services, slots: dict) -> None:
    for form in (ValidateStatusForm, ValidateReturnForm, ValidateAddressForm):
        assert await required(services, form, BEN, slots) == ORDER_SLOTS


async def test_a_lock_ends_every_form(services) -> None:
    for form in (ValidateStatusForm, ValidateReturnForm, ValidateCancelForm):
        slots = {"order_number": "1001", "verification": LOCKED}
        assert await required(services, form, BEN, slots) == []


@pytest.mark.parametrize(
    ("form", "sender", "number", "more"),
    [
        (ValidateStatusForm, AVA, "1001", []),
        (ValidateProblemForm, AVA, "1001", []),
        (ValidateCancelForm, CHLOE, "1003", []),
        (ValidateReturnForm, BEN, "1002", ["return_items", "return_reason"]),
        (ValidateReturnForm, ELI, "1000", ["return_items", "return_reason"]),  # the cap
        (ValidateReturnForm, AVA, "998", []),  # past the window: nothing to choose
        (ValidateReturnForm, DEV, "1004", []),  # not delivered
        (ValidateAddressForm, CHLOE, "1003", ["new_address"]),
        (ValidateAddressForm, AVA, "1001", []),  # shipped: too late to ask
    ],
)
async def test_once_proven_the_request_asks_for_what_it_needs(
    services, form: type[OrderForm], sender: str, number: str, more: list[str]
) -> None:
    slots = {"order_number": number, "verification": "phone"}
    assert await required(services, form, sender, slots) == ORDER_SLOTS + more


async def test_a_cancelled_order_needs_no_new_address(services, store) -> None:
    store.cancel_order("1003", "customer")
    slots = {"order_number": "1003", "verification": "phone"}
    assert await required(services, ValidateAddressForm, CHLOE, slots) == ORDER_SLOTS


# Chat and email threads: the same proof, and the thread joins the order's customer


async def test_an_email_from_the_orders_address_is_its_owner(services, db) -> None:
    said, result = await give_number(services, "ava@example.com", "1001")
    assert said == []
    assert result == {"order_number": "1001", "verification": "ok", "verified_order": "1001"}
    assert attempts(db, "ava@example.com") == [("1001", True)]


async def test_an_email_from_another_address_must_verify(services, db) -> None:
    _, result = await give_number(services, "ben@example.com", "1001")
    assert result == {"order_number": "1001", "verification": None}


async def test_a_verified_chat_visitor_joins_the_orders_customer(services, db, clock) -> None:
    visitor = "chat-" + "a" * 32
    with db.write() as session:
        anonymous = Customer(name="Web visitor")
        session.add(anonymous)
        session.flush()
        thread_for(session, anonymous, "chat", clock).sender_id = visitor
    _, result = await give_number(services, visitor, "1001")
    assert result["verification"] is None  # a chat id proves nothing by itself
    _, result = await answer(services, visitor, "1001", "98101")
    assert result == {"verification": "ok", "verified_order": "1001"}
    with db.read() as session:
        thread = session.scalars(
            select(Conversation).where(Conversation.sender_id == visitor)
        ).one()
        assert thread.customer.phone == AVA
        assert session.get(Customer, anonymous.id) is None
