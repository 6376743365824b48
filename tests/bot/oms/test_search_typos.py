import pytest

from bot.oms.search import _found, edits


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("trailhed", "trailhead", 1), ("hoodie", "hoodie", 0), ("paddle", "padded", 2), ("", "ab", 2)],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edits(a, b) == distance
    assert edits(b, a) == distance


def test_one_typo_in_a_long_word_still_matches() -> None:
    assert _found("trailhed", {"trailhead", "hoodie"})
    assert _found("ridgline", {"ridgeline"})


def test_short_words_and_bigger_differences_do_not_match() -> None:
    assert not _found("vast", {"vest"})  # too short to guess
    assert not _found("paddle", {"padded"})  # two edits in a six-letter word
    assert not _found("kayak", {"jacket", "rain"})
