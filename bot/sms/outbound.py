"""Queueing a text to a phone number in that customer's SMS thread."""

from __future__ import annotations

from bot.inbox import customer_for_phone, thread_for
from bot.notify.offers import record_offer
from bot.outbox import enqueue
from bot.phone import normalize
from bot.services import Services
from bot.store.models import OutboxItem


def enqueue_for_phone(
    services: Services,
    phone: str,
    body: str,
    purpose: str,
    *,
    media_urls: list[str] | None = None,
    consent_offer: str | None = None,
) -> OutboxItem | None:
    """Queue `body` for `phone`; None when the recipient is not a phone number.

    `consent_offer` names the order whose shipping texts `body` offers ("Reply YES"):
    YES is an opt-in only right after such an offer, so any other reply withdraws it.
    """
    number = normalize(phone) if phone.startswith("+") else None
    if number is None:
        return None
    with services.db.write() as session:
        customer = customer_for_phone(session, number)
        conversation = thread_for(session, customer, "sms", services.clock, reopen=False)
        if consent_offer:
            record_offer(session, customer, consent_offer, body, services.clock)
        elif purpose in ("reply", "agent"):
            customer.opt_in_requested_at = None
        return enqueue(
            session,
            conversation,
            body,
            purpose,
            to_phone=number,
            media_urls=media_urls,
            clock=services.clock,
        )
