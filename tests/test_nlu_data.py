"""The training data keeps the promises the team made about it."""

from collections import Counter
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

ROOT = Path(__file__).parents[1]
MIN_EXAMPLES = 40


@pytest.fixture(scope="module")
def training():
    return load_data(str(ROOT / "data" / "nlu"))


@pytest.fixture(scope="module")
def held_out():
    return load_data(str(ROOT / "tests" / "nlu" / "held_out.yml"))


def _normal(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())


def test_held_out_examples_are_not_in_the_training_data(training, held_out) -> None:
    seen = {_normal(m.get("text")) for m in training.intent_examples}
    shared = [m.get("text") for m in held_out.intent_examples if _normal(m.get("text")) in seen]
    assert shared == []


def test_every_intent_has_enough_examples(training) -> None:
    counts = Counter(m.get("intent") for m in training.intent_examples)
    thin = {intent: n for intent, n in counts.items() if n < MIN_EXAMPLES}
    assert thin == {}


def test_training_and_held_out_cover_every_domain_intent(training, held_out) -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    # EXTERNAL_ intents are triggered by the desk (trigger_intent), never said by customers.
    intents = {i for i in domain["intents"] if not i.startswith("EXTERNAL_")}
    assert intents, "domain.yml lists no customer intents"
    assert {m.get("intent") for m in training.intent_examples} == intents
    assert {m.get("intent") for m in held_out.intent_examples} == intents


def test_no_single_compliance_keyword_is_a_training_example(training) -> None:
    keywords = {
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "revoke",
        "optout",
        "start",
        "unstop",
        "help",
        "info",
    }
    assert [
        m.get("text") for m in training.intent_examples if _normal(m.get("text")) in keywords
    ] == []
