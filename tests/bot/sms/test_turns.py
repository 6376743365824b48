"""SenderQueues: one sender's jobs in the order added, other senders alongside; AssistantThread."""

import asyncio
import threading
import time

import pytest

from bot.sms.turns import AcksFirst, AssistantThread, SenderQueues


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


# --- the assistant's thread ---


async def test_turns_run_on_the_assistant_thread_and_return_their_result() -> None:
    assistant = AssistantThread("assistant-test")

    async def turn() -> str:
        await asyncio.sleep(0)
        return threading.current_thread().name

    try:
        assert await assistant.run(turn()) == "assistant-test"
        assert await assistant.run(turn()) == "assistant-test"  # the same thread, reused
    finally:
        assistant.close()


async def test_a_blocking_turn_leaves_the_callers_loop_free() -> None:
    """Rasa predicts without yielding: the webhooks' loop must go on meanwhile."""
    assistant = AssistantThread()

    async def blocking_turn() -> None:
        time.sleep(0.5)  # as a model's prediction holds its loop

    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.ensure_future(tick())
    try:
        await assistant.run(blocking_turn())
    finally:
        ticker.cancel()
        assistant.close()
    assert ticks >= 10  # the caller's loop ran all along (it would be 1 on one loop)


async def test_a_failing_turn_raises_in_the_caller() -> None:
    assistant = AssistantThread()

    async def turn() -> None:
        raise RuntimeError("the model fell over")

    try:
        with pytest.raises(RuntimeError, match="fell over"):
            await assistant.run(turn())
    finally:
        assistant.close()


async def test_cancelling_the_caller_cancels_the_turn() -> None:
    assistant, cancelled = AssistantThread(), threading.Event()

    async def endless_turn() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    try:
        waiting = asyncio.ensure_future(assistant.run(endless_turn()))
        await asyncio.sleep(0.1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert await asyncio.to_thread(cancelled.wait, 5)
    finally:
        assistant.close()


def test_close_stops_the_thread_and_a_closed_one_starts_again() -> None:
    assistant = AssistantThread("assistant-close")

    async def name() -> str:
        return threading.current_thread().name

    assert asyncio.run(assistant.run(name())) == "assistant-close"
    assistant.close()
    assert "assistant-close" not in {t.name for t in threading.enumerate()}
    assert asyncio.run(assistant.run(name())) == "assistant-close"
    assistant.close()


# --- acknowledgements first ---


async def test_work_waits_while_a_webhook_is_in_progress_and_a_moment_after() -> None:
    acks = AcksFirst(settle=0.05, patience=5.0)
    acks.started()
    waiting = asyncio.ensure_future(acks.lull())
    await asyncio.sleep(0.2)
    assert not waiting.done()  # a webhook is still being acknowledged
    acks.finished()
    ended = time.monotonic()
    await asyncio.wait_for(waiting, 2)
    assert time.monotonic() - ended >= 0.04  # and then it let the next one in, if any


async def test_with_no_webhooks_work_goes_at_once() -> None:
    acks = AcksFirst(settle=0.05)
    started = time.monotonic()
    await acks.lull()
    assert time.monotonic() - started < 0.04


async def test_a_steady_stream_of_webhooks_cannot_starve_the_work() -> None:
    acks = AcksFirst(settle=0.05, patience=0.3)
    acks.started()  # never ends
    started = time.monotonic()
    await asyncio.wait_for(acks.lull(), 3)
    assert 0.25 <= time.monotonic() - started < 2.0


async def test_a_webhook_in_the_settling_moment_holds_every_waiter_back_again() -> None:
    acks = AcksFirst(settle=0.1, patience=5.0)
    acks.started()
    waiters = [asyncio.ensure_future(acks.lull()) for _ in range(50)]
    acks.finished()
    await asyncio.sleep(0.05)
    acks.started()  # the next text of the burst, before the lull
    await asyncio.sleep(0.2)
    assert not any(w.done() for w in waiters)
    acks.finished()
    ended = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*waiters), 2)
    assert time.monotonic() - ended >= 0.09
