"""Pigeon's own tables: customers, consent, conversations, messages, outbox, webhooks, agents."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.sql.expression import false

from bot.store.types import UTCDateTime

# Stable constraint names, so migrations read the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING))

# Allowed values of the string-valued state columns.
CHANNELS = ("sms", "chat", "email")
CONVERSATION_STATUSES = ("open", "pending", "resolved")
DIRECTIONS = ("in", "out")
AUTHORS = ("customer", "assistant", "agent", "system")
CONSENT_ACTIONS = ("opt_in", "opt_out")
CONSENT_SOURCES = ("checkout", "keyword", "customer_request", "agent", "carrier", "import")
OUTBOX_STATUSES = ("queued", "sending", "sent", "failed", "cancelled", "unknown")
NOTIFICATION_KINDS = ("shipped", "out_for_delivery", "delivered", "exception")
# queued: may go at due_at; sending: handed to the assistant; sent: in the outbox;
# suppressed: never sent (no consent, no number); superseded: later news came first.
NOTIFICATION_STATUSES = ("queued", "sending", "sent", "suppressed", "superseded", "expired")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Customer(Base):
    """A person who contacts the store, on any channel."""

    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    phone = Column(String(20), unique=True)  # E.164
    email = Column(String(320), index=True)
    name = Column(String(200))
    time_zone = Column(String(64))  # IANA name, for quiet hours
    region = Column(String(8))  # state or province code, for state quiet-hour rules
    # When we last texted "reply YES to get updates": a bare YES then means opt in.
    opt_in_requested_at = Column(UTCDateTime)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    conversations = relationship("Conversation", back_populates="customer")


class ConsentEvent(Base):
    """The consent ledger: every opt-in and opt-out of a number, never updated or deleted."""

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_phone_id", "phone", "id"),)

    id = Column(Integer, primary_key=True)
    phone = Column(String(20), nullable=False)  # E.164; consent belongs to the number
    customer_id = Column(Integer, ForeignKey("customers.id"))
    action = Column(String(16), nullable=False)  # CONSENT_ACTIONS
    source = Column(String(32), nullable=False)  # CONSENT_SOURCES
    disclosure = Column(Text)  # the text the customer was shown or sent
    detail = Column(Text)  # e.g. the keyword, or the agent who recorded it
    recorded_at = Column(UTCDateTime, nullable=False, default=utcnow)


class Agent(Base):
    """A support agent who signs in to the inbox."""

    __tablename__ = "agents"

    id = Column(Integer, primary_key=True)
    email = Column(String(320), nullable=False, unique=True)
    name = Column(String(200))
    password_hash = Column(String(255), nullable=False)
    is_active = Column(Boolean, nullable=False, default=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    last_login_at = Column(UTCDateTime)


class AgentSession(Base):
    """A signed-in agent's browser: the cookie holds the token, this row only its hash."""

    __tablename__ = "agent_sessions"

    id = Column(Integer, primary_key=True)
    agent_id = Column(Integer, ForeignKey("agents.id"), nullable=False, index=True)
    token_hash = Column(String(64), nullable=False, unique=True)  # sha256 hex of the cookie
    csrf_token = Column(String(64), nullable=False)  # every form and API write sends it back
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False)

    agent = relationship("Agent")


class ConversationRead(Base):
    """How far an agent has read a conversation: newer messages are unread for them."""

    __tablename__ = "conversation_reads"
    __table_args__ = (UniqueConstraint("agent_id", "conversation_id"),)

    id = Column(Integer, primary_key=True)
    agent_id = Column(Integer, ForeignKey("agents.id"), nullable=False)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False)
    last_message_id = Column(Integer, nullable=False)
    read_at = Column(UTCDateTime, nullable=False, default=utcnow)


class SignInAttempt(Base):
    """A sign-in try, kept for rate limiting (by address and by email) across desk processes."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index("ix_sign_in_attempts_at", "attempted_at"),)

    id = Column(Integer, primary_key=True)
    email = Column(String(320), nullable=False, index=True)
    address = Column(String(64), nullable=False, index=True)
    succeeded = Column(Boolean, nullable=False, default=False)
    attempted_at = Column(UTCDateTime, nullable=False, default=utcnow)


class Conversation(Base):
    """One thread between a customer and the store on one channel."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_status_last", "status", "last_message_at"),)

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    channel = Column(String(16), nullable=False)  # CHANNELS
    # The assistant's id for this thread (Rasa's sender_id): the phone number for SMS.
    sender_id = Column(String(255), index=True)
    status = Column(String(16), nullable=False, default="open")  # CONVERSATION_STATUSES
    assignee_id = Column(Integer, ForeignKey("agents.id"))
    handoff_reason = Column(Text)
    handoff_summary = Column(Text)
    last_message_at = Column(UTCDateTime)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    resolved_at = Column(UTCDateTime)

    customer = relationship("Customer", back_populates="conversations")
    assignee = relationship("Agent")
    messages = relationship("Message", back_populates="conversation", order_by="Message.id")


class Message(Base):
    """Anything said in a conversation, by anyone, in either direction."""

    __tablename__ = "messages"
    __table_args__ = (
        # A provider's id (Twilio MessageSid) is stored once: repeats are refused here.
        UniqueConstraint("channel", "external_id", name="uq_messages_channel_external_id"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False)
    direction = Column(String(4), nullable=False)  # DIRECTIONS
    author = Column(String(16), nullable=False)  # AUTHORS
    agent_id = Column(Integer, ForeignKey("agents.id"))
    channel = Column(String(16), nullable=False)
    body = Column(Text, nullable=False, default="")
    media = Column(JSON)  # [{"url": ..., "content_type": ...}]
    external_id = Column(String(64))
    status = Column(String(16))  # received, queued, sent, delivered, undelivered, failed, ...
    error_code = Column(String(16))
    error_message = Column(Text)
    segments = Column(Integer)
    # Email only: {"message_id", "subject", "in_reply_to", "references": [...],
    # "attachments": [{"filename", "content_type", "size"}]}; attachments are noted, never kept.
    email_meta = Column(JSON)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    conversation = relationship("Conversation", back_populates="messages")


class OutboxItem(Base):
    """A text waiting to be sent; the dispatcher claims, sends and records it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "priority", "due_at"),)

    id = Column(Integer, primary_key=True)
    message_id = Column(Integer, ForeignKey("messages.id"), nullable=False, unique=True)
    to_phone = Column(String(20), nullable=False)
    body = Column(Text, nullable=False, default="")
    media_urls = Column(JSON)
    purpose = Column(String(16), nullable=False)  # reply, proactive, agent, compliance
    priority = Column(Integer, nullable=False, default=3)  # 0 goes first: see bot.outbox
    status = Column(String(16), nullable=False, default="queued")  # OUTBOX_STATUSES
    due_at = Column(UTCDateTime, nullable=False, default=utcnow)
    attempts = Column(Integer, nullable=False, default=0)
    claimed_by = Column(String(64))
    claimed_at = Column(UTCDateTime)
    provider_sid = Column(String(64), unique=True)
    last_error = Column(Text)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    sent_at = Column(UTCDateTime)


class EmailOutboxItem(Base):
    """An email waiting to go out by SMTP; the desk's email sender claims, sends and records it."""

    __tablename__ = "email_outbox"
    __table_args__ = (Index("ix_email_outbox_due", "status", "due_at"),)

    id = Column(Integer, primary_key=True)
    message_id = Column(Integer, ForeignKey("messages.id"), nullable=False, unique=True)
    to_address = Column(String(320), nullable=False)
    subject = Column(Text, nullable=False, default="")
    body_text = Column(Text, nullable=False, default="")
    body_html = Column(Text)
    # Threading headers: {"Message-ID": ..., "In-Reply-To": ..., "References": ...}
    headers = Column(JSON)
    status = Column(String(16), nullable=False, default="queued")  # OUTBOX_STATUSES
    due_at = Column(UTCDateTime, nullable=False, default=utcnow)
    attempts = Column(Integer, nullable=False, default=0)
    claimed_at = Column(UTCDateTime)
    last_error = Column(Text)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    sent_at = Column(UTCDateTime)


class WebhookReceipt(Base):
    """A webhook received, kept by its provider id so a repeat is recognised."""

    __tablename__ = "webhook_receipts"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_webhook_receipts_source_external_id"),
    )

    id = Column(Integer, primary_key=True)
    source = Column(String(16), nullable=False)  # twilio, shopify
    external_id = Column(String(128), nullable=False)
    topic = Column(String(64))
    payload = Column(Text)
    status = Column(String(16), nullable=False, default="received")  # processed, ignored, failed
    error = Column(Text)
    attempts = Column(Integer, nullable=False, default=0, server_default="0")
    retry_at = Column(UTCDateTime)  # not before: a lease while processing, or a retry's time
    outcome = Column(Text)  # what processing did, in words (for the inbox and operators)
    received_at = Column(UTCDateTime, nullable=False, default=utcnow)
    processed_at = Column(UTCDateTime)


class Notification(Base):
    """A proactive shipping text: at most one per fulfillment and kind, ever."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("fulfillment_id", "kind", name="uq_notifications_fulfillment_id_kind"),
        Index("ix_notifications_status_due", "status", "due_at"),
    )

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    phone = Column(String(20))  # E.164, the number on the order
    order_id = Column(String(64), nullable=False)
    order_name = Column(String(64))
    fulfillment_id = Column(String(64), nullable=False)
    kind = Column(String(32), nullable=False)  # NOTIFICATION_KINDS
    event_at = Column(UTCDateTime, nullable=False)
    status = Column(String(16), nullable=False)  # NOTIFICATION_STATUSES
    reason = Column(Text)  # why it was deferred, suppressed or superseded
    details = Column(JSON)  # what the text says: status, carrier, tracking link, ETA, place
    due_at = Column(UTCDateTime)  # when it may go (quiet hours, retries)
    attempts = Column(Integer, nullable=False, default=0, server_default="0")
    claimed_at = Column(UTCDateTime)
    last_error = Column(Text)
    message_id = Column(Integer, ForeignKey("messages.id"))
    # The text ended with "Reply STOP to opt out" (the first to a number, then monthly).
    opt_out_hint = Column(Boolean, nullable=False, default=False, server_default=false())
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)


class Shipment(Base):
    """The latest news known of one fulfillment: later events never move it back."""

    __tablename__ = "shipments"

    fulfillment_id = Column(String(64), primary_key=True)
    order_id = Column(String(64), nullable=False, index=True)
    status = Column(String(32))  # one of bot.oms.base.SHIPMENT_STATUSES, or None (no scan yet)
    stage = Column(Integer, nullable=False)  # bot.notify.policy.stage(status)
    event_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)


class ConsentOffer(Base):
    """'Want shipping updates by text? Reply YES': asked at most once per number and order."""

    __tablename__ = "consent_offers"
    __table_args__ = (
        UniqueConstraint("phone", "order_id", name="uq_consent_offers_phone_order_id"),
    )

    id = Column(Integer, primary_key=True)
    phone = Column(String(20), nullable=False)
    order_id = Column(String(64), nullable=False)
    text = Column(Text, nullable=False)  # the disclosure the customer was sent
    asked_at = Column(UTCDateTime, nullable=False, default=utcnow)


class VerificationAttempt(Base):
    """A customer's try at proving an order is theirs; failures are rate limited."""

    __tablename__ = "verification_attempts"
    __table_args__ = (Index("ix_verification_attempts_sender_time", "sender_id", "created_at"),)

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False)  # the Rasa conversation id
    order_ref = Column(String(64))
    succeeded = Column(Boolean, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
