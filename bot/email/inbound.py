"""An inbound email stored in its thread, and whether the assistant should answer it.

Stored in one transaction (customer, thread, message) before the webhook is acknowledged.
A repeated Message-ID is refused by the database (messages.external_id is its sha256), so
a webhook SendGrid sends twice is one message, answered once. Auto-replies, bounces and
mail from the store itself are kept and shown, never answered: answering them loops.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import Settings
from bot.customers import by_email, customer_for_email, mask_email, normalize_email
from bot.email.outbound import external_id
from bot.email.parse import InboundEmail
from bot.email.quotes import strip_quotes
from bot.inbox import thread_for
from bot.oms.base import Order, OrderSystem, OrderSystemError
from bot.sms.inbound import assistant_text
from bot.store import Database
from bot.store.models import Conversation, Message

log = logging.getLogger(__name__)

MAX_BODY = 20_000  # characters of the customer's new text kept as the message body
MAX_FOR_ASSISTANT = 2_000  # characters the assistant reads: a question, not a novel
_ROBOT_SENDER = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+._-].*)?$", re.I
)
_BULK = {"bulk", "junk", "list", "auto_reply"}
_SUBJECT_PREFIX = re.compile(r"^\s*((re|aw|sv|fwd?|wg)\s*:\s*)+", re.I)


@dataclass(frozen=True)
class Turn:
    """A stored email for the assistant to answer."""

    message_id: int  # messages.id
    conversation_id: int
    sender_id: str  # the Rasa conversation id: the sender's normalised address
    text: str  # what the assistant reads
    email_id: str  # the email's Message-ID


@dataclass(frozen=True)
class Accepted:
    message_id: int | None  # None for a repeat
    conversation_id: int
    turn: Turn | None  # None: a repeat, or held (see `held`)
    held: str | None = None  # why it is kept but not answered

    @property
    def duplicate(self) -> bool:
        return self.message_id is None


def not_answered_because(email: InboundEmail, settings: Settings) -> str | None:
    """Why the assistant must not answer this email (a loop or a robot), or None."""
    own = {normalize_email(settings.email_sender), normalize_email(settings.support_email)}
    if email.from_address in own:
        return "mail from the store's own address"
    if email.auto_submitted and email.auto_submitted.split(";")[0].strip() != "no":
        return f"automatic email (Auto-Submitted: {email.auto_submitted[:40]})"
    if email.precedence in _BULK:
        return f"bulk or automatic email (Precedence: {email.precedence})"
    if email.autoreply_header:
        return "automatic reply (X-Autoreply)"
    if email.envelope_from == "" or _ROBOT_SENDER.match(email.from_address.partition("@")[0]):
        return "bounce or robot sender"
    return None


def accept_email(
    db: Database, email: InboundEmail, settings: Settings, orders: OrderSystem, clock: Clock
) -> Accepted:
    """Store the email in its customer's email thread; say whether the assistant answers.

    A new address is looked up in the order system before the write transaction, so a
    slow store never holds the database's write lock.
    """
    lookup = _lookup_if_new(db, orders, email.from_address)
    with db.write() as session:
        return _accept(session, email, settings, lookup, clock)


def _accept(
    session: Session,
    email: InboundEmail,
    settings: Settings,
    orders: OrderSystem | None,
    clock: Clock,
) -> Accepted:
    _lock_sender(session, email.from_address)
    held = not_answered_because(email, settings)
    customer = customer_for_email(session, email.from_address, orders, email.from_name)
    conversation = thread_for(session, customer, "email", clock, reopen=False)
    if conversation.sender_id is None:
        conversation.sender_id = email.from_address
    body = strip_quotes(email.text)[:MAX_BODY]
    message = _message(conversation, email, body, clock)
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # this Message-ID is stored already
        return Accepted(None, conversation.id, None)
    conversation.last_message_at = message.created_at
    if held is None and conversation.status == "resolved":  # a robot's mail reopens nothing
        conversation.status, conversation.resolved_at = "open", None
    text = for_assistant(body, email.subject)
    if held is None and not text:
        held = "nothing to read: no text and no subject"
    if held is not None:
        message.status, message.error_message = "held", held  # agents see why
        log.info("email from %s kept, not answered: %s", mask_email(email.from_address), held)
        return Accepted(message.id, conversation.id, None, held)
    turn = Turn(message.id, conversation.id, conversation.sender_id, text, email.message_id)
    return Accepted(message.id, conversation.id, turn)


def _message(conversation: Conversation, email: InboundEmail, body: str, clock: Clock) -> Message:
    now = clock.now()
    return Message(
        conversation_id=conversation.id,
        direction="in",
        author="customer",
        channel="email",
        body=body,
        external_id=external_id(email.message_id),
        status="received",
        email_meta={
            "message_id": email.message_id,
            "subject": email.subject,
            "in_reply_to": email.in_reply_to,
            "references": list(email.references),
            "attachments": [a.as_json() for a in email.attachments],
        },
        created_at=now,
        updated_at=now,
    )


def _lock_sender(session: Session, address: str) -> None:
    """On PostgreSQL, one transaction per sender at a time, so a new address's first emails
    make one customer and one thread however many arrive at once (SQLite writes one by one)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"email:{address}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def for_assistant(body: str, subject: str) -> str:
    """What the assistant reads: the new text, else the subject (without Re:), no "/" intents."""
    text = body.strip() or _SUBJECT_PREFIX.sub("", subject or "").strip()
    return assistant_text(text)[:MAX_FOR_ASSISTANT].strip()


class _Prefetched:
    """The order system's answer for one address, asked before the transaction began."""

    def __init__(self, orders: OrderSystem, address: str) -> None:
        self._found: list[Order] = []
        self._error: OrderSystemError | None = None
        try:
            self._found = orders.orders_for_email(address)
        except OrderSystemError as exc:  # customer_for_email logs it and goes on
            self._error = exc

    def orders_for_email(self, email: str) -> list[Order]:
        if self._error is not None:
            raise self._error
        return self._found


def _lookup_if_new(db: Database, orders: OrderSystem, address: str) -> OrderSystem | None:
    with db.read() as session:
        if by_email(session, address) is not None:
            return None  # a known customer: the order system is not asked
    return _Prefetched(orders, address)  # type: ignore[return-value]
