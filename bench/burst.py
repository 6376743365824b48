"""The load generator: texts from new numbers, all at once, as Twilio or a REST client posts them.

The burst itself is fired from a process of its own (bench.load), so neither its clocks nor
the server it measures share a GIL with the other; warm-ups run on an event loop of the
bench (bench.loops). Acknowledgement latency is the time to the HTTP response; a text is
answered when its reply has reached Twilio (the fake's `received_at`) or, for REST, when
the response arrived.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from twilio.request_validator import RequestValidator

from bench.load import form_request, json_request
from bench.loops import ACCOUNT_SID, AUTH_TOKEN, STORE_NUMBER
from tests.fakes.twilio import FakeTwilio, inbound_sms

REQUEST_TIMEOUT = 120.0  # seconds; Twilio itself would give up after 15 and retry
ANSWER_TIMEOUT = 120.0
GRACE = 1.0  # seconds to wait for the rest of an answer's texts, or for extra ones

Answer = tuple[str, ...]  # the texts a sender got back, in order


@dataclass(frozen=True)
class Target:
    """A channel as its client sees it: where to post, and where its answers arrive."""

    name: str
    url: str
    via_twilio: bool  # a signed Twilio form in, answers at the fake; else Rasa's REST JSON


@dataclass(frozen=True)
class Ack:
    sender: str
    ok: bool  # a 2xx
    seconds: float
    finished_at: float  # wall clock
    answer: Answer = ()  # REST answers in the response


@dataclass(frozen=True)
class Burst:
    channel: str
    text: str
    acks: list[Ack]
    answered_in: dict[str, float]  # sender -> seconds from the burst's start to its answer
    as_expected: int  # senders whose texts were exactly the warm-up's answer
    action_errors: int = 0  # calls from Rasa to the action server that failed meanwhile

    @property
    def sent(self) -> int:
        return len(self.acks)

    @property
    def all_answered_s(self) -> float:
        return max(self.answered_in.values(), default=float("nan"))

    @property
    def throughput(self) -> float:
        return len(self.answered_in) / self.all_answered_s if self.answered_in else 0.0


def numbers(area: int, first: int, count: int) -> list[str]:
    """`count` US numbers, none a demo customer's (those are 555-01xx)."""
    return [f"+1{area}555{first + n:04d}" for n in range(count)]


def _session() -> aiohttp.ClientSession:
    """A new connection per request, as texts from different phones arrive."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    return aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    )


async def post(session: aiohttp.ClientSession, target: Target, sender: str, text: str) -> Ack:
    started, ok, answer = time.perf_counter(), False, ()
    try:
        if target.via_twilio:
            form = inbound_sms(ACCOUNT_SID, sender, STORE_NUMBER, text)
            signature = RequestValidator(AUTH_TOKEN).compute_signature(target.url, form)
            headers = {"X-Twilio-Signature": signature}
            async with session.post(target.url, data=form, headers=headers) as response:
                await response.read()
                ok = 200 <= response.status < 300
        else:
            payload = {"sender": sender, "message": text}
            async with session.post(target.url, json=payload) as response:
                ok = 200 <= response.status < 300
                answer = tuple(m.get("text", "") for m in await response.json()) if ok else ()
    except (aiohttp.ClientError, asyncio.TimeoutError):
        ok = False
    return Ack(sender, ok, time.perf_counter() - started, time.time(), answer)


def received(fake: FakeTwilio, sender: str) -> list[tuple[float, str]]:
    """(when, body) of the texts Twilio took for `sender`, oldest first."""
    return sorted(
        (m.received_at.timestamp(), m.body) for m in list(fake.messages) if m.to == sender
    )


async def warm_up(target: Target, senders: Sequence[str], text: str, fake: FakeTwilio) -> Answer:
    """Texts one at a time (the model's first turns are slow); returns the usual answer."""
    answers: list[Answer] = []
    async with _session() as session:
        for sender in senders:
            ack = await post(session, target, sender, text)
            if target.via_twilio and ack.ok:
                await _wait_for(lambda s=sender: bool(received(fake, s)), ANSWER_TIMEOUT)
                await asyncio.sleep(GRACE)
                answers.append(tuple(body for _, body in received(fake, sender)))
            else:
                answers.append(ack.answer)
    usual, _ = Counter(answers).most_common(1)[0]
    if not usual:
        raise RuntimeError(f"warm-up: {target.name} did not answer {text!r}")
    return usual


async def burst(
    target: Target, senders: Sequence[str], text: str, fake: FakeTwilio, expected: Answer
) -> Burst:
    """Every sender texts at once; wait until each has as many texts as `expected` holds."""
    start, acks = await asyncio.to_thread(_fire, target, senders, text)
    if target.via_twilio:
        enough = len(expected)
        await _wait_for(lambda: _least(fake, senders) >= enough, ANSWER_TIMEOUT)
        await asyncio.sleep(GRACE)  # extra texts (a turn gone wrong) arrive by now
        texts = {s: received(fake, s) for s in senders}
        answered = {s: t[enough - 1][0] - start for s, t in texts.items() if len(t) >= enough}
        answers = {s: tuple(body for _, body in t) for s, t in texts.items()}
    else:
        answered = {a.sender: a.finished_at - start for a in acks if a.answer}
        answers = {a.sender: a.answer for a in acks}
    right = sum(1 for answer in answers.values() if answer == expected)
    return Burst(target.name, text, list(acks), answered, right)


def _fire(target: Target, senders: Sequence[str], text: str) -> tuple[float, list[Ack]]:
    """Post one text per sender at once from `python -m bench.load`; (its start, the acks)."""
    url = urlsplit(target.url)
    job = {
        "host": url.hostname,
        "port": url.port,
        "timeout": REQUEST_TIMEOUT,
        "requests": [{"sender": s, "raw": _request(target, s, text)} for s in senders],
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.load"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=True,
        timeout=REQUEST_TIMEOUT + 60,
    )
    out = json.loads(done.stdout)
    acks = [_ack(target, r) for r in out["results"]]
    return out["started_at"], acks


def _request(target: Target, sender: str, text: str) -> str:
    if target.via_twilio:
        form = inbound_sms(ACCOUNT_SID, sender, STORE_NUMBER, text)
        signature = RequestValidator(AUTH_TOKEN).compute_signature(target.url, form)
        return form_request(target.url, form, {"X-Twilio-Signature": signature})
    return json_request(target.url, {"sender": sender, "message": text})


def _ack(target: Target, result: dict) -> Ack:
    ok = 200 <= result["status"] < 300
    answer: Answer = ()
    if ok and not target.via_twilio:
        answer = tuple(m.get("text", "") for m in json.loads(result["body"]))
    return Ack(result["sender"], ok, result["seconds"], result["finished_at"], answer)


def _least(fake: FakeTwilio, senders: Sequence[str]) -> int:
    """The fewest texts any of `senders` has got (cheap enough to poll)."""
    counts = Counter(m.to for m in list(fake.messages))
    return min(counts[s] for s in senders)


async def _wait_for(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True
