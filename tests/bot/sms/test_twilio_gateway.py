"""TwilioGateway against the fake Twilio REST API, over real HTTP on loopback."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from aiohttp import web
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from bot.config import Settings, SettingsError
from bot.sms.gateway import (
    OutgoingSms,
    PermanentGatewayError,
    RecipientOptedOut,
    TransientGatewayError,
)
from bot.sms.twilio_gateway import (
    TwilioGateway,
    error_from_rest,
    from_settings,
    retry_after_seconds,
)
from tests.fakes.twilio import FakeTwilio, inbound_sms, signed_form_post
from tests.fakes.twilio_payloads import count_segments

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "5f2a" * 8
SERVICE_SID = "MG" + "fedcba9876543210" * 2
FROM = "+12065550100"
TO = "+12065550101"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
async def gateway(fake: FakeTwilio) -> AsyncIterator[TwilioGateway]:
    async with TwilioGateway(
        ACCOUNT_SID, AUTH_TOKEN, from_number=FROM, api_url=fake.url, timeout=2.0
    ) as gateway:
        yield gateway


@dataclass
class Receiver:
    """An app's webhook endpoint: records what it is posted and answers 200."""

    url: str = ""
    posts: list[tuple[str, dict[str, str], str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        # The URL the sender called (request.url trips over yarl 1.25 in aiohttp 3.9).
        url = self.url + request.path_qs
        self.posts.append((url, form, request.headers["X-Twilio-Signature"]))
        return web.Response(text="<Response/>", content_type="text/xml")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/webhooks/{name}", receiver.handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    receiver.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield receiver
    finally:
        await runner.cleanup()


# --- sending ---


async def test_a_send_reaches_the_fake_with_every_field_and_returns_twilios_sid(
    fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    callback = "https://pigeon.example.com/webhooks/twilio/status"
    result = await gateway.send(OutgoingSms(TO, "Your order shipped.", status_callback=callback))

    [message] = fake.messages
    assert result.sid == message.sid
    assert result.sid.startswith("SM")
    assert len(result.sid) == 34
    assert (result.status, result.segments) == ("queued", 1)
    assert (message.to, message.from_, message.messaging_service_sid) == (TO, FROM, None)
    assert (message.body, message.media_urls) == ("Your order shipped.", ())
    assert message.status_callback == callback
    assert fake.attempts == 1


async def test_twilio_region_in_the_environment_does_not_move_the_base_url(
    fake: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    async with TwilioGateway(
        ACCOUNT_SID, AUTH_TOKEN, from_number=FROM, api_url=fake.url + "/"
    ) as gw:
        result = await gw.send(OutgoingSms(TO, "hi"))
    assert [m.sid for m in fake.messages] == [result.sid]


async def test_a_messaging_service_sends_without_from_and_is_accepted(fake: FakeTwilio) -> None:
    async with TwilioGateway(
        ACCOUNT_SID, AUTH_TOKEN, messaging_service_sid=SERVICE_SID, api_url=fake.url
    ) as gateway:
        result = await gateway.send(OutgoingSms(TO, "hello"))

    [message] = fake.messages
    assert (message.from_, message.messaging_service_sid) == (None, SERVICE_SID)
    # Twilio says "accepted" and 0 segments until the service has picked a sender.
    assert (result.status, result.segments) == ("accepted", None)


async def test_media_urls_go_as_repeated_media_url_and_a_body_may_be_empty(
    fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    urls = ("https://cdn.example.com/label.png", "https://cdn.example.com/box.jpg")
    result = await gateway.send(OutgoingSms(TO, "", media_urls=urls))

    [message] = fake.messages
    assert message.media_urls == urls
    assert message.body == ""
    assert result.sid.startswith("MM")


@pytest.mark.parametrize(
    ("body", "segments"),
    [("a" * 160, 1), ("a" * 161, 2), ("{" * 80, 1), ("{" * 81, 2), ("📦" * 35, 1), ("📦" * 36, 2)],
)
async def test_bodies_arrive_intact_and_segments_come_back(
    fake: FakeTwilio, gateway: TwilioGateway, body: str, segments: int
) -> None:
    result = await gateway.send(OutgoingSms(TO, body))
    assert fake.messages[0].body == body
    assert result.segments == segments


# --- errors ---


async def test_a_wrong_auth_token_is_permanent(fake: FakeTwilio) -> None:
    async with TwilioGateway(ACCOUNT_SID, "wrong", from_number=FROM, api_url=fake.url) as gw:
        with pytest.raises(PermanentGatewayError) as error:
            await gw.send(OutgoingSms(TO, "hi"))
    assert (error.value.http_status, error.value.code) == (401, 20003)
    assert fake.messages == []


async def test_throttling_is_transient_and_carries_retry_after(
    fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    fake.fail_next(1, status=429, retry_after=7)
    with pytest.raises(TransientGatewayError) as error:
        await gateway.send(OutgoingSms(TO, "hi"))
    assert (error.value.http_status, error.value.code, error.value.retry_after) == (429, 20429, 7)
    assert fake.messages == []

    await gateway.send(OutgoingSms(TO, "hi"))
    assert len(fake.messages) == 1
    assert fake.attempts == 2


async def test_an_outage_is_transient_without_retry_after(
    fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    fake.fail_for(60, status=500)
    for _ in range(2):
        with pytest.raises(TransientGatewayError) as error:
            await gateway.send(OutgoingSms(TO, "hi"))
        assert (error.value.http_status, error.value.code) == (500, 20500)
        assert error.value.retry_after is None
    assert fake.messages == []


async def test_an_opted_out_recipient_is_never_retried(
    fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    fake.opt_out(TO)
    with pytest.raises(RecipientOptedOut) as error:
        await gateway.send(OutgoingSms(TO, "hi"))
    assert not isinstance(error.value, (TransientGatewayError, PermanentGatewayError))
    assert (error.value.http_status, error.value.code) == (400, 21610)
    assert "21610" in str(error.value)


async def test_an_invalid_number_is_permanent_with_its_code(
    fake: FakeTwilio, gateway: TwilioGateway
) -> None:
    with pytest.raises(PermanentGatewayError) as error:
        await gateway.send(OutgoingSms("+1555", "hi"))
    assert (error.value.http_status, error.value.code) == (400, 21211)
    # Twilio's own message quotes the number, so only our summary is fit for INFO logs.
    assert "+1555" not in str(error.value)


@pytest.mark.parametrize(
    ("to", "body", "code"),
    [("", "hi", 21604), (TO, "", 21602), (TO, "a" * 1601, 21617)],
)
async def test_requests_twilio_refuses_are_permanent(
    fake: FakeTwilio, gateway: TwilioGateway, to: str, body: str, code: int
) -> None:
    with pytest.raises(PermanentGatewayError) as error:
        await gateway.send(OutgoingSms(to, body))
    assert (error.value.http_status, error.value.code) == (400, code)
    assert fake.messages == []


async def test_a_slow_twilio_times_out_as_transient(fake: FakeTwilio) -> None:
    fake.delay(5)
    async with TwilioGateway(
        ACCOUNT_SID, AUTH_TOKEN, from_number=FROM, api_url=fake.url, timeout=0.2
    ) as gateway:
        started = time.monotonic()
        with pytest.raises(TransientGatewayError, match="within 0.2 s") as error:
            await gateway.send(OutgoingSms(TO, "hi"))
    assert time.monotonic() - started < 2  # the SDK alone would wait for the fake's 5 s
    assert error.value.maybe_sent  # Twilio may have taken it: not safe to send again


async def test_nobody_listening_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    async with TwilioGateway(
        ACCOUNT_SID, AUTH_TOKEN, from_number=FROM, api_url=f"http://127.0.0.1:{closed_port}"
    ) as gateway:
        with pytest.raises(TransientGatewayError, match="cannot reach Twilio") as error:
            await gateway.send(OutgoingSms(TO, "hi"))
    assert not error.value.maybe_sent  # never connected: safe to retry


@pytest.mark.parametrize(
    ("status", "code", "kind", "expected_code"),
    [
        (502, 502, TransientGatewayError, None),  # a proxy's HTML page: no Twilio code
        (400, 21614, PermanentGatewayError, 21614),
        (400, 21408, PermanentGatewayError, 21408),
        (429, 20429, TransientGatewayError, 20429),
        (400, 21610, RecipientOptedOut, 21610),
    ],
)
def test_twilio_errors_map_to_what_to_do_next(
    status: int, code: int, kind: type[Exception], expected_code: int | None
) -> None:
    error = error_from_rest(TwilioRestException(status, "/Messages.json", "x", code, "POST"))
    assert type(error) is kind
    assert (error.code, error.http_status) == (expected_code, status)


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    now = datetime(2026, 6, 15, 17, 0, tzinfo=timezone.utc)
    in_30s = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds({"Retry-After": "7"}) == 7
    assert retry_after_seconds({"Retry-After": "1.5"}) == 1.5
    assert retry_after_seconds({"Retry-After": in_30s}, now) == 30
    assert retry_after_seconds({"Retry-After": "-3"}) == 0
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None


# --- logs, lifecycle, settings ---


async def test_info_logs_mask_the_number_and_never_show_the_body(
    gateway: TwilioGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    result = await gateway.send(OutgoingSms(TO, "secret order details"))
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert result.sid in logged
    assert "+1******0101" in logged
    assert TO not in logged
    assert "secret order details" not in logged
    assert AUTH_TOKEN not in logged


async def test_a_closed_gateway_refuses_to_send(gateway: TwilioGateway) -> None:
    await gateway.send(OutgoingSms(TO, "hi"))
    await gateway.close()
    await gateway.close()
    with pytest.raises(RuntimeError, match="closed"):
        await gateway.send(OutgoingSms(TO, "hi"))


def test_from_settings_builds_a_gateway_without_touching_the_network() -> None:
    settings = Settings.from_env(
        {
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
            "TWILIO_API_URL": "http://127.0.0.1:9/",
        }
    )
    # Built outside any event loop: the HTTP session is only opened on the first send.
    assert from_settings(settings).api_url == "http://127.0.0.1:9"


def test_from_settings_needs_twilio_configured() -> None:
    with pytest.raises(SettingsError, match="TWILIO_ACCOUNT_SID"):
        from_settings(Settings())


def test_a_gateway_needs_a_sender() -> None:
    with pytest.raises(ValueError, match="Messaging Service"):
        TwilioGateway(ACCOUNT_SID, AUTH_TOKEN)


# --- Twilio's webhooks, as the fake sends them ---


async def test_status_callbacks_are_signed_like_twilios(
    fake: FakeTwilio, gateway: TwilioGateway, receiver: Receiver
) -> None:
    callback = f"{receiver.url}/webhooks/status?attempt=1"
    result = await gateway.send(OutgoingSms(TO, "hi", status_callback=callback))

    reply = await fake.send_status(result.sid, "delivered")
    await fake.send_status(result.sid, "undelivered", error_code=30003)

    assert reply.status == 200
    (url, delivered, signature), (_, undelivered, _) = receiver.posts
    assert url == callback
    assert RequestValidator(AUTH_TOKEN).validate(url, delivered, signature)
    assert not RequestValidator("another token").validate(url, delivered, signature)
    assert delivered["MessageSid"] == result.sid
    assert delivered["MessageStatus"] == "delivered"
    assert (delivered["AccountSid"], delivered["From"], delivered["To"]) == (ACCOUNT_SID, FROM, TO)
    assert "ErrorCode" not in delivered
    assert (undelivered["MessageStatus"], undelivered["ErrorCode"]) == ("undelivered", "30003")
    assert fake.message(result.sid).status == "undelivered"


async def test_signed_form_post_signs_an_inbound_sms_like_twilio(receiver: Receiver) -> None:
    url = f"{receiver.url}/webhooks/sms"
    form = inbound_sms(
        ACCOUNT_SID, TO, FROM, None, media={"https://api.twilio.com/media/ME1": "image/jpeg"}
    )
    reply = await signed_form_post(url, form, AUTH_TOKEN)
    tampered = await signed_form_post(url, {**form, "Body": "STOP"}, AUTH_TOKEN, sign_params=form)

    assert (reply.status, reply.text) == (200, "<Response/>")
    (got_url, got, signature), (_, got_tampered, tampered_signature) = receiver.posts
    assert got == form
    assert "Body" not in got
    assert (got["NumMedia"], got["MediaContentType0"]) == ("1", "image/jpeg")
    assert RequestValidator(AUTH_TOKEN).validate(got_url, got, signature)
    assert not RequestValidator(AUTH_TOKEN).validate(got_url, got_tampered, tampered_signature)
    assert tampered.status == 200


def test_the_fakes_segment_count_follows_gsm7_and_ucs2() -> None:
    assert count_segments("") == 1
    assert count_segments("a" * 306) == 2
    assert count_segments("a" * 307) == 3
    assert count_segments("é" * 160) == 1  # é is in the GSM-7 table
    assert count_segments("ê" * 70) == 1  # ê is not: UCS-2
    assert count_segments("ê" * 71) == 2
