"""Rasa's own form loop, calling our actions through the SDK's executor instead of over HTTP.

Rasa 3.6 runs a form turn as: action_extract_slots after the message, then the FormAction,
which calls validate_<form> and then action_ask_<slot> for the slot it requests next. Both
calls go to the action endpoint; here the endpoint is the SDK's ActionExecutor, in process,
with our actions built on the test's services. Only the trained policies are missing: the
test says which action runs next, as the rules in data/rules.yml would.
"""

from __future__ import annotations

import json
import warnings
from functools import lru_cache
from inspect import isabstract, isclass
from pathlib import Path
from typing import Any

from rasa.core.actions.action import ActionExtractSlots, RemoteAction
from rasa.core.actions.forms import FormAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor

from actions import address, asks, cancel, forms, handoff, orders, products, returns, shipments
from bot.services import Services

ROOT = Path(__file__).resolve().parents[2]
MODULES = (address, asks, cancel, forms, handoff, orders, products, returns, shipments)


class InProcessEndpoint(EndpointConfig):
    """Rasa's action endpoint, except that the JSON body goes to the SDK's executor."""

    def __init__(self, services: Services) -> None:
        super().__init__(url="in-process://action-server/webhook")
        self.executor = ActionExecutor()
        for module in MODULES:
            for action in vars(module).values():
                if _is_concrete_action(action):
                    self.executor.register_action(action(services))

    async def request(self, method: str = "post", **kwargs: Any) -> dict[str, Any] | None:
        body = json.loads(json.dumps(kwargs["json"]))  # what crosses the wire
        result = await self.executor.run(body)
        return json.loads(json.dumps(result))


@lru_cache(maxsize=1)
def load_domain() -> Domain:
    """domain.yml as Rasa loads it."""
    with warnings.catch_warnings():
        # Rasa warns on every domain load that 2.x slot auto-fill is gone; its own CLI
        # filters the same message (rasa/utils/common.py, EXPECTED_WARNINGS).
        warnings.filterwarnings("ignore", "Slot auto-fill has been removed", UserWarning)
        return Domain.load(str(ROOT / "domain.yml"))


def _is_concrete_action(thing: object) -> bool:
    """Our own actions (not the SDK classes the modules import), as the server registers them."""
    return (
        isclass(thing)
        and issubclass(thing, Action)
        and thing.__module__.startswith("actions.")
        and not isabstract(thing)
    )


class Conversation:
    """One customer's conversation, driven turn by turn through Rasa's form machinery."""

    def __init__(self, services: Services, sender: str) -> None:
        self.domain = load_domain()
        self.endpoint = InProcessEndpoint(services)
        self.nlg = TemplatedNaturalLanguageGenerator(self.domain.responses)
        self.tracker = DialogueStateTracker.from_events(
            sender, [ActionExecuted("action_listen")], slots=self.domain.slots
        )

    async def says(
        self, text: str, intent: str = "inform", entities: list[dict[str, Any]] | None = None
    ) -> None:
        """The customer's message, and Rasa filling slots from it as its processor does."""
        parse = {"name": intent, "confidence": 0.98}
        self.tracker.update(UserUttered(text, parse, entities or []))
        await self._run(ActionExtractSlots(self.endpoint), log=False)

    async def form(self, name: str) -> list[str]:
        """The form runs (activating if needed); what the customer was texted.

        While the form is still active, Rasa then listens; when it is done, the rule's
        answering action comes next.
        """
        said = await self._run(FormAction(name, self.endpoint))
        if self.active_form == name:
            self.tracker.update(ActionExecuted("action_listen"))
        return said

    async def action(self, name: str) -> list[str]:
        """A custom action the rules predict, then Rasa listens."""
        said = await self._run(RemoteAction(name, self.endpoint))
        self.tracker.update(ActionExecuted("action_listen"))
        return said

    def slot(self, name: str) -> Any:
        return self.tracker.get_slot(name)

    @property
    def active_form(self) -> str | None:
        return self.tracker.active_loop_name

    async def _run(self, action: Any, log: bool = True) -> list[str]:
        """Run `action` on the tracker, and log it as Rasa's processor does."""
        events = await action.run(CollectingOutputChannel(), self.nlg, self.tracker, self.domain)
        if log:
            self.tracker.update(ActionExecuted(action.name()))
        self.tracker.update_with_events(events, self.domain)
        return [e.text for e in events if isinstance(e, BotUttered)]
