"""The SMS input channel over real HTTP: signed webhooks in, the outbox out, turns afterwards.

The channel's blueprint is mounted on a Sanic app as Rasa mounts it, served on loopback, and
posted to exactly as Twilio posts (form-encoded, signed with the SDK's RequestValidator).
The assistant is a recording coroutine that answers through the channel's output channel.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message as NluMessage
from sanic import Sanic
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.config import Settings
from bot.consent import ConsentState, consent_state, history
from bot.inbox import customer_for_phone, thread_for
from bot.oms.demo import DemoStore
from bot.outbox import enqueue
from bot.services import Services
from bot.sms.compliance import help_text, start_text, stop_text
from bot.sms.inbound import accept, parse_form
from bot.sms.receipts import unprocessed
from bot.sms.simulator import SIMULATOR_ACCOUNT_SID
from bot.store import Database
from bot.store.models import Customer, Message, OutboxItem, WebhookReceipt
from channels.sms import EMPTY_TWIML, SmsInput, SmsOutput
from tests.fakes.twilio import HttpReply, inbound_sms, signed_form_post
from tests.http import serving

AUTH_TOKEN = "9c1d" * 8
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
PHONE = "+12065550101"
STORE = "+15005550006"
PATH = "/webhooks/sms/webhook"
_sids = itertools.count(1)


class Assistant:
    """Stands in for Rasa's on_new_message: records each turn and replies through the channel."""

    def __init__(
        self, *, delay: float = 0.0, fail_on: str | None = None, gate: threading.Event | None = None
    ) -> None:
        self.delay = delay
        self.fail_on = fail_on
        self.gate = gate  # when given, every turn waits until the test opens it
        # Turns run on the channel's assistant thread, so the gate is a thread-safe one.
        self.turns: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.turns.append(message)
        if self.gate is not None:
            while not self.gate.is_set():
                await asyncio.sleep(0.005)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_on is not None and self.fail_on in message.text:
            raise RuntimeError("the model fell over")
        await message.output_channel.send_text_message(
            message.sender_id, "reply to: " + message.text
        )

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.turns]


def _services(db: Database, clock: FixedClock, **settings: Any) -> Services:
    settings.setdefault("twilio_auth_token", AUTH_TOKEN)
    return Services(Settings(**settings), db, DemoStore(db, clock), clock)


@asynccontextmanager
async def _served(services: Services, assistant: Assistant) -> AsyncIterator[tuple[str, SmsInput]]:
    """The webhook URL of a served SmsInput, and the channel (to wait until it is idle)."""
    channel = SmsInput(services)
    app = Sanic(f"sms_{uuid.uuid4().hex}")
    app.blueprint(channel.blueprint(assistant), url_prefix="/webhooks/sms")
    async with serving(app) as base:
        yield base + PATH, channel
        await channel.idle()


def _form(body: str | None = "hi", phone: str = PHONE, **kw: Any) -> dict[str, str]:
    kw.setdefault("message_sid", f"SM{next(_sids):032d}")
    return inbound_sms(kw.pop("account_sid", SIMULATOR_ACCOUNT_SID), phone, STORE, body, **kw)


async def _post(url: str, form: dict[str, str], **kw: Any) -> HttpReply:
    return await signed_form_post(url, form, kw.pop("token", AUTH_TOKEN), **kw)


async def _eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


def _count(db: Database, model: Any) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def _inbound(db: Database) -> list[Message]:
    with db.read() as session:
        query = select(Message).where(Message.direction == "in").order_by(Message.id)
        return list(session.execute(query).scalars())


def _outbox(db: Database) -> list[OutboxItem]:
    with db.read() as session:
        return list(session.execute(select(OutboxItem).order_by(OutboxItem.id)).scalars())


def _replies(db: Database, phone: str = PHONE) -> list[str]:
    return [i.body for i in _outbox(db) if i.to_phone == phone and i.purpose == "reply"]


def _compliance(db: Database, phone: str = PHONE) -> list[str]:
    return [i.body for i in _outbox(db) if i.to_phone == phone and i.purpose == "compliance"]


def _assert_acknowledged(reply: HttpReply) -> None:
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/xml")
    assert reply.text == EMPTY_TWIML
    assert reply.text.endswith("<Response/>")


# --- the happy path ---


async def test_health_answers_ok(db: Database, clock: FixedClock) -> None:
    async with (
        _served(_services(db, clock), Assistant()) as (url, _),
        aiohttp.ClientSession() as client,
        client.get(url.removesuffix("webhook")) as answer,
    ):
        assert answer.status == 200
        assert await answer.json() == {"status": "ok"}


async def test_a_text_is_stored_acknowledged_and_answered_through_the_outbox(
    db: Database, clock: FixedClock
) -> None:
    assistant = Assistant()
    form = _form("where is my order?")
    async with _served(_services(db, clock), assistant) as (url, channel):
        _assert_acknowledged(await _post(url, form))
        await channel.idle()
    [turn] = assistant.turns
    assert (turn.text, turn.sender_id, turn.input_channel) == ("where is my order?", PHONE, "sms")
    assert turn.message_id == form["MessageSid"]
    [message] = _inbound(db)
    assert turn.metadata == {"message_id": message.id, "media": []}
    assert (message.body, message.external_id, message.status) == (
        "where is my order?",
        form["MessageSid"],
        "handled",
    )
    [item] = _outbox(db)
    assert (item.to_phone, item.purpose, item.status) == (PHONE, "reply", "queued")
    assert item.body == "reply to: where is my order?"


def _receipt_bodies(db: Database) -> list[str]:
    with db.read() as session:
        payloads = session.execute(
            select(WebhookReceipt.payload).where(WebhookReceipt.source == "twilio_sms")
        ).scalars()
        return [json.loads(p)["body"] for p in payloads]


async def test_the_text_is_stored_before_the_acknowledgement(
    db: Database, clock: FixedClock
) -> None:
    gate = threading.Event()  # nothing after the acknowledgement may run yet
    async with _served(_services(db, clock), Assistant(gate=gate)) as (url, channel):
        _assert_acknowledged(await _post(url, _form("hello")))
        assert _receipt_bodies(db) == ["hello"]  # on disk by the time Twilio heard back
        gate.set()
        await channel.idle()
    assert [m.body for m in _inbound(db)] == ["hello"]
    assert unprocessed(db) == []


async def test_unknown_extra_fields_are_ignored(db: Database, clock: FixedClock) -> None:
    form = _form("hi") | {"FromCity": "SEATTLE", "AddedByTwilioIn2027": "whatever"}
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (url, _):
        _assert_acknowledged(await _post(url, form))
    assert assistant.texts == ["hi"]


async def test_empty_fields_are_part_of_the_signature(db: Database, clock: FixedClock) -> None:
    # Twilio sends (and signs) FromCity=, FromZip= ... for numbers it cannot place.
    form = _form("hi") | {"FromCity": "", "FromState": "", "FromZip": "", "ToCity": ""}
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (url, _):
        _assert_acknowledged(await _post(url, form))
    assert assistant.texts == ["hi"]


# --- refusals: nothing stored, nothing answered ---


async def test_a_form_that_is_not_utf8_is_refused(db: Database, clock: FixedClock) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"}
    async with (
        _served(_services(db, clock), Assistant()) as (url, _),
        aiohttp.ClientSession() as client,
        client.post(url, data=b"Body=\xff\xfe&From=%2B12065550101", headers=headers) as answer,
    ):
        assert answer.status == 400
    assert _count(db, Message) == 0


@pytest.mark.parametrize(
    "forgery",
    [
        {"token": "0" * 32},
        {"sign_params": {"Body": "something else"}},
        {"added": {"Body2": "smuggled"}},
        {"sign_url": "http://127.0.0.1:1/webhooks/sms/webhook"},
        {"headers": {"X-Twilio-Signature": ""}},
        {"headers": {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}},
    ],
    ids=["wrong-token", "tampered", "added-param", "other-url", "empty", "garbage"],
)
async def test_a_forged_signature_is_refused_and_nothing_stored(
    db: Database, clock: FixedClock, forgery: dict[str, Any]
) -> None:
    form = _form("hi")
    forgery = dict(forgery)
    if "sign_params" in forgery:
        forgery["sign_params"] = form | forgery["sign_params"]
    sent = form | forgery.pop("added", {})
    if sent != form:
        forgery["sign_params"] = form
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (url, _):
        reply = await _post(url, sent, **forgery)
    assert reply.status == 403
    assert _count(db, Message) == 0
    assert assistant.turns == []


async def test_a_missing_signature_header_is_refused(db: Database, clock: FixedClock) -> None:
    async with (
        _served(_services(db, clock), Assistant()) as (url, _),
        aiohttp.ClientSession() as client,
        client.post(url, data=_form("hi")) as answer,
    ):
        assert answer.status == 403
    assert _count(db, Message) == 0


async def test_without_an_auth_token_every_request_is_refused(
    db: Database, clock: FixedClock
) -> None:
    async with _served(_services(db, clock, twilio_auth_token=None), Assistant()) as (url, _):
        assert (await _post(url, _form("hi"), token="")).status == 403
    assert _count(db, Message) == 0


async def test_behind_a_proxy_the_public_url_is_what_is_signed(
    db: Database, clock: FixedClock
) -> None:
    public = "https://pigeon.example.com"
    services = _services(db, clock, public_url=public)
    async with _served(services, Assistant()) as (url, _):
        refused = await _post(url, _form("internal"))
        accepted = await _post(url, _form("public"), sign_url=public + PATH)
    assert refused.status == 403
    _assert_acknowledged(accepted)
    assert [m.body for m in _inbound(db)] == ["public"]


async def test_a_query_string_is_part_of_the_signed_url(db: Database, clock: FixedClock) -> None:
    async with _served(_services(db, clock), Assistant()) as (url, _):
        _assert_acknowledged(await _post(url + "?rc=1", _form("with query")))
        assert (await _post(url + "?rc=2", _form("x"), sign_url=url + "?rc=1")).status == 403
    assert [m.body for m in _inbound(db)] == ["with query"]


async def test_a_foreign_account_is_refused(db: Database, clock: FixedClock) -> None:
    services = _services(db, clock, twilio_account_sid=ACCOUNT_SID, twilio_from_number=STORE)
    async with _served(services, Assistant()) as (url, _):
        ours = await _post(url, _form("ours", account_sid=ACCOUNT_SID))
        foreign = await _post(url, _form("foreign", account_sid="AC" + "f" * 32))
        simulated = await _post(url, _form("simulated"))
    _assert_acknowledged(ours)
    assert (foreign.status, simulated.status) == (403, 403)
    assert [m.body for m in _inbound(db)] == ["ours"]


async def test_a_body_over_64_kb_is_refused(db: Database, clock: FixedClock) -> None:
    async with _served(_services(db, clock), Assistant()) as (url, _):
        reply = await _post(url, _form("x" * 70_000))
    assert reply.status == 413
    assert _count(db, Message) == 0


async def test_a_json_body_is_refused(db: Database, clock: FixedClock) -> None:
    async with (
        _served(_services(db, clock), Assistant()) as (url, _),
        aiohttp.ClientSession() as client,
        client.post(url, json=_form("hi"), headers={"X-Twilio-Signature": "x"}) as answer,
    ):
        assert answer.status == 400
    assert _count(db, Message) == 0


@pytest.mark.parametrize("missing", [("From",), ("MessageSid", "SmsMessageSid", "SmsSid")])
async def test_a_text_without_from_or_message_sid_is_refused(
    db: Database, clock: FixedClock, missing: tuple[str, ...]
) -> None:
    form = {k: v for k, v in _form("hi").items() if k not in missing}
    async with _served(_services(db, clock), Assistant()) as (url, _):
        reply = await _post(url, form)
    assert reply.status == 400
    assert _count(db, Message) == 0


# --- exactly once ---


async def test_a_repeated_message_sid_is_stored_once_and_answered_once(
    db: Database, clock: FixedClock
) -> None:
    assistant = Assistant()
    form = _form("hi")
    async with _served(_services(db, clock), assistant) as (url, channel):
        for _ in range(3):
            _assert_acknowledged(await _post(url, form))
        await channel.idle()
        _assert_acknowledged(await _post(url, form))  # Twilio retrying after the answer
    assert len(_inbound(db)) == 1
    assert assistant.texts == ["hi"]
    assert _replies(db) == ["reply to: hi"]


async def test_a_hundred_numbers_at_once_are_each_acknowledged_and_answered_once(
    db: Database, clock: FixedClock
) -> None:
    phones = [f"+1206555{n:04d}" for n in range(100)]
    assistant = Assistant(delay=0.05)
    async with _served(_services(db, clock), assistant) as (url, channel):
        replies = await asyncio.gather(*(_post(url, _form(f"hi from {p}", p)) for p in phones))
        await channel.idle()
    for reply in replies:
        _assert_acknowledged(reply)
    assert sorted(m.sender_id for m in assistant.turns) == phones
    assert sorted((i.to_phone, i.body) for i in _outbox(db)) == [
        (p, f"reply to: hi from {p}") for p in phones
    ]
    assert {m.status for m in _inbound(db)} == {"handled"}
    assert _count(db, Customer) == 100


async def test_one_senders_texts_are_answered_in_the_order_stored(
    db: Database, clock: FixedClock
) -> None:
    assistant = Assistant(delay=0.02)
    async with _served(_services(db, clock), assistant) as (url, channel):
        replies = await asyncio.gather(*(_post(url, _form(f"text {n}")) for n in range(12)))
        await channel.idle()
    assert {r.status for r in replies} == {200}
    stored = [m.body for m in _inbound(db)]
    assert sorted(stored) == sorted(f"text {n}" for n in range(12))
    assert assistant.texts == stored
    assert _replies(db) == [f"reply to: {body}" for body in stored]


async def test_a_senders_next_text_waits_for_the_turn_before_it(
    db: Database, clock: FixedClock
) -> None:
    gate = threading.Event()
    assistant = Assistant(gate=gate)
    async with _served(_services(db, clock), assistant) as (url, channel):
        await _post(url, _form("first"))
        await _post(url, _form("second"))
        await _post(url, _form("third"))
        for _ in range(20):  # let the queue run as far as it can
            await asyncio.sleep(0.01)
        assert assistant.texts == ["first"]  # still on the first: the others wait their turn
        gate.set()
        await channel.idle()
    assert assistant.texts == ["first", "second", "third"]


# --- background turns ---


async def test_the_acknowledgement_does_not_wait_for_a_slow_turn(
    db: Database, clock: FixedClock
) -> None:
    gate = threading.Event()
    assistant = Assistant(gate=gate)
    async with _served(_services(db, clock), assistant) as (url, channel):
        # The turn cannot finish until the gate opens, yet Twilio already has its answer.
        _assert_acknowledged(await _post(url, _form("slow one")))
        assert _replies(db) == []
        gate.set()
        await channel.idle()
    assert _replies(db) == ["reply to: slow one"]


async def test_a_failing_assistant_marks_the_text_failed_visibly(
    db: Database, clock: FixedClock
) -> None:
    assistant = Assistant(fail_on="explode")
    async with _served(_services(db, clock), assistant) as (url, channel):
        _assert_acknowledged(await _post(url, _form("explode please")))
        _assert_acknowledged(await _post(url, _form("hello again?")))
        await channel.idle()
    failed, later = _inbound(db)
    assert (failed.status, failed.error_message) == ("failed", "assistant failed: RuntimeError")
    assert later.status == "handled"  # the sender's queue goes on
    assert _replies(db) == ["reply to: hello again?"]


async def test_texts_left_unanswered_are_answered_at_start_up(
    db: Database, clock: FixedClock
) -> None:
    services = _services(db, clock)
    for body in ("left over", "also left"):
        accept(db, parse_form(_form(body)), services.settings, clock)
    answered = accept(db, parse_form(_form("answered before")), services.settings, clock)
    with db.write() as session:
        session.get(Message, answered.stored.message_id).status = "handled"
    assistant = Assistant()
    async with _served(services, assistant) as (_, channel):
        await _eventually(lambda: len(assistant.turns) == 2)
        await channel.idle()
    assert assistant.texts == ["left over", "also left"]
    assert [m.status for m in _inbound(db)] == ["handled"] * 3


async def test_a_text_queued_twice_is_answered_once(db: Database, clock: FixedClock) -> None:
    services = _services(db, clock)
    accept(db, parse_form(_form("only once")), services.settings, clock)
    assistant = Assistant(delay=0.05)
    channel = SmsInput(services)
    await asyncio.gather(*(channel.replay_unanswered(assistant) for _ in range(3)))
    await channel.idle()
    assert assistant.texts == ["only once"]
    assert _replies(db) == ["reply to: only once"]


@pytest.mark.parametrize("body", ["/restart", "/greet", '  /inform{"order_id": "1001"}'])
async def test_a_leading_slash_does_not_reach_rasa_as_an_intent(
    db: Database, clock: FixedClock, body: str
) -> None:
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (url, _):
        _assert_acknowledged(await _post(url, _form(body)))
    [turn] = assistant.turns
    assert not turn.text.startswith("/")
    assert YAMLStoryReader.unpack_regex_message(NluMessage({TEXT: turn.text})).get(INTENT) is None
    assert _inbound(db)[0].body == body  # the inbox shows what the customer sent


# --- bodies ---


@pytest.mark.parametrize("body", [None, ""], ids=["no-body", "empty-body"])
async def test_a_picture_only_mms_is_stored_with_its_media_and_answered(
    db: Database, clock: FixedClock, body: str | None
) -> None:
    media = {"https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME1": "image/jpeg"}
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (url, _):
        _assert_acknowledged(await _post(url, _form(body, media=media)))
    [message] = _inbound(db)
    expected = [{"url": next(iter(media)), "content_type": "image/jpeg"}]
    assert (message.body, message.media, message.status) == ("", expected, "handled")
    [turn] = assistant.turns
    assert turn.metadata["media"] == expected
    assert _replies(db) == ["reply to: "]


@pytest.mark.parametrize(
    "body",
    [
        "a" * 1600,
        "Where's my parcel? \U0001f4e6\U0001f426 \u2764\ufe0f "
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",
        "\U0001f4e6" * 400,
        "caf\u00e9 na\u00efve \u00fcber \u4f60\u597d \u0645\u0631\u062d\u0628\u0627",
    ],
    ids=["1600-gsm", "emoji", "emoji-long", "scripts"],
)
async def test_long_and_emoji_bodies_arrive_intact(
    db: Database, clock: FixedClock, body: str
) -> None:
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (url, _):
        _assert_acknowledged(await _post(url, _form(body)))
    assert _inbound(db)[0].body == body
    assert assistant.texts == [body.strip()]


# --- compliance keywords over HTTP ---


async def test_stop_start_and_the_texts_in_between(db: Database, clock: FixedClock) -> None:
    services = _services(db, clock)
    with db.write() as session:
        conversation = thread_for(session, customer_for_phone(session, PHONE), "sms", clock)
        enqueue(session, conversation, "Shipped!", "proactive", to_phone=PHONE, clock=clock)
    assistant = Assistant()
    async with _served(services, assistant) as (url, channel):
        for body in ("STOP", "stop", "hello? anyone?", "START", "thanks"):
            _assert_acknowledged(await _post(url, _form(body)))
            await channel.idle()
    assert assistant.texts == ["thanks"]
    statuses = [(m.body, m.status) for m in _inbound(db)]
    assert statuses == [
        ("STOP", "keyword"),
        ("stop", "keyword"),
        ("hello? anyone?", "held"),
        ("START", "keyword"),
        ("thanks", "handled"),
    ]
    assert _compliance(db) == [stop_text(services.settings), start_text(services.settings)]
    proactive = [i for i in _outbox(db) if i.purpose == "proactive"]
    assert [i.status for i in proactive] == ["cancelled"]
    with db.read() as session:
        actions = [e.action for e in history(session, PHONE)]
        assert consent_state(session, PHONE) is ConsentState.OPTED_IN
    assert actions == ["opt_out", "opt_out", "opt_in"]


async def test_help_is_answered_by_pigeon_not_the_assistant(
    db: Database, clock: FixedClock
) -> None:
    services = _services(db, clock)
    assistant = Assistant()
    async with _served(services, assistant) as (url, _):
        _assert_acknowledged(await _post(url, _form("Help")))
    assert assistant.turns == []
    assert _compliance(db) == [help_text(services.settings)]


async def test_yes_in_conversation_goes_to_the_assistant(db: Database, clock: FixedClock) -> None:
    assistant = Assistant()
    async with _served(_services(db, clock), assistant) as (url, _):
        _assert_acknowledged(await _post(url, _form("yes")))
    assert assistant.texts == ["yes"]
    assert _compliance(db) == []


# --- the output channel ---


async def test_the_output_channel_queues_and_never_sends(db: Database, clock: FixedClock) -> None:
    output = SmsInput(_services(db, clock)).get_output_channel()
    assert isinstance(output, SmsOutput)
    await output.send_text_message(PHONE, "plain")
    await output.send_text_message(PHONE, "an alert", purpose="proactive")
    await output.send_text_with_buttons(
        PHONE, "Which order?", [{"title": "#1001"}, {"title": "#1002"}]
    )
    await output.send_image_url(PHONE, "https://cdn.example.com/label.png")
    await output.send_text_message("not-a-phone", "lost")
    await output.send_custom_json(PHONE, {"blocks": []})
    items = _outbox(db)
    assert [(i.purpose, i.body, i.status) for i in items] == [
        ("reply", "plain", "queued"),
        ("proactive", "an alert", "queued"),
        ("reply", "Which order? (Reply: #1001; #1002)", "queued"),
        ("reply", "", "queued"),
    ]
    assert items[-1].media_urls == ["https://cdn.example.com/label.png"]
    assert {i.to_phone for i in items} == {PHONE}
