"""What every Pigeon action shares: its services, the sender, and running blocking calls."""

from __future__ import annotations

import asyncio
import functools
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

from rasa_sdk import Action, Tracker

from bot.customers import normalize_email
from bot.oms.base import OrderSystemError
from bot.phone import normalize, time_zone_for
from bot.services import Services, services_from_env
from bot.support.replies import reply

T = TypeVar("T")
log = logging.getLogger(__name__)


def default_services() -> Services:
    """The action server's services, built from its environment on first use."""
    return services_from_env()


def _answers_when_store_is_down(run: Callable[..., Any]) -> Callable[..., Any]:
    """The store's order system is down or slow: say so and keep the conversation going.

    Nothing was done for the customer, so the reply asks them to try again (or reply AGENT);
    a form stays where it was, so the next message picks it up again.
    """

    @functools.wraps(run)
    async def guarded(self, dispatcher, tracker, domain):
        try:
            return await run(self, dispatcher, tracker, domain)
        except OrderSystemError as exc:
            log.warning("%s: the order system failed: %s", self.name(), exc)
            dispatcher.utter_message(text=reply("order_system_down"))
            return []

    guarded.guards_order_system = True
    return guarded


class UsesServices:
    """Gives an action its services: passed in by tests, else built from the environment.

    Every `run` a subclass defines answers politely when the order system fails.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        run = cls.__dict__.get("run")
        if run is not None and not getattr(run, "guards_order_system", False):
            cls.run = _answers_when_store_is_down(run)

    def __init__(self, services: Services | None = None) -> None:
        self._services = services

    @property
    def services(self) -> Services:
        return self._services or default_services()

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking call (database, order system) off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)


class PigeonAction(UsesServices, Action, ABC):
    """Base of the custom actions; abstract so the SDK does not register it."""

    @abstractmethod
    def name(self) -> str:
        """The action's name in domain.yml."""


def sender_phone(tracker: Tracker) -> str | None:
    """The texting number (E.164) when the conversation is an SMS thread, else None."""
    sender = tracker.sender_id or ""
    return normalize(sender) if sender.startswith("+") else None


def sender_email(tracker: Tracker) -> str | None:
    """The writing address when the conversation is an email thread, else None."""
    sender = tracker.sender_id or ""
    return normalize_email(sender) if "@" in sender else None


def zone_of(tracker: Tracker) -> str | None:
    """The customer's time zone, from the area code of the texting number."""
    phone = sender_phone(tracker)
    return time_zone_for(phone) if phone else None


def customer_text(tracker: Tracker, limit: int = 6) -> list[str]:
    """What the customer said most recently, oldest first (for handoff summaries)."""
    said = [e.get("text") or "" for e in tracker.events if e.get("event") == "user"]
    return [s for s in said if s and not s.startswith("/")][-limit:]
