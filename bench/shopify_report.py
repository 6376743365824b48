"""The Shopify webhook benchmark's section: how it was measured, what it found, the goals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.report import Goal, Section, Table, percentile
from bench.shipments import Delivery
from bench.tally import Tally

WEBHOOKS, SENDERS = 10_000, 50
WARM_UP = 200  # deliveries of one webhook id before the run: one text, 199 repeats
ACK_P99_GOAL_MS, RATE_GOAL = 100.0, 500.0
DRAIN_TIMEOUT = 900.0

METHOD = f"""\
The stack as `make run` starts it, each a process of its own: Rasa (`rasa run --enable-api`
with `models/pigeon.tar.gz`), the action server and the desk (`python -m bot serve`, with
`SHOPIFY_WEBHOOK_SECRET`, `QUIET_HOURS=off`, its dispatcher sending to a fake Twilio at
1,000/s), on a fresh database (SQLite, the embedded default; then a fresh schema in the
local PostgreSQL, when one answers; Rasa's tracker store stays SQLite, as endpoints.yml has
it) holding the demo store plus bench orders for its customers
(Ava, Ben, Dev and Eli consented to texts, Chloe did not), one package each, whose carrier
scans are already in the store. {WEBHOOKS:,} deliveries built with `bot.notify.payloads`
tell a day and a half of those packages' news on every topic Shopify uses
(fulfillments/create, orders/fulfilled, then fulfillment_events/create and
fulfillments/update per scan; orders/cancelled for the cancelled orders), oldest news first,
but some after newer news of their package and some repeated with the same
X-Shopify-Webhook-Id, as Shopify retries. They are fired from a process of their own
(`bench/senders.py`) by {SENDERS} senders, each on one keep-alive connection taking the next
delivery when its last was answered, after {WARM_UP} warm-up deliveries of one webhook.
*ack* is the time to the HTTP response; the *ingest rate* is deliveries acknowledged per
second from the first request to the last answer. Then the benchmark waits until every
webhook is applied, every alert handed to Rasa (which composes it through the SMS channel)
and every text sent. The (package, kind) pairs that must be recorded come from replaying
the deliveries in the order the desk applied them (older or earlier-stage news changes
nothing); *lost* counts pairs with no record, records left waiting, records marked sent
that never reached Twilio, and webhooks never applied. Texts are read back to their order
and kind from their wording, so a duplicate shows even if the desk's records miss it."""


@dataclass(frozen=True)
class Run:
    backend: str
    deliveries: Sequence[Delivery]
    acks: Sequence[dict]  # {"status", "seconds", "finished_at"} per delivery, in order
    started_at: float  # wall clock, first request
    applied_s: float  # from the last ack until every webhook was applied
    texted_s: float  # from the last ack until the last text reached Twilio
    drained: bool
    tally: Tally
    load: float  # 1-minute load average when the run started

    @property
    def last_ack(self) -> float:
        return max(a["finished_at"] for a in self.acks)

    @property
    def ok(self) -> int:
        return sum(1 for a in self.acks if a["status"] == 200)

    @property
    def rate(self) -> float:
        return self.ok / (self.last_ack - self.started_at)

    def ack_ms(self, q: float) -> float:
        return percentile([a["seconds"] for a in self.acks], q) * 1000


def section(runs: Sequence[Run]) -> Section:
    columns = ("measure", *(r.backend for r in runs))
    rows = [(label, *(cell(r) for r in runs)) for label, cell in ROWS]
    goals, notes = [], []
    for r in runs:
        p99, t = r.ack_ms(99), r.tally
        goals += [
            Goal(f"ack p99 <= {ACK_P99_GOAL_MS:g} ms ({r.backend})", f"{p99:.0f} ms", p99 <= 100),
            Goal(
                f"ingest >= {RATE_GOAL:g}/s ({r.backend})", f"{r.rate:.0f}/s", r.rate >= RATE_GOAL
            ),
            Goal(f"0 duplicate texts ({r.backend})", str(t.duplicates), t.duplicates == 0),
            Goal(f"0 lost notifications ({r.backend})", str(t.lost), t.lost == 0 and r.drained),
        ]
        notes += _notes(r)
    notes.append(
        "The desk hands alerts to Rasa one at a time, and each is a turn of the model, so the "
        "time to the last text measures Rasa composing every alert (all to the four consented "
        "customers, whose conversations grow long); *superseded* alerts were still waiting when "
        "newer news of their package was recorded, so only the newer one went out."
    )
    return Section(
        f"Shopify webhooks: {WEBHOOKS:,} deliveries from {SENDERS} senders (issue 5)",
        METHOD,
        [Table(columns, rows)],
        goals,
        notes,
    )


def _sent(r: Run) -> str:
    retries = sum(1 for d in r.deliveries if d.retry)
    late = sum(1 for d in r.deliveries if d.late)
    ids = len({d.webhook_id for d in r.deliveries})
    return f"{len(r.deliveries):,} ({ids:,} ids; {retries} repeats, {late} after newer news)"


def _acks(r: Run) -> str:
    return f"{r.ack_ms(50):.1f} / {r.ack_ms(99):.1f} / {r.ack_ms(100):.0f}"


def _recorded(r: Run) -> str:
    s = r.tally.statuses
    other = sum(s.values()) - s["sent"] - s["suppressed"] - s["superseded"]
    text = f"{s['sent']} texted, {s['suppressed']} no consent, {s['superseded']} superseded"
    return text + (f", {other} other" if other else "")


def _stored(r: Run) -> str:
    return f"{r.tally.stored:,} / {r.tally.unstored}"


def _latest(r: Run) -> str:
    return f"{r.tally.latest_texted}/{len(r.tally.latest)}"


ROWS = (
    ("webhooks sent", _sent),
    ("acknowledged 200", lambda r: f"{r.ok:,}/{len(r.acks):,}"),
    ("ack p50 / p99 / max, ms", _acks),
    ("ingest rate (acknowledged/s, first request to last ack)", lambda r: f"{r.rate:.0f}/s"),
    ("webhook ids stored / acknowledged but not stored", _stored),
    ("every webhook applied, s after the last ack", lambda r: f"{r.applied_s:.1f}"),
    ("(package, kind) notifications the news calls for", lambda r: f"{len(r.tally.expected):,}"),
    ("recorded", _recorded),
    ("lost", lambda r: str(r.tally.lost)),
    ("texts at Twilio / duplicates", lambda r: f"{r.tally.texted:,} / {r.tally.duplicates}"),
    ("consented packages whose latest news was texted", _latest),
    ("last text at Twilio, s after the last ack", lambda r: f"{r.texted_s:.1f}"),
    ("load average (1 min) when the run started", lambda r: f"{r.load:.1f}"),
)


def _notes(r: Run) -> list[str]:
    t, notes = r.tally, []
    if not r.drained:
        notes.append(f"{r.backend}: still not drained after {DRAIN_TIMEOUT:.0f} s.")
    details = (
        (len(t.unrecorded), "pair(s) the news called for were never recorded"),
        (len(t.stuck), "notification(s) were left queued or sending"),
        (len(t.sent_untexted), "notification(s) marked sent never reached Twilio"),
        (t.unstored, "webhook(s) were acknowledged but not stored"),
        (t.unprocessed, "stored webhook(s) were never applied"),
        (len(t.unexplained), "notification(s) were recorded that no news called for"),
        (len(t.texted_unsent), "text(s) reached Twilio for a notification not marked sent"),
        (t.unrecognised, "text(s) at Twilio could not be read back to an order and kind"),
    )
    notes += [f"{r.backend}: {n} {what}." for n, what in details if n]
    return notes
