"""A shipping alert from the store: told in the customer's conversation, so they can reply."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import PigeonAction, sender_phone
from bot.notify.wording import from_entities, params, response_name
from bot.phone import mask

log = logging.getLogger(__name__)


class ActionShipmentUpdate(PigeonAction):
    """Runs on EXTERNAL_shipment_update, which the desk triggers with the alert's facts."""

    def name(self) -> str:
        return "action_shipment_update"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        facts = _entities(tracker)
        alert = from_entities(facts)
        if alert is None or not facts.get("notification_id") or not sender_phone(tracker):
            log.warning(
                "shipment update for %s without its facts: ignored", mask(tracker.sender_id)
            )
            return []
        now = self.services.clock.now()
        dispatcher.utter_message(
            response=response_name(alert.kind, alert.status),
            purpose="proactive",
            notification_id=facts["notification_id"],
            opt_out_hint=alert.opt_out_hint,
            **params(alert, self.services.settings.store_name, now),
        )
        number = alert.order_name.lstrip("#")
        # The customer's reply ("when will it get here?") is about this order.
        return [SlotSet("order_number", number), SlotSet("alerted_order", number)]


def _entities(tracker: Tracker) -> dict[str, str]:
    found = tracker.latest_message.get("entities") or []
    return {e["entity"]: str(e.get("value") or "") for e in found if e.get("entity")}
