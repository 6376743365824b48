"""The report's pictures (matplotlib, drawn off-screen): where a table hides the shape."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: PNG files only

import matplotlib.pyplot as plt  # after choosing the backend

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def _cdf(values: Sequence[float]) -> tuple[list[float], list[float]]:
    ordered = sorted(values)
    n = len(ordered)
    return ordered, [(i + 1) / n for i in range(n)]


def burst(
    path: Path,
    acks_ms: Mapping[str, Sequence[float]],
    answered_s: Mapping[str, Sequence[float]],
    title: str,
) -> None:
    """Two CDFs per channel: how long the webhook took to answer, and when each was answered."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    for colour, (channel, values) in zip(COLOURS, acks_ms.items(), strict=False):
        if values:
            left.step(
                *_cdf([max(v, 0.01) for v in values]), where="post", label=channel, color=colour
            )
    left.set_xscale("log")
    left.set_xlabel("webhook acknowledgement (ms, log scale)")
    left.set_ylabel("share of the 100 texts")
    left.axvline(50, color="grey", linestyle=":", linewidth=1)
    left.text(52, 0.05, "50 ms goal", color="grey", fontsize=8)
    for colour, (channel, values) in zip(COLOURS, answered_s.items(), strict=False):
        if values:
            right.step(*_cdf(values), where="post", label=channel, color=colour)
    right.set_xlabel("answered, seconds after the burst started")
    for axes in (left, right):
        axes.set_ylim(0, 1.02)
        axes.grid(alpha=0.3)
        axes.legend(loc="lower right", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def pacing(
    path: Path,
    replies: Sequence[float],
    proactive: Sequence[float],
    replies_queued: float,
    rate: float,
) -> None:
    """Texts reaching Twilio over time, replies and proactive apart, against the target rate."""
    start = min([*replies, *proactive], default=0.0)
    every = sorted([*replies, *proactive])
    fig, axes = plt.subplots(figsize=(8, 4), dpi=100)
    axes.plot(
        [t - start for t in every],
        range(1, len(every) + 1),
        color="black",
        linewidth=1,
        label="all texts",
    )
    axes.scatter(
        [t - start for t in proactive],
        [every.index(t) + 1 for t in proactive],
        s=4,
        color=COLOURS[0],
        label="proactive",
    )
    axes.scatter(
        [t - start for t in replies],
        [every.index(t) + 1 for t in replies],
        s=8,
        color=COLOURS[1],
        label="replies",
    )
    if every:
        span = every[-1] - start
        axes.plot([0, span], [0, span * rate], color="grey", linestyle=":", label=f"{rate:g}/s")
    axes.axvline(replies_queued - start, color=COLOURS[1], linestyle="--", linewidth=1)
    axes.set_xlabel("seconds since the first text reached Twilio")
    axes.set_ylabel("texts at Twilio")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize=8)
    axes.set_title("Dispatcher pacing: replies queued (dashed) overtake proactive texts")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
