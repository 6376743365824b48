"""Opting out in words ("please stop texting me"): the same effect as STOP."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import PigeonAction, sender_phone
from bot.consent import record_opt_out
from bot.support.replies import reply

SURE = 0.8  # below this, "stop ..." may not be about our texts


class ActionOptOut(PigeonAction):
    def name(self) -> str:
        return "action_opt_out"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        confidence = tracker.latest_message.get("intent", {}).get("confidence") or 0.0
        store = self.services.settings.store_name
        if confidence < SURE:  # revoking consent is final: a doubtful reading asks first
            dispatcher.utter_message(text=reply("confirm_opt_out", store_name=store))
            return []
        phone = sender_phone(tracker)
        if phone:
            services, said = self.services, (tracker.latest_message.get("text") or "")[:200]

            def record() -> None:
                with services.db.write() as session:
                    record_opt_out(
                        session, phone, "customer_request", detail=said, clock=services.clock
                    )

            await self.call(record)
        # A compliance confirmation: the dispatcher sends it even though the number opted out.
        text = reply("opted_out", store_name=store)
        dispatcher.utter_message(text=text, purpose="compliance")
        return []
