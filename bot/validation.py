"""`rasa data validate --fail-on-warnings`, knowing two things Rasa's validator does not.

1. Intents named EXTERNAL_* are triggered by the desk (trigger_intent), never typed by
   a customer, so they have no NLU examples: examples would teach the classifier to
   predict them from text. Rasa warns about every intent without examples.
2. The shipping alerts' responses (`utter_shipment_*`) are sent by a custom action, not
   by a rule or story. Rasa warns about every response no story or rule uses.

Every other check, warning included, is Rasa's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import rasa.validator
from rasa.shared.importers.importer import TrainingDataImporter

from bot.notify.wording import ACTION_RESPONSES

EXTERNAL_PREFIX = "EXTERNAL_"


class PigeonValidator(rasa.validator.Validator):
    def _non_default_intents(self) -> list[str]:
        return [i for i in super()._non_default_intents() if not i.startswith(EXTERNAL_PREFIX)]

    def _gather_utterance_actions(self) -> set[str]:
        return super()._gather_utterance_actions() - set(ACTION_RESPONSES)


@contextmanager
def _validator_class() -> Iterator[None]:
    """Rasa's CLI looks its Validator up at call time; hand it ours meanwhile."""
    original = rasa.validator.Validator
    rasa.validator.Validator = PigeonValidator
    try:
        yield
    finally:
        rasa.validator.Validator = original


def validate(config: str = "config.yml", domain: str = "domain.yml", data: str = "data") -> None:
    """Validate the project as `rasa data validate --fail-on-warnings`; exits 1 on a problem."""
    from rasa.cli.utils import validate_files

    importer = TrainingDataImporter.load_from_config(
        config_path=config, domain_path=domain, training_data_paths=[data]
    )
    with _validator_class():
        validate_files(fail_on_warnings=True, max_history=None, importer=importer)
