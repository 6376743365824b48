"""NLU evaluation on the held-out set: the numbers `make eval` prints and keeps in reports/."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# Intents that change something for the customer: off-topic text must never land here.
ACTING_INTENTS = frozenset({"cancel_order", "return_request", "change_address", "opt_out"})
MACRO_F1_GOAL = 0.95


@dataclass(frozen=True)
class Evaluation:
    macro_f1: float
    accuracy: float
    per_intent: dict[str, dict[str, float]]
    off_topic_acting: list[tuple[str, str]]  # (text, predicted intent) the assistant acts on
    faq_accuracy: float | None

    @property
    def meets_goals(self) -> bool:
        return self.macro_f1 >= MACRO_F1_GOAL and not self.off_topic_acting


def read(report_dir: Path, fallback_threshold: float = 0.0) -> Evaluation:
    """Summarise the files `rasa test nlu --out report_dir` wrote.

    `rasa test nlu` reports the classifier's intent even below the FallbackClassifier's
    threshold, where the assistant would only ask the customer to rephrase; such
    predictions do not count as off-topic text taken for an acting intent.
    """
    report = json.loads((report_dir / "intent_report.json").read_text())
    errors_file = report_dir / "intent_errors.json"
    errors = json.loads(errors_file.read_text()) if errors_file.exists() else []
    per_intent = {
        name: {
            k: float(v)
            for k, v in row.items()
            if k in ("precision", "recall", "f1-score", "support")
        }
        for name, row in report.items()
        if isinstance(row, dict) and "f1-score" in row and not name.endswith("avg")
    }
    off_topic = [
        (e["text"], e["intent_prediction"]["name"])
        for e in errors
        if e.get("intent") == "out_of_scope"
        and e["intent_prediction"]["name"] in ACTING_INTENTS
        and (e["intent_prediction"].get("confidence") or 0.0) >= fallback_threshold
    ]
    return Evaluation(
        macro_f1=float(report["macro avg"]["f1-score"]),
        accuracy=float(report.get("accuracy", 0.0)),
        per_intent=per_intent,
        off_topic_acting=off_topic,
        faq_accuracy=_faq_accuracy(report_dir),
    )


def _faq_accuracy(report_dir: Path) -> float | None:
    path = report_dir / "response_selection_report.json"
    if not path.exists():
        return None
    return float(json.loads(path.read_text()).get("accuracy", 0.0))


def markdown(result: Evaluation) -> str:
    """The table `make eval` prints and writes to reports/nlu/summary.md."""
    status = "meets" if result.meets_goals else "MISSES"
    faq = "n/a" if result.faq_accuracy is None else f"{result.faq_accuracy:.3f}"
    lines = [
        "# NLU evaluation (held-out set: tests/nlu/held_out.yml)",
        "",
        "| measure | value | goal |",
        "|---|---|---|",
        f"| macro-F1 | {result.macro_f1:.3f} | >= {MACRO_F1_GOAL} |",
        f"| accuracy | {result.accuracy:.3f} | |",
        f"| off-topic taken for an acting intent | {len(result.off_topic_acting)} | 0 |",
        f"| FAQ topic accuracy (ResponseSelector) | {faq} | |",
        "",
        f"Result: {status} the goals.",
        "",
        "| intent | precision | recall | F1 | examples |",
        "|---|---|---|---|---|",
    ]
    for name, row in sorted(result.per_intent.items()):
        lines.append(
            f"| {name} | {row['precision']:.2f} | {row['recall']:.2f} | "
            f"{row['f1-score']:.2f} | {int(row['support'])} |"
        )
    lines += [f"- off-topic -> {intent}: {text!r}" for text, intent in result.off_topic_acting]
    return "\n".join(lines) + "\n"


def fallback_threshold(config_path: Path) -> float:
    """The FallbackClassifier's threshold in config.yml (0 when there is none)."""
    import yaml

    config = yaml.safe_load(config_path.read_text())
    for component in config.get("pipeline", []):
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3))
    return 0.0
