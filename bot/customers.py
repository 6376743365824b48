"""One customer across channels: a phone, an email and a chat visitor joined into one record.

A customer who emails on Monday and texts on Tuesday is one person. Records join in three
ways: the order system knows an email's phone (or a phone's email); a chat visitor or an
email sender proves an order is theirs (verification); a text and an email name the same
order. Joining moves every thread, consent entry and notification to the kept record.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.inbox import customer_for_phone
from bot.oms.base import Order, OrderSystem, OrderSystemError
from bot.phone import mask
from bot.store.models import ConsentEvent, Conversation, Customer, Notification

log = logging.getLogger(__name__)

ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")


def normalize_email(address: str | None) -> str | None:
    """`Ava <Ava@Example.com>` -> `ava@example.com`; None when there is no address."""
    match = ADDRESS.search(address or "")
    return match.group().strip(".").casefold() if match else None


def mask_email(address: str | None) -> str:
    """`ava@example.com` -> `a***@example.com`, for logs."""
    local, _, domain = (address or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def by_email(session: Session, address: str) -> Customer | None:
    """The customer with this (normalised) email; the oldest when several share it."""
    return session.execute(
        select(Customer)
        .where(func.lower(Customer.email) == address)
        .order_by(Customer.id)
        .limit(1)
        .with_for_update()
    ).scalar_one_or_none()


def customer_for_email(
    session: Session, address: str, orders: OrderSystem | None = None, name: str | None = None
) -> Customer:
    """The customer writing from `address`, created on first contact.

    A new address is looked up in the order system: when an order placed with it carries a
    phone, the email joins that phone's customer, so the texts and emails share a history.
    """
    email = normalize_email(address)
    if email is None:
        raise ValueError("not an email address")
    customer = by_email(session, email)
    if customer is not None:
        return customer
    phone = _phone_on_orders(orders, email)
    if phone:
        customer = customer_for_phone(session, phone)
        if not customer.email:
            customer.email = email
            customer.name = customer.name or name
            log.info("email %s joined the customer of %s", mask_email(email), mask(phone))
            return customer
    customer = Customer(email=email, name=name)
    session.add(customer)
    session.flush()
    return customer


def _phone_on_orders(orders: OrderSystem | None, email: str) -> str | None:
    if orders is None:
        return None
    try:
        found = orders.orders_for_email(email)
    except OrderSystemError as exc:  # the store is down: join later, on verification
        log.warning("order system unavailable for an email lookup: %s", exc)
        return None
    return next((order.phone for order in found if order.phone), None)


def join_verified(session: Session, sender_id: str, order: Order) -> Customer | None:
    """The sender of `sender_id` proved `order` is theirs: their thread joins its customer.

    The order's customer is found by its phone (created if need be) or else its email. A
    visitor's anonymous record is merged into it; an SMS customer learns the order's email.
    Returns the customer the thread now belongs to, or None when the inbox has no thread.
    """
    conversation = session.execute(
        select(Conversation)
        .where(Conversation.sender_id == sender_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if conversation is None:
        return None
    current = session.get(Customer, conversation.customer_id)
    email = normalize_email(order.email)
    if order.phone:
        owner = customer_for_phone(session, order.phone)
    elif email:
        owner = by_email(session, email)
    else:
        owner = None
    if owner is None:  # the order names no one we know yet: the sender is its customer
        if email and not current.email:
            current.email = email
        return current
    if email and not owner.email:
        owner.email = email
    if owner.id != current.id:
        merge(session, keep=owner, absorbed=current)
    emailed = by_email(session, email) if email else None
    if emailed is not None and emailed.id != owner.id:  # wrote in before the store knew
        merge(session, keep=owner, absorbed=emailed)
    return owner


def merge(session: Session, *, keep: Customer, absorbed: Customer) -> bool:
    """Move everything of `absorbed` to `keep` and delete it; False when they cannot be one.

    Two records with different phone numbers are two people (or one with two phones, which
    agents may know better than Pigeon): they are left apart.
    """
    if keep.id == absorbed.id:
        return True
    if absorbed.phone and keep.phone and absorbed.phone != keep.phone:
        return False
    for model in (Conversation, ConsentEvent, Notification):
        session.execute(
            update(model)
            .where(model.customer_id == absorbed.id)
            .values(customer_id=keep.id)
            .execution_options(synchronize_session=False)
        )
    fields = ("phone", "email", "name", "time_zone", "region", "opt_in_requested_at")
    inherited = {f: getattr(absorbed, f) for f in fields if getattr(keep, f) is None}
    absorbed_id = absorbed.id
    session.flush()
    session.expire_all()  # the moved rows are reloaded: deleting must not orphan them
    session.delete(session.get(Customer, absorbed_id))
    session.flush()  # the absorbed phone is free before the kept record takes it
    for field, value in inherited.items():
        if value is not None:
            setattr(keep, field, value)
    session.flush()
    log.info("customer %d joined customer %d", absorbed_id, keep.id)
    return True
