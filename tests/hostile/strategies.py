"""Hypothesis settings and the hostile inputs the property tests draw from.

CI runs a fixed, derandomised set of examples, so a run that passes passes every time.
`PIGEON_HYPOTHESIS=explore` draws fresh random examples, ten times as many, and keeps
the failing ones under .hypothesis/ to replay: use it to hunt, then pin what it finds
as a regression test.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

# Examples share one served app and one database; a noisy shared machine has no deadline.
_SHARED = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("pigeon-ci", derandomize=True, database=None, print_blob=True, **_SHARED)
settings.register_profile(
    "pigeon-explore", database=DirectoryBasedExampleDatabase(".hypothesis/examples"), **_SHARED
)
EXPLORE = os.environ.get("PIGEON_HYPOTHESIS") == "explore"
_BASE = settings.get_profile("pigeon-explore" if EXPLORE else "pigeon-ci")


def examples(count: int) -> settings:
    """The settings for a property: `count` examples in CI, ten times that when exploring."""
    return settings(_BASE, max_examples=count * 10 if EXPLORE else count)


# Text an attacker controls: any code point (lone surrogates, NUL, controls, bidi marks)...
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
# ...and text made of the characters that break parsers most often.
_NASTY = "\x00\x01\x1b\x7f\r\n\t \u00a0\u200b\u202e\ufeff\ud800\udfff%&=+;:,\"'<>\\/[]{}$#@!?*"
nasty_text = st.text(st.sampled_from(_NASTY) | st.characters(), max_size=200)
hostile_text = any_text | nasty_text | st.sampled_from(["", " ", "\x00", "\ud800", "9" * 5000])

# Any JSON document, nested and with hostile strings as keys and values.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(hostile_text, inner, max_size=5),
    max_leaves=25,
)
