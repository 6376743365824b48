"""The action server hands a conversation over through the desk's endpoint, or directly."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.desk.app import create_app
from bot.oms.demo import DemoStore
from bot.services import Services
from bot.store import Database
from bot.store.models import Conversation
from bot.support.handoff import hand_over
from tests.http import serving

PHONE = "+12065550101"
TOKEN = "desk-token"


def _thread(db: Database) -> Conversation | None:
    with db.read() as session:
        return session.query(Conversation).filter_by(sender_id=PHONE).one_or_none()


@pytest.mark.parametrize("token", [TOKEN, "a-wrong-token"])
async def test_the_handoff_reaches_the_inbox_through_the_desk_or_directly(
    db: Database, clock: FixedClock, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(desk_api_token=TOKEN)
    services = Services(settings, db, DemoStore(db, clock), clock)
    app = create_app(services, f"desk_handoff_{token[:3]}", dispatch=False, notify=False)
    async with serving(app) as base:
        caller = replace(settings, desk_url=base, desk_api_token=token)
        await asyncio.to_thread(
            hand_over, caller, db, PHONE, "customer asked for a person", "Reason: ...", clock
        )
    conversation = _thread(db)  # a refused call (wrong token) is recorded directly instead
    assert conversation is not None
    assert (conversation.status, conversation.handoff_reason) == (
        "pending",
        "customer asked for a person",
    )
    assert conversation.handoff_summary == "Reason: ..."
    refused = [r for r in caplog.records if "the desk refused a handoff (401)" in r.getMessage()]
    assert len(refused) == (0 if token == TOKEN else 1)


def test_with_no_desk_reachable_the_handoff_is_recorded_directly(
    db: Database, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(desk_url="http://127.0.0.1:9", desk_api_token=TOKEN)
    hand_over(settings, db, PHONE, "the assistant did not understand twice", "", clock)
    assert _thread(db).status == "pending"
    assert any("the desk is unreachable" in r.getMessage() for r in caplog.records)
