"""STOP, START and HELP: answered by Pigeon itself, never by the assistant."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import Settings
from bot.consent import ConsentState, consent_state, record_opt_in, record_opt_out
from bot.notify.offers import latest_offer
from bot.outbox import cancel_queued, enqueue
from bot.sms.keywords import Keyword, KeywordKind
from bot.store.models import Conversation, Customer


def help_text(settings: Settings) -> str:
    """CTIA's HELP answer: brand, contact, frequency, rates, how to opt out."""
    return (
        f"{settings.store_name}: order updates and support. Help: {settings.support_email}, "
        f"{settings.support_hours}. Msg frequency varies. Msg & data rates may apply. "
        "Reply STOP to opt out."
    )


def stop_text(settings: Settings) -> str:
    return (
        f"{settings.store_name}: You're unsubscribed and won't get more texts from us. "
        "Reply START to opt back in."
    )


def start_text(settings: Settings) -> str:
    return (
        f"{settings.store_name}: You're subscribed to order updates and support replies. "
        "Msg frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to stop."
    )


def handle_keyword(
    session: Session,
    keyword: Keyword,
    conversation: Conversation,
    settings: Settings,
    clock: Clock,
) -> bool:
    """Act on a compliance keyword; False for a YES that is just a word in a conversation."""
    customer: Customer = conversation.customer
    phone = customer.phone
    state = consent_state(session, phone)
    if keyword.kind is KeywordKind.OPT_OUT:
        record_opt_out(session, phone, "keyword", detail=keyword.word, clock=clock)
        cancel_queued(session, phone, "recipient opted out")
        if state is not ConsentState.OPTED_OUT:  # one confirmation, not one per STOP
            enqueue(
                session,
                conversation,
                stop_text(settings),
                "compliance",
                to_phone=phone,
                clock=clock,
            )
        return True
    if keyword.kind is KeywordKind.OPT_IN:
        asked = customer.opt_in_requested_at is not None
        if keyword.conditional and state is not ConsentState.OPTED_OUT and not asked:
            return False
        text = start_text(settings)
        offer = latest_offer(session, phone) if asked and state is ConsentState.UNKNOWN else None
        disclosure = f"{offer.text} / {text}" if offer else text
        detail = (
            f"{keyword.word} to the offer for order {offer.order_id}" if offer else keyword.word
        )
        record_opt_in(session, phone, "keyword", disclosure=disclosure, detail=detail, clock=clock)
        customer.opt_in_requested_at = None
        enqueue(session, conversation, text, "compliance", to_phone=phone, clock=clock)
        return True
    enqueue(session, conversation, help_text(settings), "compliance", to_phone=phone, clock=clock)
    return True
