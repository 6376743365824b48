"""The desk's JSON API (bearer DESK_API_TOKEN or an agent's session): the inbox as data.

These shapes are a contract (issue 6); the pages and the assistant's handoff use them too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import desk_inbox as inbox
from bot.desk.guard import caller_of
from bot.notify.assistant import Assistant, AssistantUnavailable
from bot.phone import mask
from bot.services import Services
from bot.support.handoff import request_handoff

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_REASON, MAX_SUMMARY = 200, 2000
_SURROGATE = re.compile("[\ud800-\udfff]")


def register(app: Sanic) -> None:
    app.add_route(list_conversations, "/api/conversations", methods=["GET"])
    app.add_route(messages, "/api/conversations/<conversation_id:int>/messages", methods=["GET"])
    app.add_route(reply, "/api/conversations/<conversation_id:int>/reply", methods=["POST"])
    app.add_route(note, "/api/conversations/<conversation_id:int>/note", methods=["POST"])
    app.add_route(assign, "/api/conversations/<conversation_id:int>/assign", methods=["POST"])
    app.add_route(resolve, "/api/conversations/<conversation_id:int>/resolve", methods=["POST"])
    app.add_route(handoff, "/api/handoff", methods=["POST"])


async def list_conversations(request: Request) -> HTTPResponse:
    status, channel = request.args.get("status") or None, request.args.get("channel") or None
    agent_id = caller_of(request).agent_id

    def load(session) -> list[dict]:
        rows = inbox.conversations(session, status=status, channel=channel, agent_id=agent_id)
        return [row.as_json() | ({"unread": row.unread} if agent_id else {}) for row in rows]

    return await _answer(request, load, key="conversations", write=False)


async def messages(request: Request, conversation_id: int) -> HTTPResponse:
    try:
        after = int(request.args.get("after") or 0)
    except ValueError:
        return _error("after must be a message id", 400)

    def load(session) -> list[dict]:
        return [m.as_json() for m in inbox.thread(session, conversation_id, after)]

    return await _answer(request, load, key="messages", write=False)


async def reply(request: Request, conversation_id: int) -> HTTPResponse:
    body = _body(request)
    if isinstance(body, HTTPResponse):
        return body
    services, agent_id = _services(request), caller_of(request).agent_id

    def send(session) -> dict:
        message = inbox.reply(
            session, conversation_id, body.get("text"), agent_id, services.clock, services.settings
        )
        return {"id": message.id, "status": message.status}

    return await _answer(request, send, key="message", status=201)


async def note(request: Request, conversation_id: int) -> HTTPResponse:
    body = _body(request)
    if isinstance(body, HTTPResponse):
        return body
    services, agent_id = _services(request), caller_of(request).agent_id

    def add(session) -> dict:
        message = inbox.note(session, conversation_id, body.get("text"), agent_id, services.clock)
        return {"id": message.id}

    return await _answer(request, add, key="message", status=201)


async def assign(request: Request, conversation_id: int) -> HTTPResponse:
    body = _body(request)
    if isinstance(body, HTTPResponse):
        return body
    agent = body.get("agent")
    if agent is not None and not isinstance(agent, str):
        return _error("agent must be an agent's email, or null to unassign", 400)
    if "agent" not in body:  # left out: assign to me, when there is a me
        me = caller_of(request).agent
        if me is None:
            return _error("agent is required: an agent's email, or null to unassign", 400)
        agent = me.email

    def give(session) -> dict:
        conv = inbox.assign(session, conversation_id, agent)
        return {"id": conv.id, "assignee": conv.assignee.email if conv.assignee else None}

    return await _answer(request, give, key="conversation")


async def resolve(request: Request, conversation_id: int) -> HTTPResponse:
    try:
        conv = await hand_back(_services(request), request.app.ctx.assistant, conversation_id)
    except inbox.NotFound as exc:
        return _error(str(exc), 404)
    except AssistantUnavailable:
        return _error("the assistant could not be resumed; try again in a moment", 503)
    return response.json({"conversation": conv})


async def hand_back(services: Services, assistant: Assistant, conversation_id: int) -> dict:
    """Resolve, and let the assistant answer this customer again (Rasa's `resume` event).

    The assistant is resumed first: if Rasa cannot be reached (AssistantUnavailable),
    nothing changes and the agent can try again, rather than a resolved thread whose
    customer no one answers. The API and the thread page's Resolve button both land here.
    """

    def sender() -> str | None:
        with services.db.read() as session:
            return inbox.conversation(session, conversation_id).sender_id

    sender_id = await asyncio.to_thread(sender)
    if sender_id:
        try:
            await assistant.resume(sender_id)
        except AssistantUnavailable as exc:
            log.warning("could not resume the assistant for %s: %s", mask(sender_id), exc)
            raise

    def close() -> dict:
        with services.db.write() as session:
            conv = inbox.resolve(session, conversation_id, services.clock)
            return {"id": conv.id, "status": conv.status}

    return await asyncio.to_thread(close)


async def handoff(request: Request) -> HTTPResponse:
    """The assistant's handoff: the thread becomes pending for an agent, with why and what.

    The assistant pauses itself (its handoff action returns Rasa's `pause` event): the
    desk cannot add events to a conversation whose turn is still running.
    """
    body = _body(request)
    if isinstance(body, HTTPResponse):
        return body
    sender_id, reason, summary = body.get("sender_id"), body.get("reason"), body.get("summary")
    if not isinstance(sender_id, str) or not sender_id.strip():
        return _error("sender_id is required", 400)
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        return _error(f"reason is required, at most {MAX_REASON} characters", 400)
    if summary is not None and (not isinstance(summary, str) or len(summary) > MAX_SUMMARY):
        return _error(f"summary must be text of at most {MAX_SUMMARY} characters", 400)
    services = _services(request)

    def hand_over(session) -> dict:
        conv = request_handoff(
            session, sender_id.strip(), reason.strip(), summary or "", services.clock
        )
        return {
            "id": conv.id,
            "status": conv.status,
            "support_hours": services.settings.support_hours,
        }

    return await _answer(request, hand_over, key="conversation", status=201)


# --- plumbing ------------------------------------------------------------------------


def _services(request: Request) -> Services:
    return request.app.ctx.services


def _body(request: Request) -> dict[str, Any] | HTTPResponse:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
        return _error("the body is not JSON", 400)
    if not isinstance(body, dict):
        return _error("the body must be a JSON object", 400)
    if not _storable(body):
        return _error(
            "the body has a NUL or a lone surrogate (\\ud800): text no database stores", 400
        )
    return body


def _storable(body: dict) -> bool:
    """False when a string anywhere in the JSON has a NUL or a lone surrogate; iterative,
    since the JSON may be nested nearly as deep as the recursion limit."""
    pending: list[object] = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value or _SURROGATE.search(value):
                return False
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return True


async def _run(services: Services, work: Callable[[Any], T], *, write: bool) -> T | HTTPResponse:
    def transaction() -> T:
        with services.db.write() if write else services.db.read() as session:
            return work(session)

    try:
        return await asyncio.to_thread(transaction)
    except inbox.NotFound as exc:
        return _error(str(exc), 404)
    except inbox.InboxError as exc:
        return _error(str(exc), 400)


async def _answer(
    request: Request,
    work: Callable[[Any], Any],
    *,
    key: str,
    write: bool = True,
    status: int = 200,
) -> HTTPResponse:
    result = await _run(_services(request), work, write=write)
    if isinstance(result, HTTPResponse):
        return result
    return response.json({key: result}, status=status)


def _error(message: str, status: int) -> HTTPResponse:
    return response.json({"error": message}, status=status)
