"""Recording Shopify's news: at most one text per fulfillment and kind, in any order, any repeat."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import SendingWindow
from bot.consent import ConsentState, consent_state, history, record_opt_in, record_opt_out
from bot.notify.events import CheckoutConsent, ShipmentUpdate, ShopifyEvent
from bot.notify.record import needs_order, record_event
from bot.store import Database
from bot.store.models import Customer, Notification, Shipment
from tests.bot.support.build import AVA, NOW, shipped_order

WINDOW = SendingWindow(time(8), time(21))
CHLOE = "+12125550103"


def update(status: str | None, at: datetime = NOW, fulfillment: str = "f1") -> ShipmentUpdate:
    return ShipmentUpdate(
        order_id="1001",
        fulfillment_id=fulfillment,
        status=status,
        happened_at=at,
        carrier="UPS",
        tracking_number="1Z",
        tracking_url="https://www.ups.com/track?tracknum=1Z",
        estimated_delivery_at=NOW + timedelta(days=2),
        message=None,
        location="Seattle, WA",
    )


def event(*updates: ShipmentUpdate, topic: str = "fulfillment_events/create", **fields):
    values = {"order_id": "1001", "cancelled_at": None, "consents": (), "revocations": ()}
    return ShopifyEvent(topic=topic, updates=updates, **(values | fields))


def consent(db: Database, phone: str = AVA) -> None:
    with db.write() as session:
        record_opt_in(session, phone, "checkout", disclosure="the checkout box")


def apply(db: Database, clock: FixedClock, shopify_event: ShopifyEvent, order=None) -> list[str]:
    order = order or shipped_order(1001, "in_transit")
    with db.write() as session:
        outcomes = record_event(session, shopify_event, order, WINDOW, clock)
    return [o.result for o in outcomes]


def notifications(db: Database) -> list[tuple[str, str, str]]:
    with db.read() as session:
        rows = session.execute(select(Notification).order_by(Notification.id)).scalars()
        return [(n.fulfillment_id, n.kind, n.status) for n in rows]


def test_a_consented_customer_gets_one_notification_queued_now(db, clock) -> None:
    consent(db)
    assert apply(db, clock, event(update("out_for_delivery"))) == ["queued"]
    with db.read() as session:
        note = session.execute(select(Notification)).scalar_one()
        customer = session.execute(select(Customer).where(Customer.phone == AVA)).scalar_one()
    assert (note.kind, note.status, note.phone, note.order_name) == (
        "out_for_delivery",
        "queued",
        AVA,
        "#1001",
    )
    assert note.due_at == NOW
    assert note.details["tracking_url"] == "https://www.ups.com/track?tracknum=1Z"
    assert note.details["carrier"] == "UPS"
    # The shipping address places the customer for quiet hours.
    assert (customer.region, customer.time_zone) == ("WA", "America/Los_Angeles")


def test_the_same_news_on_three_topics_and_eight_retries_is_one_notification(db, clock) -> None:
    consent(db)
    news = update("in_transit")
    results = []
    for topic in ("orders/fulfilled", "fulfillments/update", "fulfillment_events/create") * 3:
        results += apply(db, clock, event(news, topic=topic))
    assert results == ["queued"] + ["duplicate"] * 8
    assert notifications(db) == [("f1", "shipped", "queued")]


def test_out_of_order_news_sends_nothing_stale(db, clock) -> None:
    consent(db)
    assert apply(db, clock, event(update("delivered", NOW))) == ["queued"]
    late = [
        apply(db, clock, event(update("out_for_delivery", NOW - timedelta(hours=3))))[0],
        apply(db, clock, event(update("in_transit", NOW - timedelta(days=1))))[0],
        apply(db, clock, event(update("in_transit", NOW + timedelta(hours=1))))[0],
    ]
    assert late == ["stale", "stale", "stale"]
    assert notifications(db) == [("f1", "delivered", "queued")]
    with db.read() as session:
        assert session.get(Shipment, "f1").status == "delivered"


def test_later_news_supersedes_a_text_still_waiting(db, clock) -> None:
    consent(db)
    apply(db, clock, event(update("in_transit", NOW)))
    apply(db, clock, event(update("out_for_delivery", NOW + timedelta(hours=1))))
    assert notifications(db) == [
        ("f1", "shipped", "superseded"),
        ("f1", "out_for_delivery", "queued"),
    ]


def test_a_sent_text_is_never_superseded_nor_repeated(db, clock) -> None:
    consent(db)
    apply(db, clock, event(update("in_transit", NOW)))
    with db.write() as session:
        session.execute(select(Notification)).scalar_one().status = "sent"
    apply(db, clock, event(update("out_for_delivery", NOW + timedelta(hours=1))))
    apply(db, clock, event(update("attempted_delivery", NOW + timedelta(hours=2))))
    apply(db, clock, event(update("out_for_delivery", NOW + timedelta(days=1))))
    assert notifications(db) == [
        ("f1", "shipped", "sent"),
        ("f1", "out_for_delivery", "superseded"),
        ("f1", "exception", "queued"),
    ]


def test_two_packages_of_one_order_are_told_apart(db, clock) -> None:
    consent(db)
    apply(db, clock, event(update("in_transit", fulfillment="f1")))
    apply(db, clock, event(update("in_transit", fulfillment="f2")))
    assert notifications(db) == [("f1", "shipped", "queued"), ("f2", "shipped", "queued")]


def test_without_consent_the_notification_is_recorded_as_suppressed(db, clock) -> None:
    chloe = shipped_order(1003, "in_transit", phone=CHLOE)
    assert apply(db, clock, event(update("in_transit")), chloe) == ["suppressed"]
    with db.read() as session:
        note = session.execute(select(Notification)).scalar_one()
    assert (note.status, note.reason) == ("suppressed", "no consent to shipping texts on record")


def test_an_opted_out_number_gets_nothing(db, clock) -> None:
    consent(db)
    with db.write() as session:
        record_opt_out(session, AVA, "keyword", detail="STOP")
    assert apply(db, clock, event(update("in_transit"))) == ["suppressed"]


def test_at_night_the_notification_waits_for_the_morning(db, clock) -> None:
    consent(db)
    clock.advance(timedelta(hours=13, minutes=30))  # 23:30 in Seattle
    assert apply(db, clock, event(update("in_transit", clock.now()))) == ["queued"]
    with db.read() as session:
        note = session.execute(select(Notification)).scalar_one()
    assert note.due_at == datetime(2026, 6, 16, 15, 0, tzinfo=timezone.utc)  # 8:00 PDT
    assert note.reason == "quiet hours: waiting for the window"


def test_a_cancelled_order_supersedes_what_waits_and_gets_no_more(db, clock) -> None:
    consent(db)
    apply(db, clock, event(update("in_transit")))
    cancelled = event(topic="orders/cancelled", cancelled_at=NOW)
    apply(db, clock, cancelled)
    assert notifications(db) == [("f1", "shipped", "superseded")]


def test_an_order_without_a_phone_is_skipped(db, clock) -> None:
    no_phone = shipped_order(1001, "in_transit", phone=None)
    assert apply(db, clock, event(update("in_transit")), no_phone) == ["skipped"]
    assert notifications(db) == []


def test_the_order_system_is_asked_only_while_news_can_still_earn_a_text(db, clock) -> None:
    def needed(shopify_event: ShopifyEvent) -> bool:
        with db.read() as session:
            return needs_order(session, shopify_event)

    consent(db)
    in_transit, ofd = update("in_transit"), update("out_for_delivery", NOW + timedelta(hours=1))
    assert needed(event(in_transit))
    apply(db, clock, event(in_transit))
    assert not needed(event(in_transit, topic="orders/fulfilled"))  # told again: recorded
    assert not needed(event(update("in_transit", NOW + timedelta(minutes=5))))  # same kind
    assert needed(event(ofd))
    assert needed(event(update("in_transit", NOW + timedelta(minutes=5)), ofd))  # one is new
    apply(db, clock, event(ofd))
    assert not needed(event(update("delivered", NOW - timedelta(hours=1))))  # stale
    assert not needed(event(topic="orders/cancelled", cancelled_at=NOW))


def test_repeated_news_applied_without_the_order_is_a_duplicate_not_a_skip(db, clock) -> None:
    consent(db)
    apply(db, clock, event(update("in_transit")))
    with db.write() as session:
        outcomes = record_event(session, event(update("in_transit")), None, WINDOW, clock)
    assert [o.result for o in outcomes] == ["duplicate"]


def test_checkout_consent_is_recorded_once_with_its_evidence(db, clock) -> None:
    given = CheckoutConsent(AVA, NOW - timedelta(days=1), "single_opt_in", "SHOPIFY")
    for _ in range(3):
        apply(db, clock, event(topic="orders/create", consents=(given,)))
    with db.read() as session:
        ledger = history(session, AVA)
    assert [(e.action, e.source) for e in ledger] == [("opt_in", "checkout")]
    assert "single_opt_in" in ledger[0].detail
    assert "SHOPIFY" in ledger[0].detail


def test_an_old_checkout_consent_does_not_undo_a_later_stop(db, clock) -> None:
    with db.write() as session:
        record_opt_out(session, AVA, "keyword", detail="STOP", clock=clock)
    old = CheckoutConsent(AVA, NOW - timedelta(days=3), "single_opt_in", "SHOPIFY")
    apply(db, clock, event(topic="orders/fulfilled", consents=(old,)))
    with db.read() as session:
        assert consent_state(session, AVA) is ConsentState.OPTED_OUT
    newer = CheckoutConsent(AVA, NOW + timedelta(minutes=5), "single_opt_in", "SHOPIFY")
    apply(db, clock, event(topic="orders/fulfilled", consents=(newer,)))
    with db.read() as session:
        assert consent_state(session, AVA) is ConsentState.OPTED_IN


def test_shopify_unsubscribing_revokes_a_checkout_consent_only(db, clock) -> None:
    consent(db)
    apply(db, clock, event(topic="orders/updated", revocations=(AVA,)))
    with db.write() as session:
        assert consent_state(session, AVA) is ConsentState.OPTED_OUT
        record_opt_in(session, CHLOE, "keyword", disclosure="START")
    apply(db, clock, event(topic="orders/updated", revocations=(CHLOE,)))
    with db.read() as session:
        assert consent_state(session, CHLOE) is ConsentState.OPTED_IN
