"""Store policies from a YAML file, for order systems that keep none in SMS-sized form."""

from __future__ import annotations

from pathlib import Path

from bot.oms.base import StorePolicies
from bot.oms.demo_files import parse_policies
from bot.oms.demo_mapping import to_policies
from bot.oms.demo_yaml import load_yaml


def load_policies(path: Path) -> StorePolicies:
    """The policies in `path` (the format of data/demo/policies.yml); raises DemoDataError."""
    return to_policies(parse_policies(load_yaml(Path(path))))
