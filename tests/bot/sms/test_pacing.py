"""Pacing: at most one second's worth of segments at once, then `rate` segments per second.

Real time with loose bounds: the lower bounds are what pacing promises, the upper ones only
catch a pacer that hangs.
"""

import asyncio
import time

import pytest

from bot.sms.pacing import Pacer


async def _timed(coroutine) -> float:
    start = time.monotonic()
    await coroutine
    return time.monotonic() - start


async def _acquire_all(pacer: Pacer, count: int, segments: int = 1) -> None:
    for _ in range(count):
        await pacer.acquire(segments)


@pytest.mark.parametrize("rate", [0, -1])
def test_a_rate_must_be_positive(rate: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        Pacer(rate)


async def test_one_seconds_worth_goes_at_once() -> None:
    assert await _timed(_acquire_all(Pacer(20), 20)) < 0.2


async def test_after_the_burst_segments_go_at_the_rate() -> None:
    pacer = Pacer(20)
    await _acquire_all(pacer, 20)
    elapsed = await _timed(_acquire_all(pacer, 10))
    assert 0.45 <= elapsed < 3.0  # 10 more at 20/s: 0.5 s


async def test_a_long_code_sends_one_segment_per_second() -> None:
    pacer = Pacer(1)
    await pacer.acquire()
    assert 0.9 <= await _timed(pacer.acquire()) < 3.0


async def test_a_long_message_waits_for_all_its_segments() -> None:
    pacer = Pacer(10)
    await _acquire_all(pacer, 10)
    assert 0.45 <= await _timed(pacer.acquire(5)) < 3.0  # 5 segments at 10/s


async def test_zero_segments_still_costs_one() -> None:
    pacer = Pacer(10)
    await _acquire_all(pacer, 10)
    assert 0.08 <= await _timed(pacer.acquire(0)) < 2.0


async def test_concurrent_senders_share_one_rate() -> None:
    pacer = Pacer(20)
    elapsed = await _timed(asyncio.gather(*(pacer.acquire() for _ in range(30))))
    assert 0.45 <= elapsed < 3.0  # 20 at once, then 10 at 20/s


async def test_an_idle_pacer_refills_but_not_beyond_one_second() -> None:
    now = [100.0]
    pacer = Pacer(10, monotonic=lambda: now[0])
    await _acquire_all(pacer, 10)
    now[0] += 60  # a minute idle: the bucket is full again, but holds only 10
    assert await _timed(_acquire_all(pacer, 10)) < 0.2
    assert await _timed(pacer.acquire()) >= 0.08


async def test_a_refunded_slot_can_be_used_again_at_once() -> None:
    pacer = Pacer(rate=1)
    await pacer.acquire(1)  # the bucket (one second's worth) is empty now
    pacer.refund(1)
    assert await _timed(pacer.acquire(1)) < 0.5  # no wait: the slot came back
