"""The chat's sliding windows: a burst is cut off, and the window moves on with time."""

from __future__ import annotations

from bot.chat import limits
from bot.chat.limits import Window


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_over_the_limit_is_told_how_long_to_wait() -> None:
    ticks = Ticks()
    window = Window(3, 60, now=ticks)
    assert [window.allow("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    ticks.now += 10
    assert window.allow("a") == 50.0  # the first event leaves the window in 50 s
    assert window.allow("b") == 0.0  # another key has its own window


def test_the_window_slides() -> None:
    ticks = Ticks()
    window = Window(2, 60, now=ticks)
    window.allow("a")
    ticks.now += 30
    window.allow("a")
    ticks.now += 31  # the first event is over a minute old
    assert window.allow("a") == 0.0
    assert window.allow("a") > 0


def test_refused_events_do_not_extend_the_wait() -> None:
    ticks = Ticks()
    window = Window(1, 60, now=ticks)
    window.allow("a")
    for _ in range(10):
        window.allow("a")
    ticks.now += 60
    assert window.allow("a") == 0.0


def test_memory_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(limits, "MAX_KEYS", 100)
    window = Window(1, 60, now=Ticks())
    for n in range(1000):
        window.allow(f"visitor-{n}")
    assert len(window._seen) <= 101
    assert window.allow("visitor-999") > 0  # the most recent are remembered
