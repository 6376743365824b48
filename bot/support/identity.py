"""Who may see an order: the number on it, or someone who knows its email or ZIP."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.oms.base import Order
from bot.store.models import VerificationAttempt

MAX_FAILURES = 3
FAILURE_WINDOW = timedelta(hours=1)
EMAIL = re.compile(r"[^\s<>,;:()\"']+@[^\s<>,;:()\"']+")
ZIP = re.compile(r"(?<!\d)(\d{5})(?:[- ]?\d{4})?(?!\d)")  # a US ZIP, or ZIP+4


def owns_order(order: Order, phone: str | None) -> bool:
    """True when the texting number is the one on the order."""
    return bool(phone) and order.phone == phone


def wrote_from_order_email(order: Order, email: str | None) -> bool:
    """True when an email thread's address is the one on the order.

    A forged From gains nothing: the answer goes by email to that address, the owner's.
    """
    return bool(email and order.email) and email == order.email.strip().casefold()


def secret_matches(order: Order, answer: str | None) -> bool:
    """True when `answer` holds the order's email or its shipping ZIP (ZIP+4 too).

    Customers answer in sentences ("my email is ava@example.com"); only the first email
    or ZIP in the answer counts, so one message is one try.
    """
    text = answer or ""
    email = EMAIL.search(text)
    if email:
        given = email.group().strip(".").casefold()
        return bool(order.email) and given == order.email.strip().casefold()
    given_zip = ZIP.search(text)
    order_zip = ZIP.search((order.shipping_address and order.shipping_address.zip) or "")
    return bool(given_zip and order_zip) and given_zip.group(1) == order_zip.group(1)


def recent_failures(session: Session, sender_id: str, now: datetime) -> int:
    """Failed verifications by this sender within the window."""
    query = select(func.count()).where(
        VerificationAttempt.sender_id == sender_id,
        VerificationAttempt.succeeded.is_(False),
        VerificationAttempt.created_at > now - FAILURE_WINDOW,
    )
    return session.execute(query).scalar_one()


def is_locked(session: Session, sender_id: str, now: datetime) -> bool:
    """After MAX_FAILURES wrong answers in an hour, only a person may verify the customer."""
    return recent_failures(session, sender_id, now) >= MAX_FAILURES


def record_attempt(
    session: Session, sender_id: str, order_ref: str | None, succeeded: bool, now: datetime
) -> None:
    session.add(
        VerificationAttempt(
            sender_id=sender_id, order_ref=order_ref, succeeded=succeeded, created_at=now
        )
    )
    session.flush()
