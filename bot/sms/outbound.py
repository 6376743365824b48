"""Queueing a text to a phone number in that customer's SMS thread."""

from __future__ import annotations

from bot.inbox import customer_for_phone, thread_for
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
) -> OutboxItem | None:
    """Queue `body` for `phone`; None when the recipient is not a phone number."""
    number = normalize(phone) if phone.startswith("+") else None
    if number is None:
        return None
    with services.db.write() as session:
        customer = customer_for_phone(session, number)
        conversation = thread_for(session, customer, "sms", services.clock, reopen=False)
        return enqueue(
            session,
            conversation,
            body,
            purpose,
            to_phone=number,
            media_urls=media_urls,
            clock=services.clock,
        )
