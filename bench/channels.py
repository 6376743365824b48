"""Benchmark 1: a burst of 100 texts from 100 new numbers, through each channel in turn.

Pigeon's SMS channel against Rasa's REST channel (the throughput baseline) and Rasa's built-in
twilio channel (the channel it replaces), in one Rasa server, with one model and action server.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rasa.core.channels.twilio import TwilioInput, TwilioOutput

from bench import plots
from bench.burst import Burst, Target, burst, numbers, warm_up
from bench.loops import ACCOUNT_SID, AUTH_TOKEN, STORE_NUMBER, LoopThread, fake_twilio
from bench.report import Figure, Goal, Section, Table, percentile, progress
from bench.stack import (
    ActionServer,
    DeskServer,
    RasaServer,
    bench_settings,
    prepare_database,
    unfinished_texts,
)
from bot.launch import ROOT
from bot.store import Database
from tests.fakes.twilio import FakeTwilio

TEXTS = ("hi", "where is my order")  # a rule answers the first; a form asks after the second
SENDERS = 100
WARM_UP = 3
ACK_P99_GOAL_MS = 50.0
THROUGHPUT_GOAL = 0.9  # of REST's
TWILIO_GIVES_UP_S = 15
RASA_ACTION_LOGGER = "rasa.core.actions.action"
SMS, REST, TWILIO = "sms (Pigeon)", "rest (Rasa)", "twilio (Rasa built-in)"
AREA = {SMS: 206, REST: 415, TWILIO: 312}  # each channel's senders are new numbers

METHOD = f"""\
`rasa run` (Rasa {{rasa}}, `models/pigeon.tar.gz`, as the Procfile starts it) with three input
channels: Pigeon's `sms`, Rasa's `rest`, and Rasa's built-in `twilio` pointed at a fake
Twilio that the bench serves on an event loop of its own. As in production, the action
server and the desk (`python -m bot serve`, whose outbox dispatcher sends the SMS channel's
replies; pacing 1,000/s, so pacing is not what is measured) are processes of their own.
The database is SQLite, the embedded default. For each text and channel in turn:
{WARM_UP} texts one at a time to warm up, then {SENDERS} texts from {SENDERS} new numbers at
once, each on a new connection, fired from a process of its own (`bench/load.py`: prepared
requests on bare asyncio streams, on uvloop as Sanic serves them), so
the load generator neither slows the server nor is slowed by it.
*ack* is the time to the HTTP response; a text is *answered* when its reply reached Twilio's
API (for `rest`: when the response with the reply arrived); *as expected*: the number got
exactly the answer the warm-up texts got, nothing more; *all answered* runs from the first
request to the last answer; *answered/s* = answered / all answered."""


class FakeBackedTwilioInput(TwilioInput):
    """Rasa's built-in twilio channel, unchanged but for where its Twilio client points.

    Named by module path in the bench's credentials file, with `api_url` the fake's URL.
    """

    def __init__(self, api_url: str) -> None:
        super().__init__(ACCOUNT_SID, AUTH_TOKEN, STORE_NUMBER)
        self.api_url = api_url

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> FakeBackedTwilioInput:
        return cls((credentials or {})["api_url"])

    def get_output_channel(self) -> TwilioOutput:
        out = TwilioOutput(self.account_sid, self.auth_token, self.twilio_number)
        out.api.base_url = self.api_url  # still the synchronous SDK, called inline
        return out


async def run(logs: Path) -> Section:
    with tempfile.TemporaryDirectory(prefix="pigeon-bench-") as tmp:
        async with fake_twilio() as fake:
            results = await _measure(Path(tmp), fake, logs)
    return section(results)


@dataclass(frozen=True)
class Rig:
    """What a burst needs besides its target: where answers arrive and when all is quiet."""

    fake: FakeTwilio
    load: LoopThread  # the load generator's event loop
    db: Database
    rasa_log: Path  # Rasa logs a failed action call there and carries on without it


def credentials(path: Path, twilio_url: str) -> Path:
    """Pigeon's channels as in `credentials.yml`, plus Rasa's twilio channel at the fake.

    The REST baseline is Rasa's own channel, open, as it was measured: the bench's Rasa
    listens on loopback only (Pigeon's, behind RASA_TOKEN, would answer 401).
    """
    channel = f"{FakeBackedTwilioInput.__module__}.{FakeBackedTwilioInput.__name__}"
    ours = (ROOT / "credentials.yml").read_text()
    ours = ours.replace("channels.rest.TokenRestInput:", "rest:")
    path.write_text(ours + f"{channel}:\n  api_url: {twilio_url}\n")
    return path


async def _measure(data_dir: Path, fake: FakeTwilio, logs: Path) -> list[Burst]:
    settings = bench_settings(data_dir, fake.url, mps=1000)
    db = await asyncio.to_thread(prepare_database, Database(settings.database_url))
    actions = ActionServer(settings, logs / "action-server.log")
    settings = replace(settings, action_port=actions.port)
    rasa = RasaServer(
        settings, logs / "rasa.log", credentials(data_dir / "credentials.yml", fake.url)
    )
    desk = DeskServer(settings, logs / "desk.log")
    servers = (actions, rasa, desk)
    for server in servers:
        server.start()
    try:
        progress("burst: starting Rasa (the model loads in about a minute), actions, the desk")
        await asyncio.gather(*(server.ready() for server in servers))
        base = f"http://127.0.0.1:{rasa.port}"
        with LoopThread("load") as load:
            targets = [
                Target(SMS, f"{base}/webhooks/sms/webhook", via_twilio=True),
                Target(REST, f"{base}/webhooks/rest/webhook", via_twilio=False),
                Target(TWILIO, f"{base}/webhooks/twilio/webhook", via_twilio=True),
            ]
            return await _bursts(targets, Rig(fake, load, db, rasa.log_path))
    finally:
        for server in servers:
            server.stop()
        db.dispose()


async def _bursts(targets: list[Target], rig: Rig) -> list[Burst]:
    """Each text through each channel in turn: warm up, then the burst, then let it settle."""
    results = []
    for t, text in enumerate(TEXTS):
        for target in targets:
            area = AREA[target.name]
            progress(f"burst: {text!r} through {target.name}")
            warm = numbers(area, 2900 + 10 * t, WARM_UP)
            expected = await rig.load.run(warm_up(target, warm, text, rig.fake))
            await _settle(rig)
            senders = numbers(area, 2000 + 200 * t, SENDERS)
            errors_before = action_errors(rig.rasa_log)
            result = await rig.load.run(burst(target, senders, text, rig.fake, expected))
            await _settle(rig)
            errors = action_errors(rig.rasa_log) - errors_before
            results.append(replace(result, action_errors=errors))
    return results


def action_errors(rasa_log: Path) -> int:
    """Failed calls from Rasa to the action server logged so far."""
    with rasa_log.open(errors="replace") as log:
        return sum(1 for line in log if "ERROR" in line and RASA_ACTION_LOGGER in line)


async def _settle(rig: Rig) -> None:
    """Let the last run's turns and texts finish, so runs never overlap."""
    while await asyncio.to_thread(unfinished_texts, rig.db):
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)


def section(results: list[Burst]) -> Section:
    import rasa

    rows, goals, notes = [], [], []
    for text in TEXTS:
        runs = {r.channel: r for r in results if r.text == text}
        rest = runs[REST].throughput
        for r in runs.values():
            rows.append(_row(r, rest))
            notes += _notes(r)
        sms = runs[SMS]
        p99 = percentile([a.seconds for a in sms.acks], 99) * 1000
        goals.append(
            Goal(
                f"sms ack p99 <= {ACK_P99_GOAL_MS:g} ms ({text!r})",
                f"{_ms(p99)} ms",
                p99 <= ACK_P99_GOAL_MS,
            )
        )
        ratio = sms.throughput / rest if rest else math.nan
        goals.append(
            Goal(
                f"sms throughput >= {THROUGHPUT_GOAL} x rest ({text!r})",
                f"{ratio:.2f} x",
                ratio >= THROUGHPUT_GOAL,
            )
        )
    columns = ("text", "channel", "ack p50 ms", "ack p99 ms", "answered", "as expected")
    columns += ("all answered s", "answered/s", "vs rest")
    return Section(
        "Inbound burst: 100 texts from 100 numbers (issue 4)",
        METHOD.format(rasa=rasa.__version__),
        [Table(columns, rows)],
        goals,
        notes,
        [_figure(results, text, n) for n, text in enumerate(TEXTS, 1)],
    )


def _figure(results: list[Burst], text: str, n: int) -> Figure:
    runs = [r for r in results if r.text == text]
    acks = {r.channel: [a.seconds * 1000 for a in r.acks] for r in runs}
    answered = {r.channel: list(r.answered_in.values()) for r in runs}
    title = f"100 texts {text!r} from 100 numbers, per channel"
    return Figure(
        f"bench-burst-{n}.png",
        f"Acknowledgement and answer times, {text!r}",
        lambda path: plots.burst(path, acks, answered, title),
    )


def _row(r: Burst, rest_throughput: float) -> tuple[str, ...]:
    acks = [a.seconds for a in r.acks]
    failed = sum(1 for a in r.acks if not a.ok)
    answered = f"{len(r.answered_in)}/{r.sent}" + (f" ({failed} refused)" if failed else "")
    relative = r.throughput / rest_throughput if rest_throughput else math.nan
    return (
        repr(r.text),
        r.channel,
        _ms(percentile(acks, 50) * 1000),
        _ms(percentile(acks, 99) * 1000),
        answered,
        str(r.as_expected),
        f"{r.all_answered_s:.2f}",
        f"{r.throughput:.1f}",
        f"{relative:.2f} x",
    )


def _notes(r: Burst) -> list[str]:
    notes = []
    late = sum(1 for a in r.acks if a.seconds > TWILIO_GIVES_UP_S)
    if late and r.channel != REST:
        notes.append(
            f"{r.channel}, {r.text!r}: {late} of {r.sent} acks took over {TWILIO_GIVES_UP_S} s, "
            "after which Twilio gives up and retries the webhook (answering twice)."
        )
    if r.action_errors:
        notes.append(
            f"{r.channel}, {r.text!r}: {r.action_errors} call(s) from Rasa to the action server "
            f"failed during the burst; Rasa carries on without that action's events "
            f"(`{RASA_ACTION_LOGGER}` in results/bench/rasa.log)."
        )
    if r.as_expected < r.sent:
        notes.append(
            f"{r.channel}, {r.text!r}: {r.sent - r.as_expected} number(s) did not get exactly "
            "the warm-up's answer (a different or repeated text; see results/bench/rasa.log)."
        )
    return notes


def _ms(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"
