"""Asking a customer without consent whether they want shipping texts: once per order.

After the assistant answers about an open order for a number with no consent on record,
it offers "Want shipping updates for #1003 by text? Reply YES". A YES right after is an
opt-in (bot.sms.compliance), recorded with this offer's text as the disclosure. Any
other reply in between makes a later YES just a word again.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.consent import ConsentState, consent_state
from bot.oms.base import Order
from bot.store.models import ConsentOffer, Customer
from bot.support.orders import is_open


def should_offer(session: Session, phone: str, order: Order) -> bool:
    """An open order on this number, no consent either way, and not offered for it before."""
    if order.phone != phone or not is_open(order):
        return False
    if consent_state(session, phone) is not ConsentState.UNKNOWN:
        return False
    asked = session.execute(
        select(ConsentOffer.id).where(
            ConsentOffer.phone == phone, ConsentOffer.order_id == order.id
        )
    ).first()
    return asked is None


def record_offer(
    session: Session, customer: Customer, order_id: str, text: str, clock: Clock
) -> None:
    """The offer went into the outbox: a YES now opts in."""
    try:
        with session.begin_nested():
            session.add(
                ConsentOffer(
                    phone=customer.phone, order_id=order_id, text=text, asked_at=clock.now()
                )
            )
    except IntegrityError:
        pass  # offered already (a retried turn): still waiting for the answer
    customer.opt_in_requested_at = clock.now()


def latest_offer(session: Session, phone: str) -> ConsentOffer | None:
    return session.execute(
        select(ConsentOffer)
        .where(ConsentOffer.phone == phone)
        .order_by(ConsentOffer.id.desc())
        .limit(1)
    ).scalar_one_or_none()
