"""The domain and the action server agree on which custom actions exist."""

from inspect import isabstract
from pathlib import Path

import yaml
from rasa_sdk.executor import ActionExecutor

from actions.asks import AskAction
from actions.common import PigeonAction
from actions.forms import OrderForm
from actions.requests import AnswerRequest

ROOT = Path(__file__).parents[2]
SHARED_BASES = (PigeonAction, OrderForm, AnswerRequest, AskAction)


def _domain() -> dict:
    return yaml.safe_load((ROOT / "domain.yml").read_text())


def _registered() -> dict[str, type]:
    """Action name -> class, as the action server registers them from the actions package."""
    executor = ActionExecutor()
    executor.register_package("actions")
    classes = {name: type(run.__self__) for name, run in executor.actions.items()}
    # Only ours: a test module's own Action subclass is not part of the server.
    return {name: cls for name, cls in classes.items() if cls.__module__.startswith("actions.")}


def test_every_custom_action_in_the_domain_is_registered_and_vice_versa() -> None:
    declared = set(_domain()["actions"])
    registered = set(_registered())
    assert declared - registered == set(), "declared in domain.yml but not implemented"
    assert registered - declared == set(), "implemented but missing from domain.yml"


def test_every_form_has_its_validation_action() -> None:
    domain = _domain()
    assert {f"validate_{form}" for form in domain["forms"]} <= set(_registered())


def test_ask_actions_name_required_slots_of_a_form() -> None:
    domain = _domain()
    asked = {a.removeprefix("action_ask_") for a in _registered() if a.startswith("action_ask_")}
    required = {slot for form in domain["forms"].values() for slot in form["required_slots"]}
    assert asked == required


def test_shared_bases_are_abstract_and_not_registered() -> None:
    registered = set(_registered().values())
    for base in SHARED_BASES:
        assert isabstract(base), base
        assert base not in registered
