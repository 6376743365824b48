"""The benchmark report's figures: drawn beside the report and linked from it."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from bench import channels, pacing
from bench.burst import Ack, Burst
from bench.report import Section, document
from tests.fakes.twilio import SentMessage

PNG = b"\x89PNG\r\n\x1a\n"


def _burst(channel: str, text: str, ack_s: float, answer_s: float) -> Burst:
    senders = [f"+1206555{n:04d}" for n in range(100)]
    acks = [Ack(s, True, ack_s * (1 + n / 100), 0.0) for n, s in enumerate(senders)]
    answered = {s: answer_s * (1 + n / 50) for n, s in enumerate(senders)}
    return Burst(channel, text, acks, answered, as_expected=100)


def test_the_burst_figures_are_drawn_and_linked(tmp_path: Path) -> None:
    results = [
        _burst(channel, text, ack, answer)
        for text in channels.TEXTS
        for channel, ack, answer in (
            (channels.SMS, 0.02, 2.0),
            (channels.REST, 0.5, 1.8),
            (channels.TWILIO, 1.5, 2.5),
        )
    ]
    section = channels.section(results)
    assert "![" not in section.markdown()  # nothing drawn, nothing linked
    section.draw(tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"bench-burst-{n}.png" for n in range(1, len(channels.TEXTS) + 1)]
    assert all((tmp_path / f).read_bytes().startswith(PNG) for f in files)
    report = document([section], datetime(2026, 12, 4, tzinfo=timezone.utc), 60.0, 0.5)
    assert "](bench-burst-1.png)" in report


def test_the_pacing_figure_is_drawn(tmp_path: Path) -> None:
    sent_at = [1000.0 + n / 10 for n in range(300)]
    replies = frozenset(f"+1415555{n:04d}" for n in range(20))
    run = pacing.Run(
        sent=[_sent(f"+1312555{n:04d}", t) for n, t in enumerate(sent_at[:280])]
        + [_sent(r, t) for r, t in zip(sorted(replies), sent_at[280:], strict=True)],
        replies=replies,
        proactive_queued_at=999.0,
        replies_queued_at=1010.0,
    )
    section: Section = pacing.section(run)
    section.draw(tmp_path)
    assert (tmp_path / "bench-pacing.png").read_bytes().startswith(PNG)
    assert "![Texts reaching Twilio over time](bench-pacing.png)" in section.markdown()


def _sent(to: str, at: float) -> SentMessage:
    when = datetime.fromtimestamp(at, tz=timezone.utc)
    return SentMessage("SM1", to, "+15005550006", None, "hi", (), None, when, "queued", 1)
