"""What the webhooks sent should have led to, against what the desk recorded and Twilio got.

The desk applies stored webhooks one at a time in the order it processed them; news older
(or earlier in the lifecycle) than what is known of the package changes nothing, and every
other news earns its package's (fulfillment, kind) a notification: a text, or a recorded
reason for none (no consent, superseded by newer news). Replaying the deliveries in the
desk's processing order gives the pairs that must be recorded; the texts Twilio received
are read back to their order and kind from their wording alone, so a duplicate cannot hide
behind the desk's own bookkeeping.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bench.shipments import Delivery, News
from bot.notify import policy

Pair = tuple[str, str]  # (fulfillment id, kind)
WAITING = ("queued", "sending")
# How each kind of alert reads in domain.yml (utter_shipment_*), checked in this order.
WORDING = (
    ("tried to deliver", policy.EXCEPTION),
    ("couldn't deliver", policy.EXCEPTION),
    ("is delayed", policy.EXCEPTION),
    ("ready for pickup", policy.EXCEPTION),
    ("out for delivery", policy.OUT_FOR_DELIVERY),
    ("was delivered", policy.DELIVERED),
    ("has shipped", policy.SHIPPED),
)
ORDER_NAME = re.compile(r"your order (#\d+)")


@dataclass(frozen=True)
class Receipt:
    webhook_id: str
    processed_at: datetime | None
    id: int


@dataclass(frozen=True)
class Text:
    to: str
    body: str


@dataclass
class Tally:
    expected: set[Pair]
    recorded: dict[Pair, str]  # pair -> the notification's status
    texts: Counter[Pair]
    unrecognised: int  # texts whose order or kind could not be read
    latest: dict[str, Pair]  # consented fulfillment -> the pair of its latest news
    unprocessed: int  # stored webhooks the desk had not applied
    stored: int  # webhook ids sent that the desk stored
    unstored: int  # webhook ids acknowledged but not stored
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def unrecorded(self) -> set[Pair]:
        return self.expected - set(self.recorded)

    @property
    def unexplained(self) -> set[Pair]:
        """Recorded although no news called for it (the replay and the desk disagree)."""
        return set(self.recorded) - self.expected

    @property
    def stuck(self) -> set[Pair]:
        return {p for p, status in self.recorded.items() if status in WAITING}

    @property
    def sent_untexted(self) -> set[Pair]:
        return {p for p, status in self.recorded.items() if status == "sent" and not self.texts[p]}

    @property
    def texted_unsent(self) -> set[Pair]:
        return {p for p in self.texts if self.recorded.get(p) != "sent"}

    @property
    def lost(self) -> int:
        return (
            len(self.unrecorded | self.stuck | self.sent_untexted)
            + self.unprocessed
            + self.unstored
        )

    @property
    def texted(self) -> int:
        return sum(self.texts.values())

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.texts.values() if count > 1)

    @property
    def latest_texted(self) -> int:
        return sum(1 for pair in self.latest.values() if self.texts[pair])


def tally(
    deliveries: Sequence[Delivery],
    acknowledged: set[str],
    receipts: Iterable[Receipt],
    notifications: Mapping[Pair, str],
    texts: Iterable[Text],
    names: Mapping[str, str],
    consented: set[str],
) -> Tally:
    """`acknowledged`: webhook ids answered 200; `names`: order name -> its package's
    fulfillment id; `consented`: fulfillment ids whose customer consented."""
    news = {d.webhook_id: d.news for d in deliveries}
    stored = [r for r in receipts if r.webhook_id in news]  # not the warm-up's
    ids = {r.webhook_id for r in stored}
    done = sorted((r for r in stored if r.processed_at), key=lambda r: (r.processed_at, r.id))
    expected, final = _replay(news[r.webhook_id] for r in done)
    ours = {n.fulfillment_id for d in deliveries for n in d.news}  # not the warm-up's package
    recorded = {p: s for p, s in notifications.items() if p[0] in ours}
    counted, unrecognised = _read(texts, names)
    return Tally(
        expected=expected,
        recorded=recorded,
        texts=counted,
        unrecognised=unrecognised,
        latest={fid: pair for fid, pair in final.items() if fid in consented},
        unprocessed=len(stored) - len(done),
        stored=len(ids),
        unstored=len(acknowledged - ids),
        statuses=Counter(recorded.values()),
    )


def _replay(applied: Iterable[tuple[News, ...]]) -> tuple[set[Pair], dict[str, Pair]]:
    """The pairs the news earns, and each package's latest news, in the desk's order."""
    known: dict[str, policy.Known] = {}
    expected: set[Pair] = set()
    final: dict[str, Pair] = {}
    for updates in applied:
        for n in sorted(updates, key=lambda u: u.happened_at):
            if policy.is_stale(n.status, n.happened_at, known.get(n.fulfillment_id)):
                continue
            known[n.fulfillment_id] = policy.Known(n.status, n.happened_at)
            pair = (n.fulfillment_id, policy.kind_for(n.status))
            expected.add(pair)
            final[n.fulfillment_id] = pair
    return expected, final


def _read(texts: Iterable[Text], names: Mapping[str, str]) -> tuple[Counter[Pair], int]:
    counted: Counter[Pair] = Counter()
    unrecognised = 0
    for text in texts:
        found = ORDER_NAME.search(text.body)
        kind = next((k for phrase, k in WORDING if phrase in text.body), None)
        fid = names.get(found.group(1)) if found else None
        if fid is None or kind is None:
            unrecognised += 1
        else:
            counted[(fid, kind)] += 1
    return counted, unrecognised
