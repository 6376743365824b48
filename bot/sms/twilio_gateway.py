"""The Twilio SMS gateway: the official SDK's async client, its errors mapped to ours."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from types import TracebackType

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bot.config import (
    DEFAULT_TWILIO_API_URL,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    Settings,
    SettingsError,
)
from bot.phone import mask
from bot.sms.gateway import (
    GatewayError,
    OutgoingSms,
    PermanentGatewayError,
    RecipientOptedOut,
    SendResult,
    TransientGatewayError,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient"
TOO_MANY_REQUESTS = 20429

# Retry-After of the last failed response in this task: TwilioRestException drops the headers.
_retry_after: ContextVar[float | None] = ContextVar("twilio_retry_after", default=None)


class _HttpClient(AsyncTwilioHttpClient):
    """The SDK's aiohttp client with its timeout applied and Retry-After kept."""

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        # twilio 8.2.2 ignores the client's own timeout (twilio-python#925): aiohttp would
        # then wait without limit, so fall back to it here as the sync client does.
        response = await super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=self.timeout if timeout is None else timeout,
            allow_redirects=allow_redirects,
        )
        if response.status_code >= 400:
            _retry_after.set(retry_after_seconds(response.headers or {}))
        return response


class TwilioGateway:
    """SmsGateway over Twilio's Messages API; one HTTP session, opened on first send."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_url: str = DEFAULT_TWILIO_API_URL,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not account_sid or not auth_token:
            raise ValueError("a Twilio account SID and auth token are required")
        if not (from_number or messaging_service_sid):
            raise ValueError("a from number or a Messaging Service SID is required")
        if not timeout > 0:
            raise ValueError("timeout must be greater than 0 seconds")
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._from_number = from_number
        self._messaging_service_sid = messaging_service_sid
        self._api_url = api_url.rstrip("/")
        self._timeout = timeout
        self._client: Client | None = None
        self._http: _HttpClient | None = None
        self._closed = False

    @property
    def api_url(self) -> str:
        return self._api_url

    async def send(self, sms: OutgoingSms) -> SendResult:
        """Create the Message at Twilio; raise a GatewayError subclass saying what to do next."""
        messages = self._connect().messages
        _retry_after.set(None)
        try:
            message = await messages.create_async(**self._create_params(sms))
        except TwilioRestException as exc:
            log.debug("Twilio refused a text to %s: %s", mask(sms.to), exc.msg)
            raise error_from_rest(exc, _retry_after.get()) from exc
        except asyncio.TimeoutError as exc:
            raise TransientGatewayError(
                f"Twilio did not answer within {self._timeout:g} s", maybe_sent=True
            ) from exc
        except aiohttp.ClientConnectorError as exc:  # never connected: nothing was sent
            raise TransientGatewayError(f"cannot reach Twilio: {exc!r}") from exc
        except aiohttp.ClientError as exc:  # the connection broke after the request went out
            raise TransientGatewayError(f"lost Twilio's answer: {exc!r}", maybe_sent=True) from exc
        except json.JSONDecodeError as exc:  # a 2xx means Twilio took it: never retry
            raise PermanentGatewayError(
                "Twilio accepted the text with an unreadable answer"
            ) from exc
        result = SendResult(
            sid=str(message.sid),
            status=str(message.status),
            segments=_segments(message.num_segments),
        )
        log.info("Twilio took %s for %s: %s", result.sid, mask(sms.to), result.status)
        return result

    async def close(self) -> None:
        """Close the HTTP session; later sends are refused."""
        self._closed = True
        http, self._http, self._client = self._http, None, None
        if http is not None:
            await http.close()

    async def __aenter__(self) -> TwilioGateway:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _connect(self) -> Client:
        """The SDK client, built inside the event loop because aiohttp's session must be."""
        if self._closed:
            raise RuntimeError("the Twilio gateway is closed")
        if self._client is None:
            self._http = _HttpClient(timeout=self._timeout)
            self._client = _client_at(
                self._api_url, self._account_sid, self._auth_token, self._http
            )
        return self._client

    def _create_params(self, sms: OutgoingSms) -> dict[str, object]:
        params: dict[str, object] = {"to": sms.to}
        if self._from_number:
            params["from_"] = self._from_number
        if self._messaging_service_sid:
            params["messaging_service_sid"] = self._messaging_service_sid
        if sms.body:
            params["body"] = sms.body
        if sms.media_urls:
            params["media_url"] = list(sms.media_urls)
        if sms.status_callback:
            params["status_callback"] = sms.status_callback
        return params


def _client_at(api_url: str, account_sid: str, auth_token: str, http: _HttpClient) -> Client:
    """An SDK client whose `api` domain (api.twilio.com, where Messages live) is `api_url`."""
    client = Client(account_sid, auth_token, http_client=http)
    # TWILIO_EDGE / TWILIO_REGION from the environment would rewrite the host of every URL;
    # Pigeon's one knob for where Twilio is, is TWILIO_API_URL.
    client.edge = None
    client.region = None
    client.api.base_url = api_url
    return client


def from_settings(settings: Settings, *, timeout: float = DEFAULT_TIMEOUT) -> TwilioGateway:
    """The gateway the settings describe; SettingsError when Twilio is not configured."""
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        raise SettingsError(
            f"{TWILIO_ACCOUNT_SID} and {TWILIO_AUTH_TOKEN} are required to send through Twilio"
        )
    return TwilioGateway(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        from_number=settings.twilio_from_number,
        messaging_service_sid=settings.twilio_messaging_service_sid,
        api_url=settings.twilio_api_url,
        timeout=timeout,
    )


def error_from_rest(exc: TwilioRestException, retry_after: float | None = None) -> GatewayError:
    """Our exception for Twilio's error answer: retry, record an opt-out, or give up."""
    status = int(exc.status)
    # Without a JSON body the SDK puts the HTTP status where the Twilio code goes.
    code = exc.code if isinstance(exc.code, int) and exc.code != status else None
    what = f"Twilio answered HTTP {status}"
    if code is not None:
        what += f", error {code} (https://www.twilio.com/docs/errors/{code})"
    if code == OPTED_OUT:
        return RecipientOptedOut(what, code=code, http_status=status)
    if status == 429 or code == TOO_MANY_REQUESTS or status >= 500:
        return TransientGatewayError(what, code=code, http_status=status, retry_after=retry_after)
    return PermanentGatewayError(what, code=code, http_status=status)


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds the server asked us to wait (Retry-After as seconds or an HTTP date), if any."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until(value, now or datetime.now(timezone.utc))
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _seconds_until(http_date: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _segments(raw: object) -> int | None:
    """Twilio's num_segments ("1", "2" ...); "0" means not known yet (Messaging Services)."""
    try:
        segments = int(str(raw))
    except ValueError:
        return None
    return segments or None
