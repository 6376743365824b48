"""An inbound text as Twilio posts it: parsed, stored, and sorted before the assistant sees it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import Settings
from bot.consent import is_opted_out
from bot.inbox import Stored, record_inbound
from bot.phone import normalize
from bot.sms.compliance import handle_keyword
from bot.sms.keywords import detect
from bot.store import Database
from bot.store.models import Conversation, Message, WebhookReceipt

MAX_MEDIA = 10
# Rasa reads a text starting with "/" (after stripping whitespace) as an intent with entities.
_COMMAND_PREFIX = re.compile(r"^[\s/]+")


class BadInbound(ValueError):
    """The form is not an inbound text we can store; the message says which field."""


@dataclass(frozen=True)
class InboundSms:
    sid: str
    account_sid: str
    from_phone: str  # E.164
    to: str
    body: str
    media: tuple[dict[str, str], ...] = ()


def parse_form(form: Mapping[str, str]) -> InboundSms:
    """Read Twilio's fields (MessageSid or its older aliases); unknown fields are ignored."""
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid") or ""
    if not sid.strip():
        raise BadInbound("MessageSid is missing")
    phone = normalize(form.get("From"))
    if phone is None:
        raise BadInbound("From is not a phone number")
    return InboundSms(
        sid=sid.strip()[:64],
        account_sid=(form.get("AccountSid") or "").strip(),
        from_phone=phone,
        to=(form.get("To") or "").strip(),
        body=form.get("Body") or "",
        media=_media(form),
    )


def _media(form: Mapping[str, str]) -> tuple[dict[str, str], ...]:
    try:
        count = min(int(form.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError:
        raise BadInbound("NumMedia is not a number") from None
    items = []
    for n in range(max(count, 0)):
        url = form.get(f"MediaUrl{n}")
        if url:
            items.append({"url": url, "content_type": form.get(f"MediaContentType{n}") or ""})
    return tuple(items)


@dataclass(frozen=True)
class Accepted:
    stored: Stored
    for_assistant: bool  # False: a repeat, a compliance keyword, or an opted-out number


def accept(
    db: Database,
    sms: InboundSms,
    settings: Settings,
    clock: Clock,
    receipt_id: int | None = None,
) -> Accepted:
    """Put the text in its thread, then decide who answers: nobody, compliance, the assistant.

    The webhook receipt it came from (if any) is marked processed in the same transaction.
    """
    with db.write() as session:
        return _accept(session, sms, settings, clock, receipt_id)


Receipt = tuple[InboundSms, int | None]  # a text and the webhook receipt it was stored as


def accept_many(
    db: Database, texts: Sequence[Receipt], settings: Settings, clock: Clock
) -> list[Accepted]:
    """`accept` for a group of texts in one transaction (a burst shares one commit).

    Should the group fail, each text is accepted on its own, so one bad text cannot hold
    back the others; its own error is then raised to its caller alone.
    """
    try:
        with db.write() as session:
            return [_accept(session, sms, settings, clock, rid) for sms, rid in texts]
    except Exception:
        if len(texts) == 1:
            raise
    return [_accepted_or_error(db, sms, settings, clock, rid) for sms, rid in texts]


def _accepted_or_error(
    db: Database, sms: InboundSms, settings: Settings, clock: Clock, receipt_id: int | None
) -> Accepted | Exception:
    try:
        return accept(db, sms, settings, clock, receipt_id)
    except Exception as exc:  # handed to this text's caller, which records it
        return exc


def _accept(
    session: Session,
    sms: InboundSms,
    settings: Settings,
    clock: Clock,
    receipt_id: int | None,
) -> Accepted:
    if receipt_id is not None:
        receipt = session.get(WebhookReceipt, receipt_id)
        receipt.status, receipt.processed_at = "processed", clock.now()
    stored = record_inbound(
        session,
        phone=sms.from_phone,
        channel="sms",
        body=sms.body,
        external_id=sms.sid,
        media=list(sms.media),
        clock=clock,
    )
    if stored.duplicate:
        return Accepted(stored, False)
    message = session.get(Message, stored.message_id)
    conversation = session.get(Conversation, stored.conversation_id)
    keyword = detect(sms.body)
    if keyword and handle_keyword(session, keyword, conversation, settings, clock):
        message.status = "keyword"
        return Accepted(stored, False)
    if is_opted_out(session, sms.from_phone):
        message.status = "held"  # shown in the inbox, never answered
        return Accepted(stored, False)
    return Accepted(stored, True)


def mark_many(db: Database, outcomes: Sequence[tuple[int, str | None]]) -> list[None]:
    """Record that the assistant answered (or, with an error, visibly failed to answer) each
    of a group of stored texts, in one transaction."""
    with db.write() as session:
        for message_id, error in outcomes:
            message = session.get(Message, message_id)
            message.status = "failed" if error else "handled"
            message.error_message = error
    return [None] * len(outcomes)


def is_unanswered(db: Database, message_id: int) -> bool:
    """True while a stored text still waits for the assistant."""
    with db.read() as session:
        status = session.execute(
            select(Message.status).where(Message.id == message_id)
        ).scalar_one_or_none()
    return status == "received"


def assistant_text(body: str) -> str:
    """The body as the assistant may see it: no leading "/", so no customer-made intents."""
    return _COMMAND_PREFIX.sub("", body)
