"""`python -m bench`: every benchmark in turn; the tables on stdout and in reports/bench.md.

`python -m bench burst pacing` runs some of them and only prints their tables.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before anything imports TensorFlow
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

import argparse
import asyncio
import importlib
import logging
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from bench.report import Section, document, progress

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "reports" / "bench.md"
LOGS = ROOT / "results" / "bench"
# name -> module with `async def run(logs: Path) -> Section`; the order they run in.
BENCHMARKS = {
    "burst": "bench.channels",
    "pacing": "bench.pacing",
    "shopify": "bench.shopify",
    "nlu": "bench.nlu",
    "security": "bench.security",
    "faults": "bench.faults",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    names = args.names or list(BENCHMARKS)
    LOGS.mkdir(parents=True, exist_ok=True)
    _quiet(LOGS / "bench.log")
    started, clock, load = datetime.now(timezone.utc), time.monotonic(), os.getloadavg()[0]
    _ensure_model(LOGS / "train.log")
    sections = asyncio.run(_run(names))
    whole = names == list(BENCHMARKS)
    if whole:  # the figures go beside the report; a partial run only prints its tables
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        for section in sections:
            section.draw(REPORT.parent)
    report = document(sections, started, time.monotonic() - clock, load)
    if whole:
        REPORT.write_text(report)
        progress(f"wrote {REPORT.relative_to(ROOT)}")
    print(report)
    return 0


async def _run(names: Sequence[str]) -> list[Section]:
    sections = []
    for name in names:
        module = importlib.import_module(BENCHMARKS[name])
        sections.append(await module.run(LOGS))
    return sections


def _ensure_model(log: Path) -> None:
    """Train first if the data changed, so every benchmark and the NLU evaluation share a model."""
    progress(f"model: python -m bot train (trains only if the data changed; log: {log})")
    with log.open("w") as out:
        argv = [sys.executable, "-m", "bot", "train"]
        result = subprocess.run(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise SystemExit(f"bench: training failed (exit {result.returncode}); see {log}")


def _quiet(log_file: Path) -> None:
    """Rasa, TensorFlow and Sanic log a lot: all of it goes to a file, not the terminal."""
    logging.basicConfig(
        filename=log_file,
        filemode="w",
        level=logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    # In-process Rasa logs through structlog, which prints every debug event to stdout
    # unless configured (and formatting trackers for it costs CPU the benchmark measures).
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
