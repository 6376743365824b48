"""Raw inbound texts: stored once per MessageSid, in group commits, before the acknowledgement."""

import asyncio

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.sms.inbound import InboundSms, accept
from bot.sms.receipts import ReceiptWriter, insert_receipts, unprocessed
from bot.store import Database


def _sms(n: int, sid: str | None = None) -> InboundSms:
    return InboundSms(
        sid=sid or f"SM{n:032d}",
        account_sid="AC" + "0" * 32,
        from_phone=f"+1206555{n:04d}",
        to="+15005550006",
        body=f"text {n}",
        media=({"url": "https://api.twilio.com/m/1", "content_type": "image/jpeg"},)
        if n == 1
        else (),
    )


def test_a_text_is_stored_once_per_message_sid(db: Database, clock: FixedClock) -> None:
    first = insert_receipts(db, [_sms(1), _sms(2)], clock)
    again = insert_receipts(db, [_sms(2), _sms(3)], clock)
    assert all(isinstance(i, int) for i in first)
    assert again[0] is None  # Twilio's retry of text 2
    assert isinstance(again[1], int)
    assert [sms.body for sms, _ in unprocessed(db)] == ["text 1", "text 2", "text 3"]


def test_the_same_sid_twice_in_one_batch_is_one_text(db: Database, clock: FixedClock) -> None:
    ids = insert_receipts(db, [_sms(5), _sms(5)], clock)
    assert isinstance(ids[0], int)
    assert ids[1] is None
    assert len(unprocessed(db)) == 1


def test_the_stored_text_comes_back_whole(db: Database, clock: FixedClock) -> None:
    insert_receipts(db, [_sms(1)], clock)
    ((sms, _),) = unprocessed(db)
    assert sms == _sms(1)


def test_sorting_a_text_marks_its_receipt_processed(db: Database, clock: FixedClock) -> None:
    (receipt_id,) = insert_receipts(db, [_sms(7)], clock)
    accepted = accept(db, _sms(7), Settings(), clock, receipt_id)
    assert accepted.for_assistant
    assert unprocessed(db) == []


async def test_concurrent_texts_share_transactions_and_keep_their_order(
    db: Database, clock: FixedClock
) -> None:
    stored: list[str] = []
    writer = ReceiptWriter(db, clock, lambda sms, _: stored.append(sms.sid))
    texts = [_sms(n) for n in range(60)]
    results = await asyncio.gather(*(writer.store(sms) for sms in texts))
    assert results == [True] * 60
    assert stored == [sms.sid for sms in texts]  # arrival order
    assert await writer.store(texts[3]) is False  # a retry is recognised
    assert stored == [sms.sid for sms in texts]  # and not queued again
    assert len(unprocessed(db)) == 60


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each batch the writer stores, in order."""
    sizes: list[int] = []

    def counting(db: Database, texts, clock) -> list[int | None]:
        sizes.append(len(texts))
        return insert_receipts(db, texts, clock)

    monkeypatch.setattr("bot.sms.receipts.insert_receipts", counting)
    return sizes


async def test_texts_arriving_a_moment_apart_share_one_transaction(
    db: Database, clock: FixedClock, batches: list[int]
) -> None:
    writer = ReceiptWriter(db, clock, lambda sms, _: None, linger=0.05, max_linger=1.0)

    async def arrive(n: int) -> bool:
        await asyncio.sleep(0.01 * n)  # a burst read off the network over 100 ms
        return await writer.store(_sms(n))

    assert await asyncio.gather(*(arrive(n) for n in range(10))) == [True] * 10
    assert batches == [10]


async def test_a_steady_stream_is_still_written_in_bounded_batches(
    db: Database, clock: FixedClock, batches: list[int]
) -> None:
    writer = ReceiptWriter(db, clock, lambda sms, _: None, linger=0.05, max_linger=0.1)

    async def arrive(n: int) -> bool:
        await asyncio.sleep(0.01 * n)  # never a 50 ms pause, for 400 ms
        return await writer.store(_sms(n))

    assert await asyncio.gather(*(arrive(n) for n in range(40))) == [True] * 40
    assert sum(batches) == 40
    assert len(batches) >= 2  # the first batch did not wait for the stream to end
