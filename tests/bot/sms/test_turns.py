"""SenderQueues: one sender's jobs in the order added, other senders alongside."""

import asyncio
import time

from bot.sms.turns import SenderQueues


async def test_one_senders_jobs_run_one_at_a_time_in_order() -> None:
    queues, log = SenderQueues(), []

    def job(n: int, delay: float):
        async def run() -> None:
            log.append(f"start {n}")
            await asyncio.sleep(delay)
            log.append(f"end {n}")

        return run

    for n, delay in enumerate((0.05, 0.0, 0.02)):
        queues.add("+12065550101", job(n, delay))
    await queues.idle()
    assert log == ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]


async def test_different_senders_run_alongside() -> None:
    queues = SenderQueues()
    start = time.monotonic()
    for n in range(20):
        queues.add(f"+1206555{n:04d}", lambda: asyncio.sleep(0.2))
    await queues.idle()
    assert time.monotonic() - start < 2.0  # 20 x 0.2 s in sequence would be 4 s


async def test_a_failed_job_does_not_stop_the_next() -> None:
    queues, done = SenderQueues(), []

    async def fail() -> None:
        raise RuntimeError("boom")

    async def succeed() -> None:
        done.append(True)

    failed = queues.add("+12065550101", fail)
    queues.add("+12065550101", succeed)
    await queues.idle()
    assert done == [True]
    assert isinstance(failed.exception(), RuntimeError)


async def test_a_job_added_while_another_runs_waits_for_it() -> None:
    queues, log = SenderQueues(), []
    gate = asyncio.Event()

    async def first() -> None:
        await gate.wait()
        log.append("first")

    async def second() -> None:
        log.append("second")

    queues.add("+12065550101", first)
    await asyncio.sleep(0.01)
    queues.add("+12065550101", second)
    await asyncio.sleep(0.05)
    assert log == []
    gate.set()
    await queues.idle()
    assert log == ["first", "second"]
