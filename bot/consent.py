"""The consent ledger: who may be texted, and the record that proves it."""

from __future__ import annotations

from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock, SystemClock
from bot.errors import PigeonError
from bot.phone import mask
from bot.store.models import ConsentEvent, Customer

OPT_IN = "opt_in"
OPT_OUT = "opt_out"


class ConsentRefused(PigeonError):
    """Consent cannot be recorded this way; the message says why."""


class ConsentState(str, Enum):
    OPTED_IN = "opted_in"  # a recorded opt-in, not revoked since
    OPTED_OUT = "opted_out"  # revoked: nothing but the one confirmation may follow
    UNKNOWN = "unknown"  # never asked: replies to the customer only, no proactive texts


def consent_state(session: Session, phone: str) -> ConsentState:
    """The state the latest ledger entry for `phone` leaves it in."""
    latest = session.execute(
        select(ConsentEvent.action)
        .where(ConsentEvent.phone == phone)
        .order_by(ConsentEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if latest is None:
        return ConsentState.UNKNOWN
    return ConsentState.OPTED_OUT if latest == OPT_OUT else ConsentState.OPTED_IN


def is_opted_out(session: Session, phone: str) -> bool:
    return consent_state(session, phone) is ConsentState.OPTED_OUT


def record_opt_out(
    session: Session,
    phone: str,
    source: str,
    *,
    detail: str | None = None,
    clock: Clock | None = None,
) -> ConsentEvent:
    """Revoke consent (STOP, words, an agent, the carrier); every request is kept."""
    return _record(session, phone, OPT_OUT, source, None, detail, clock)


def record_opt_in(
    session: Session,
    phone: str,
    source: str,
    *,
    disclosure: str | None,
    detail: str | None = None,
    clock: Clock | None = None,
) -> ConsentEvent:
    """Give consent, with the disclosure text the customer saw or was sent."""
    return _record(session, phone, OPT_IN, source, disclosure, detail, clock)


def history(session: Session, phone: str) -> list[ConsentEvent]:
    """Every ledger entry for `phone`, oldest first."""
    query = select(ConsentEvent).where(ConsentEvent.phone == phone).order_by(ConsentEvent.id)
    return list(session.execute(query).scalars())


def _record(
    session: Session,
    phone: str,
    action: str,
    source: str,
    disclosure: str | None,
    detail: str | None,
    clock: Clock | None,
) -> ConsentEvent:
    customer_id = session.execute(
        select(Customer.id).where(Customer.phone == phone)
    ).scalar_one_or_none()
    event = ConsentEvent(
        phone=phone,
        customer_id=customer_id,
        action=action,
        source=source,
        disclosure=disclosure,
        detail=detail,
        recorded_at=(clock or SystemClock()).now(),
    )
    session.add(event)
    session.flush()
    return event


def record_agent_consent(
    session: Session,
    phone: str,
    agent: str,
    evidence: str,
    *,
    clock: Clock | None = None,
) -> ConsentEvent:
    """Consent the customer gave an agent on another channel (email, chat, a call).

    The agent's words about where and how it was given are the evidence. A number that
    opted out must opt back in itself by texting START: the carrier blocks texts to it
    until then (Twilio error 21610), whatever the ledger says.
    """
    if consent_state(session, phone) is ConsentState.OPTED_OUT:
        raise ConsentRefused(f"{mask(phone)} opted out: the customer must text START to opt in")
    if not evidence.strip():
        raise ConsentRefused("say where and how the customer gave consent")
    return record_opt_in(
        session,
        phone,
        "agent",
        disclosure=evidence.strip()[:2000],
        detail=f"recorded by {agent}",
        clock=clock,
    )
