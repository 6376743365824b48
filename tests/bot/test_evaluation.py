import json
from pathlib import Path

from bot.evaluation import fallback_threshold, markdown, read


def _reports(tmp_path: Path, errors: list[dict], macro: float = 0.96) -> Path:
    report = {
        "greet": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 13},
        "out_of_scope": {"precision": 0.9, "recall": 0.8, "f1-score": 0.85, "support": 15},
        "accuracy": 0.95,
        "macro avg": {"precision": 0.9, "recall": 0.9, "f1-score": macro, "support": 28},
        "weighted avg": {"precision": 0.9, "recall": 0.9, "f1-score": 0.9, "support": 28},
    }
    (tmp_path / "intent_report.json").write_text(json.dumps(report))
    (tmp_path / "intent_errors.json").write_text(json.dumps(errors))
    (tmp_path / "response_selection_report.json").write_text(json.dumps({"accuracy": 0.9}))
    return tmp_path


def _error(intent: str, predicted: str, confidence: float, text: str = "x") -> dict:
    return {
        "text": text,
        "intent": intent,
        "intent_prediction": {"name": predicted, "confidence": confidence},
    }


def test_off_topic_taken_for_an_acting_intent_is_counted(tmp_path: Path) -> None:
    errors = [
        _error("out_of_scope", "cancel_order", 0.9, "my flight got cancelled"),
        _error("out_of_scope", "greet", 0.9),  # not an acting intent
        _error("order_status", "cancel_order", 0.9),  # not off-topic
    ]
    result = read(_reports(tmp_path, errors), fallback_threshold=0.5)
    assert result.off_topic_acting == [("my flight got cancelled", "cancel_order")]
    assert not result.meets_goals


def test_predictions_below_the_fallback_threshold_do_not_act(tmp_path: Path) -> None:
    errors = [_error("out_of_scope", "opt_out", 0.44, "stop the noise")]
    assert read(_reports(tmp_path, errors), fallback_threshold=0.5).off_topic_acting == []
    assert read(_reports(tmp_path, errors), fallback_threshold=0.0).off_topic_acting != []


def test_goals_and_table(tmp_path: Path) -> None:
    result = read(_reports(tmp_path, [], macro=0.96))
    assert result.meets_goals
    table = markdown(result)
    assert "| macro-F1 | 0.960 | >= 0.95 |" in table
    assert "| greet | 1.00 | 1.00 | 1.00 | 13 |" in table
    assert "Result: meets the goals." in table
    assert not read(_reports(tmp_path, [], macro=0.94)).meets_goals


def test_fallback_threshold_comes_from_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        "pipeline:\n  - name: DIETClassifier\n  - name: FallbackClassifier\n    threshold: 0.6\n"
    )
    assert fallback_threshold(config) == 0.6
    config.write_text("pipeline:\n  - name: DIETClassifier\n")
    assert fallback_threshold(config) == 0.0
