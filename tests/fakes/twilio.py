"""A fake Twilio REST API on loopback, and Twilio's signed webhooks: real HTTP both ways."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web
from multidict import MultiDictProxy
from twilio.request_validator import RequestValidator

from tests.fakes.twilio_payloads import (
    API_VERSION,
    ERROR_MESSAGES,
    count_segments,
    default_code,
    error_response,
    fixture,
    invalid_create,
    twilio_headers,
)

MESSAGES_PATH = f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json"
WEBHOOK_TIMEOUT = 5.0  # seconds; Twilio itself gives up after 15


@dataclass
class SentMessage:
    """One message the fake accepted, as Twilio would hold it."""

    sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    media_urls: tuple[str, ...]
    status_callback: str | None
    received_at: datetime
    status: str
    segments: int
    error_code: int | None = None


@dataclass(frozen=True)
class HttpReply:
    status: int
    text: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class _Failure:
    status: int
    code: int
    retry_after: float | None


class FakeTwilio:
    """`async with FakeTwilio(sid, token) as fake:` point the client at `fake.url`."""

    def __init__(
        self, account_sid: str, auth_token: str, *, service_number: str = "+15005550006"
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.service_number = service_number  # the sender a Messaging Service "picks"
        self.url = ""
        self.messages: list[SentMessage] = []
        self.attempts = 0  # every POST to Messages.json, refused ones included
        self._failures: list[_Failure] = []
        self._failing_until = 0.0
        self._window_failure: _Failure | None = None
        self._opted_out: set[str] = set()
        self._delay = 0.0
        self._closing: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeTwilio:
        app = web.Application()
        app.router.add_post(MESSAGES_PATH, self._create_message)
        self._closing = asyncio.Event()
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._closing is not None:
            self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- programming the fake ---

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 429,
        code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Refuse the next `n` sends with `status` (429 means Twilio's 20429 unless told)."""
        self._failures.extend([_Failure(status, code or default_code(status), retry_after)] * n)

    def fail_for(
        self,
        seconds: float,
        *,
        status: int = 500,
        code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Refuse every send for the next `seconds`, as during an outage."""
        self._failing_until = time.monotonic() + seconds
        self._window_failure = _Failure(status, code or default_code(status), retry_after)

    def opt_out(self, number: str) -> None:
        """The number texted STOP: direct sends to it get 400/21610.

        Sends through a Messaging Service are accepted, as Twilio does; deliver the failure
        with `send_status(sid, "failed", error_code=21610)`.
        """
        self._opted_out.add(number)

    def delay(self, seconds: float) -> None:
        """Answer every later send only after `seconds` (0 to stop), to provoke timeouts."""
        self._delay = seconds

    def message(self, sid: str) -> SentMessage:
        for message in self.messages:
            if message.sid == sid:
                return message
        raise LookupError(f"no message {sid}")

    async def send_status(self, sid: str, status: str, error_code: int | None = None) -> HttpReply:
        """POST a status callback for message `sid` to its StatusCallback, signed like Twilio."""
        message = self.message(sid)
        if not message.status_callback:
            raise LookupError(f"message {sid} was sent without a StatusCallback")
        message.status, message.error_code = status, error_code
        return await signed_form_post(
            message.status_callback, self._status_params(message), self.auth_token
        )

    # --- the API ---

    async def _create_message(self, request: web.Request) -> web.Response:
        self.attempts += 1
        form = await request.post()
        await self._wait_delay()
        # Not `a or b`: an aiohttp Response is an empty mapping, so it is falsy.
        checks = (
            lambda: self._auth_error(request),
            self._programmed_failure,
            lambda: invalid_create(form),
        )
        for check in checks:
            refusal = check()
            if refusal is not None:
                return refusal
        return self._accept(form)

    async def _wait_delay(self) -> None:
        if self._delay > 0 and self._closing is not None:
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self._delay)

    def _auth_error(self, request: web.Request) -> web.Response | None:
        try:
            auth = aiohttp.BasicAuth.decode(request.headers.get("Authorization", ""))
        except ValueError:
            return error_response(401, 20003, "Authenticate")
        if (auth.login, auth.password) != (self.account_sid, self.auth_token):
            return error_response(401, 20003, "Authenticate")
        if request.match_info["account_sid"] != self.account_sid:
            return error_response(
                404, 20404, f"The requested resource {request.path} was not found"
            )
        return None

    def _programmed_failure(self) -> web.Response | None:
        failure = self._failures.pop(0) if self._failures else None
        if failure is None and time.monotonic() < self._failing_until:
            failure = self._window_failure
        if failure is None:
            return None
        return error_response(
            failure.status,
            failure.code,
            ERROR_MESSAGES.get(failure.code, "Error"),
            failure.retry_after,
        )

    def _accept(self, form: MultiDictProxy[Any]) -> web.Response:
        to, service = str(form["To"]), str(form.get("MessagingServiceSid", "")) or None
        if to in self._opted_out and service is None:
            return error_response(400, 21610, ERROR_MESSAGES[21610])
        media = tuple(str(url) for url in form.getall("MediaUrl", []))
        body = str(form.get("Body", ""))
        message = SentMessage(
            sid=("MM" if media else "SM") + uuid.uuid4().hex,
            to=to,
            from_=str(form.get("From", "")) or None,
            messaging_service_sid=service,
            body=body,
            media_urls=media,
            status_callback=str(form.get("StatusCallback", "")) or None,
            received_at=datetime.now(timezone.utc),
            status="accepted" if service else "queued",
            segments=count_segments(body),
        )
        self.messages.append(message)
        return web.json_response(self._resource(message), status=201, headers=twilio_headers())

    def _resource(self, message: SentMessage) -> dict[str, Any]:
        """The Message resource Twilio answers a create with, filled into the recorded one."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message.sid}"
        created = format_datetime(message.received_at)
        return fixture("message.json") | {
            "account_sid": self.account_sid,
            "body": message.body,
            "date_created": created,
            "date_updated": created,
            "from": message.from_ if message.messaging_service_sid is None else None,
            "messaging_service_sid": message.messaging_service_sid,
            "num_media": str(len(message.media_urls)),
            "num_segments": "0" if message.messaging_service_sid else str(message.segments),
            "sid": message.sid,
            "status": message.status,
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": message.to,
            "uri": f"{uri}.json",
        }

    def _status_params(self, message: SentMessage) -> dict[str, str]:
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "From": message.from_ or self.service_number,
            "To": message.to,
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "MessageStatus": message.status,
            "SmsStatus": message.status,
        }
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if message.error_code is not None:
            params["ErrorCode"] = str(message.error_code)
        return params


# --- Twilio's side of webhooks ---


async def signed_form_post(
    url: str,
    params: Mapping[str, str],
    auth_token: str,
    *,
    sign_url: str | None = None,
    sign_params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpReply:
    """POST `params` form-encoded to `url` with X-Twilio-Signature, as Twilio's webhooks do.

    `sign_url` / `sign_params` sign something other than what is sent (a proxy's public URL,
    or a tampered request); a different `auth_token` forges the signature.
    """
    signed = dict(params if sign_params is None else sign_params)
    signature = RequestValidator(auth_token).compute_signature(sign_url or url, signed)
    sent_headers = {
        "X-Twilio-Signature": signature,
        "User-Agent": "TwilioProxy/1.1",
        "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        **(headers or {}),
    }
    timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(url, data=dict(params), headers=sent_headers) as response,
    ):
        return HttpReply(response.status, await response.text(), dict(response.headers))


def inbound_sms(
    account_sid: str,
    from_: str,
    to: str,
    body: str | None,
    *,
    media: Mapping[str, str] | None = None,
    message_sid: str | None = None,
) -> dict[str, str]:
    """The form Twilio posts to a number's incoming-message webhook; `media` maps URL to type."""
    sid = message_sid or ("MM" if media else "SM") + uuid.uuid4().hex
    params = {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": str(len(media or {})),
        "SmsSid": sid,
        "SmsStatus": "received",
        "To": to,
        "NumSegments": str(count_segments(body or "")),
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "ApiVersion": API_VERSION,
    }
    if body is not None:
        params["Body"] = body
    for n, (url, content_type) in enumerate((media or {}).items()):
        params[f"MediaUrl{n}"] = url
        params[f"MediaContentType{n}"] = content_type
    return params
