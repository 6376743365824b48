"""The fault runs' section of the report: what the scenarios counted, against the promises."""

from __future__ import annotations

from typing import Any

from bench.faults import lost, section


def _run(scenario: str, **counts: int) -> dict[str, Any]:
    base = {
        "inbound_posted": 10,
        "inbound_stored": 10,
        "inbound_answered": 10,
        "inbound_held": 0,
        "inbound_answer_unknown": 0,
        "inbound_unanswered": 0,
        "outbound_sent": 10,
        "duplicates": 0,
        "to_opted_out": 0,
    }
    return {"scenario": scenario, **base, **counts}


def test_clean_runs_meet_every_goal() -> None:
    runs = [
        _run("twilio_outage"),
        _run("desk_killed", inbound_answered=8, inbound_answer_unknown=2),
    ]
    result = section(runs, 0)
    assert [g.met for g in result.goals] == [True, True, True]
    assert "| desk_killed | 10/10/8 | 2 | 10 | 0 | 0 | 0 |" in result.markdown()


def test_a_lost_text_a_repeat_and_an_opted_out_send_are_each_missed() -> None:
    runs = [
        _run("actions_killed", inbound_answered=6, inbound_unanswered=4),
        _run("shopify_retries", duplicates=1),
        _run("stop_while_queued", to_opted_out=1, inbound_posted=11),
    ]
    goals = {g.goal: g for g in section(runs, 1).goals}
    assert [lost(r) for r in runs] == [4, 0, 1]
    assert goals["0 lost"].measured == "5 (actions_killed, stop_while_queued)"
    assert not goals["0 lost"].met
    assert not goals["0 duplicated"].met
    assert not goals["0 sent after opt-out"].met


def test_no_counts_is_not_a_pass() -> None:
    result = section([], 4)
    assert not any(g.met for g in result.goals)
    assert "pytest exited 4" in result.markdown()
