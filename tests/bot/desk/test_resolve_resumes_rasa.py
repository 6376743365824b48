"""Resolving a thread resumes the assistant in the customer's own Rasa conversation."""

from __future__ import annotations

import aiohttp
import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.desk.app import create_app
from bot.notify.assistant import RasaAssistant
from bot.oms.demo import DemoStore
from bot.services import Services
from bot.store import Database
from bot.support.handoff import request_handoff
from tests.fakes.rasa import FakeRasa
from tests.http import serving

AVA = "+12065550101"
RASA_TOKEN, DESK_TOKEN = "rasa-token", "desk-token"


@pytest.mark.parametrize(
    "sender",
    [AVA, "ava@example.com", "chat-" + "c" * 32],
    ids=["sms", "email", "chat"],
)
async def test_resolve_resumes_and_leaves_the_assistant_listening(
    db: Database, clock: FixedClock, sender: str
) -> None:
    with db.write() as session:
        conversation = request_handoff(session, sender, "customer asked for a person", "", clock).id
    async with FakeRasa(db, clock, RASA_TOKEN, "Pigeon Supply Co.") as rasa:
        settings = Settings(desk_api_token=DESK_TOKEN, rasa_url=rasa.url, rasa_token=RASA_TOKEN)
        services = Services(settings, db, DemoStore(db, clock), clock)
        assistant = RasaAssistant(rasa.url, RASA_TOKEN)
        app = create_app(services, "desk_resume", assistant=assistant, dispatch=False, notify=False)
        async with (
            serving(app) as base,
            aiohttp.ClientSession() as client,
            client.post(
                f"{base}/api/conversations/{conversation}/resolve",
                headers={"Authorization": f"Bearer {DESK_TOKEN}"},
            ) as answer,
        ):
            assert answer.status == 200
    # The id exactly as the channel names the conversation: "+1206...", never "%2B1206...",
    # "ava@example.com", never "ava%40example.com".
    assert rasa.events == [
        (sender, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])
    ]
