"""The report: one section per benchmark, as Markdown on stdout and in reports/bench.md."""

from __future__ import annotations

import importlib.metadata
import math
import os
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

REPRODUCE = (
    "Reproduce: `make bench` (or `.venv/bin/python -m bench`; `python -m bench burst` runs "
    "one benchmark and prints it without writing this file). Logs: `results/bench/`."
)


@dataclass(frozen=True)
class Table:
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]

    def markdown(self) -> str:
        lines = [_row(self.columns), _row(["---"] * len(self.columns))]
        return "\n".join(lines + [_row(r) for r in self.rows])


@dataclass(frozen=True)
class Goal:
    """A target from an issue, what this run measured, and whether that meets it."""

    goal: str
    measured: str
    met: bool


@dataclass(frozen=True)
class Figure:
    """A picture of a benchmark's data: `draw(path)` writes a PNG beside the report."""

    filename: str
    caption: str
    draw: Callable[[Path], None]


@dataclass
class Section:
    """One benchmark: how it was measured, its tables, its goals and what to know about it."""

    title: str
    method: str
    tables: list[Table | str] = field(default_factory=list)  # a str is Markdown as it is
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    drawn: list[Figure] = field(default_factory=list)  # the figures written beside the report

    def draw(self, directory: Path) -> None:
        """Write this section's figures into `directory` (the report's), to be linked."""
        for figure in self.figures:
            figure.draw(directory / figure.filename)
            self.drawn.append(figure)

    def markdown(self) -> str:
        parts = [f"## {self.title}", self.method]
        parts += [t if isinstance(t, str) else t.markdown() for t in self.tables]
        parts += [f"![{f.caption}]({f.filename})" for f in self.drawn]
        if self.goals:
            rows = [(g.goal, g.measured, "met" if g.met else "**MISSED**") for g in self.goals]
            parts.append(Table(("goal", "measured", "result"), rows).markdown())
        if self.notes:
            parts.append("\n".join(f"- {note}" for note in self.notes))
        return "\n\n".join(parts)


def document(sections: Sequence[Section], started: datetime, seconds: float, load: float) -> str:
    """The whole report: when, where and how to reproduce, then every section."""
    head = [
        "# Pigeon benchmarks",
        f"Run {started:%Y-%m-%d %H:%M} UTC on {machine()}; the run took {seconds / 60:.1f} min. "
        f"Load average when it started: {load:.1f}; other work on the machine slows every row, "
        "so compare rows of one run rather than separate runs.",
        REPRODUCE,
    ]
    return "\n\n".join(head + [s.markdown() for s in sections]) + "\n"


def machine() -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{cpus} CPUs (nproc){_cpu_model()}, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, Rasa {importlib.metadata.version('rasa')}"
    )


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return ""
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return f", {names[0]}" if names else ""


def progress(message: str) -> None:
    """A line on stderr while the benchmarks run; stdout is for the tables."""
    print(f"[{datetime.now(timezone.utc):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated between the nearest ranks; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"
