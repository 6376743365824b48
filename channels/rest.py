"""Rasa's REST channel behind RASA_TOKEN, for tests, benchmarks and tools, never for strangers.

Whoever posts to a REST webhook chooses the sender id, and the sender id is who the
assistant believes it is talking to: "+12065550101" is Ava's phone, "ava@example.com" her
email. Open, it would tell anyone where her order is. So `POST /webhooks/rest/webhook`
needs the Rasa server's token, as its HTTP API does (`?token=` or `Authorization: Bearer`);
`GET /webhooks/rest/` stays public as a health check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.agents import same_token
from bot.config import Settings


class TokenRestInput(RestInput):
    """Rasa's REST channel (same name, same routes), refusing a webhook call without the token."""

    def __init__(self, token: str | None = None) -> None:
        self._token = token

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TokenRestInput:
        return cls()  # the token comes from the environment (bot.config), as Rasa's does

    @property
    def token(self) -> str | None:
        if self._token is None:
            self._token = Settings.from_env().rasa_token
        return self._token

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = super().blueprint(on_new_message)

        async def check(request: Request) -> HTTPResponse | None:
            if request.method == "GET" or self.authorized(request):
                return None
            return response.json({"error": "send the Rasa token"}, status=401)

        bp.middleware(check, "request")
        return bp

    def authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        given = header[len("Bearer ") :].strip() if header.startswith("Bearer ") else None
        return same_token(given or request.args.get("token"), self.token)
