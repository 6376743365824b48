"""Benchmark 3: the NLU evaluation on the held-out set, as `python -m bot eval` reports it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from bench.report import Section, progress
from bot.launch import ROOT

SUMMARY = ROOT / "reports" / "nlu" / "summary.md"
METHOD = """\
`python -m bot eval` (`make eval`): `rasa test nlu` on `tests/nlu/held_out.yml` with the same
model; the full report is `reports/nlu/summary.md`. Its summary table:"""


async def run(logs: Path) -> Section:
    progress("nlu: python -m bot eval (a minute or two)")
    log = logs / "nlu-eval.log"
    code = await asyncio.to_thread(_eval, log)
    if code != 0:
        raise RuntimeError(f"python -m bot eval failed (exit {code}); see {log}")
    table, verdict = first_table(SUMMARY.read_text())
    return Section("NLU evaluation (held-out set)", METHOD, [table], notes=verdict)


def _eval(log: Path) -> int:
    with log.open("w") as out:
        argv = [sys.executable, "-m", "bot", "eval"]
        return subprocess.run(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode


def first_table(markdown: str) -> tuple[str, list[str]]:
    """The first Markdown table in `markdown`, and its "Result: ..." line if there is one."""
    lines = markdown.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("|")), len(lines))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    verdict = [line for line in lines[end:] if line.startswith("Result:")][:1]
    return "\n".join(lines[start:end]), verdict
