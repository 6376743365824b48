"""Hostile input against every parser that reads what outsiders send.

Each parser either returns its parsed value or raises its own documented error (a 4xx
for the route that calls it); any other exception would be a 500 or a crashed worker.
"""

from __future__ import annotations

import json
import re
from datetime import timezone
from urllib.parse import urlencode

from hypothesis import example, given
from hypothesis import strategies as st

from bot.chat.inbound import BadChat, ChatText
from bot.chat.inbound import parse as parse_chat
from bot.email.form import BadForm, Form, read_form
from bot.email.parse import BadInbound as BadEmail
from bot.email.parse import InboundEmail
from bot.email.parse import parse as parse_email
from bot.email.quotes import strip_quotes
from bot.notify.events import HANDLED_TOPICS, ShopifyEvent, UnexpectedPayload, parse_webhook
from bot.notify.shopify_json import numeric_id, parse_time, text
from bot.sms.inbound import MAX_MEDIA, BadInbound, InboundSms, parse_form
from bot.sms.webhook import _parse_form
from tests.hostile.strategies import examples, hostile_text, json_values

E164 = re.compile(r"\+[1-9][0-9]{6,15}")


def storable(value: str) -> bool:
    """Text both databases accept: valid UTF-8 (no lone surrogate) and no NUL."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


# --- Twilio's inbound form ----------------------------------------------------------------

TWILIO_FIELDS = ["MessageSid", "SmsMessageSid", "SmsSid", "AccountSid", "From", "To", "Body"]
TWILIO_FIELDS += ["NumMedia", "MediaUrl0", "MediaContentType0", "MediaUrl9", "OptOutType"]
phoneish = st.from_regex(r"\+?[0-9 ()+.\-]{0,20}", fullmatch=True) | hostile_text
field_value = hostile_text | phoneish | st.integers(-(10**30), 10**30).map(str)
twilio_forms = st.dictionaries(st.sampled_from(TWILIO_FIELDS) | hostile_text, field_value)


@given(twilio_forms)
@examples(400)
def test_twilio_form_is_an_inbound_sms_or_bad_inbound(form: dict[str, str]) -> None:
    try:
        sms = parse_form(form)
    except BadInbound:
        return
    assert isinstance(sms, InboundSms)
    assert sms.sid.strip()
    assert len(sms.sid) <= 64
    assert E164.fullmatch(sms.from_phone)
    assert len(sms.media) <= MAX_MEDIA


@given(
    st.binary(max_size=500)
    | twilio_forms.map(lambda f: urlencode(f, errors="surrogatepass").encode())
)
@examples(300)
def test_twilio_body_bytes_are_a_form_or_refused(body: bytes) -> None:
    form = _parse_form(body)
    assert form is None or all(isinstance(k, str) and isinstance(v, str) for k, v in form.items())


# --- Shopify's webhook bodies ---------------------------------------------------------------

SHOPIFY_KEYS = [
    "id", "order_id", "fulfillment_id", "status", "happened_at", "created_at", "updated_at",
    "cancelled_at", "fulfillments", "customer", "sms_marketing_consent", "phone", "state",
    "consent_updated_at", "opt_in_level", "shipment_status", "tracking_company",
    "tracking_numbers", "tracking_number", "tracking_urls", "tracking_url",
    "estimated_delivery_at", "message", "city", "province",
]  # fmt: skip
plausible = st.sampled_from(
    [1001, "1001", "gid://shopify/Order/7", 0, -1, 2**63, "2026-06-15T10:00:00-04:00",
     "2026-13-45T99:99:99Z", "2026-06-15T10:00:00+99:00", "in_transit", "DELIVERED",
     "subscribed", "unsubscribed", "+12065550101", "(206) 555-0101", [], {}, None, True]
)  # fmt: skip
shopify_values = st.recursive(
    plausible | json_values,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(SHOPIFY_KEYS) | hostile_text, inner, max_size=8)
    ),
    max_leaves=30,
)
topics = st.sampled_from(sorted(HANDLED_TOPICS)) | hostile_text


@given(topics, shopify_values)
@examples(200)
def test_shopify_payload_is_an_event_ignored_or_unexpected(topic: str, payload: object) -> None:
    try:
        event = parse_webhook(topic, payload)
    except UnexpectedPayload:
        return
    assert event is None or isinstance(event, ShopifyEvent)
    for update in event.updates if event else ():
        assert update.happened_at.tzinfo is not None
        assert update.order_id.isdigit()
        assert update.fulfillment_id.isdigit()
    for consent in event.consents if event else ():
        assert E164.fullmatch(consent.phone)


@given(topics, st.binary(max_size=300) | shopify_values.map(lambda v: json.dumps(v).encode()))
@examples(150)
def test_shopify_body_bytes_parse_as_the_notifier_reads_them(topic: str, body: bytes) -> None:
    """The notifier's own reading: json.loads, then parse_webhook; it catches ValueError."""
    try:
        event = parse_webhook(topic, json.loads(body))
    except ValueError:  # UnexpectedPayload is a ValueError, and so is malformed JSON
        event = None
    assert event is None or isinstance(event, ShopifyEvent)


@given(json_values | plausible)
@examples(300)
def test_shopify_json_values_are_read_or_none(value: object) -> None:
    digits = numeric_id(value)
    assert digits is None or (digits.isdigit() and 0 < int(digits) < 2**63)
    moment = parse_time(value)
    assert moment is None or moment.tzinfo == timezone.utc
    said = text(value)
    assert said is None or (said == said.strip() and said)


# --- inbound email (SendGrid Inbound Parse) -------------------------------------------------

EMAIL_FIELDS = ["from", "to", "subject", "text", "html", "headers", "envelope", "charsets"]
EMAIL_FIELDS += ["attachment-info", "email"]
header_names = st.sampled_from(["From", "Message-ID", "In-Reply-To", "References", "Subject"])
header_names |= st.sampled_from(["Auto-Submitted", "Precedence", "Content-Type", "Date"])
header_block = st.lists(
    st.tuples(
        header_names, hostile_text | st.binary(max_size=60).map(lambda b: b.decode("latin-1"))
    ),
    max_size=6,
).map(lambda pairs: "".join(f"{name}: {value}\r\n" for name, value in pairs))
raw_mime = st.tuples(header_block, st.binary(max_size=200)).map(
    lambda parts: parts[0].encode("utf-8", "surrogatepass") + b"\r\n" + parts[1]
)
email_field = (
    hostile_text.map(lambda t: t.encode("utf-8", "surrogatepass"))
    | st.binary(max_size=200)
    | header_block.map(lambda t: t.encode("utf-8", "surrogatepass"))
    | st.sampled_from([b"Ava <ava@example.com>", b'{"from": "a@b.co"}', b'{"from": 1}'])
    | json_values.map(lambda v: json.dumps(v).encode())
)
email_forms = st.builds(
    Form,
    st.dictionaries(st.sampled_from(EMAIL_FIELDS) | hostile_text, email_field | raw_mime),
    st.dictionaries(st.sampled_from(EMAIL_FIELDS), st.sampled_from(["utf-8", "latin-1", "x-nope"])),
)


def _multipart(boundary: str, parts: list[tuple[str, bytes, str | None]]) -> bytes:
    out = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode(
            "utf-8", "surrogatepass"
        )
        out += value + b"\r\n"
    return out + f"--{boundary}--\r\n".encode("utf-8", "surrogatepass")


multipart_bodies = st.builds(
    lambda b, parts: (f"multipart/form-data; boundary={b}", _multipart(b, parts)),
    st.sampled_from(["xYzZY", "a", '"q"', "--", ""]) | hostile_text,
    st.lists(
        st.tuples(
            st.sampled_from(EMAIL_FIELDS) | hostile_text,
            email_field,
            st.none() | hostile_text,
        ),
        max_size=5,
    ),
)
content_types = st.sampled_from(
    ["multipart/form-data", "application/x-www-form-urlencoded", "text/plain", ""]
) | hostile_text.map(lambda t: "multipart/form-data; " + t)
any_bodies = st.tuples(content_types, st.binary(max_size=400))


@given(multipart_bodies | any_bodies)
@example(("application/x-www-form-urlencoded", b"from=\x80"))  # was a UnicodeDecodeError
@example(("multipart/form-data; boundary=\ud800", b""))  # was a UnicodeEncodeError
@examples(300)
def test_email_webhook_body_is_a_form_or_bad_form(request: tuple[str, bytes]) -> None:
    content_type, body = request
    try:
        form = read_form(content_type, body)
    except BadForm:
        return
    assert all(isinstance(v, bytes) for v in form.fields.values())


@given(email_forms)
@examples(400)
def test_email_form_is_an_inbound_email_or_bad_inbound(form: Form) -> None:
    try:
        email = parse_email(form)
    except BadEmail:
        return
    assert isinstance(email, InboundEmail)
    assert "@" in email.from_address
    assert email.message_id.startswith("<")
    assert email.message_id.endswith(">")


@given(raw_mime)
@example(b"From: a@b.co\r\nMessage-ID: \xe9\r\n\r\nhi")  # was a TypeError (a Header, no str)
@example(b"From: <\r\n\r\n")  # was an IndexError in the stdlib's address parser
@examples(300)
def test_a_raw_mime_email_is_an_inbound_email_or_bad_inbound(raw: bytes) -> None:
    try:
        email = parse_email(Form({"email": raw}))
    except BadEmail:
        return
    assert isinstance(email, InboundEmail)


@given(
    hostile_text
    | st.lists(st.sampled_from(["> q", "On Mon, Ann wrote:", "-- ", "hi"])).map("\n".join)
)
@examples(300)
def test_strip_quotes_keeps_only_unquoted_lines_of_the_email(body: str) -> None:
    kept = strip_quotes(body)
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for line in kept.split("\n"):
        assert not line.lstrip().startswith(">")
        assert not line.strip() or any(line.strip() in original for original in lines)


# --- the chat widget's message --------------------------------------------------------------

chat_payloads = st.fixed_dictionaries(
    {},
    optional={
        "text": hostile_text | json_values,
        "id": st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True) | hostile_text,
    },
).map(lambda d: json.dumps(d).encode())
chat_bodies = (
    chat_payloads
    | st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.integers(1, 20_000).map(lambda n: b"[" * n)
    | st.sampled_from([b"[" * 5_000, b'{"text":' * 2_000])  # nested past the recursion limit
    | st.sampled_from(
        [b'{"text": "\\ud800", "id": "abcdefgh"}', b'{"text": "\\u0000x", "id": "abcdefgh"}']
    )
)


@given(chat_bodies)
@example(b"[" * 5_000)  # was a RecursionError
@example(b'{"text": "\\ud800", "id": "abcdefgh"}')  # was stored as a lone surrogate
@examples(300)
def test_chat_body_is_a_storable_message_or_bad_chat(body: bytes) -> None:
    try:
        chat = parse_chat(body, "chat-0123456789abcdef")
    except BadChat as exc:
        status = exc.status
    else:
        status = None
    if status is not None:
        assert status in (400, 413)
        return
    assert isinstance(chat, ChatText)
    assert chat.text.strip()
    assert storable(chat.text)
