import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.oms.demo import DemoStore
from bot.oms.demo_seed import DEMO_TABLES, DemoDataError, seed
from bot.store import Database
from bot.store.demo_tables import DemoCustomer, DemoOrder, DemoProduct
from bot.store.models import ConsentEvent, Customer

DATA_DIR = Path(__file__).resolve().parents[3] / "data" / "demo"


def _count(db: Database, table) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(table))


def _demo_rows(db: Database) -> int:
    return sum(_count(db, table) for table in DEMO_TABLES)


def _consents(db: Database, phone: str) -> list[ConsentEvent]:
    with db.read() as session:
        query = select(ConsentEvent).where(ConsentEvent.phone == phone).order_by(ConsentEvent.id)
        return list(session.scalars(query))


def _contact(db: Database, phone: str) -> Customer | None:
    with db.read() as session:
        return session.scalar(select(Customer).where(Customer.phone == phone))


def test_the_shipped_files_seed_the_demo_store(db: Database, clock: FixedClock) -> None:
    result = seed(db, DATA_DIR, clock)

    assert result.seeded
    assert (result.customers, result.products, result.orders, result.fulfillments) == (5, 13, 8, 6)
    assert result.variants == 58
    assert (result.contacts_created, result.consents_recorded) == (5, 4)
    assert _count(db, DemoCustomer) == 5
    assert _count(db, DemoProduct) == 13
    assert _count(db, DemoOrder) == 8
    assert str(result).startswith("seeded 5 customers, 13 products (58 variants), 8 orders")


def test_seeding_again_changes_nothing(db: Database, clock: FixedClock) -> None:
    seed(db, DATA_DIR, clock)
    rows = _demo_rows(db)

    again = seed(db, DATA_DIR, clock)

    assert not again.seeded
    assert "already seeded" in again.summary()
    assert _demo_rows(db) == rows
    assert _count(db, Customer) == 5
    assert _count(db, ConsentEvent) == 4


def test_reset_reseeds_without_duplicating_customers_or_consent(
    db: Database, clock: FixedClock
) -> None:
    seed(db, DATA_DIR, clock)
    store = DemoStore(db, clock)
    store.cancel_order("1003", "customer")
    rows = _demo_rows(db)

    result = seed(db, DATA_DIR, clock, reset=True)

    assert result.seeded
    assert (result.contacts_created, result.consents_recorded) == (0, 0)
    assert store.order_by_number("1003").cancelled_at is None
    assert _demo_rows(db) == rows
    assert _count(db, Customer) == 5
    assert _count(db, ConsentEvent) == 4


def test_demo_customers_become_pigeon_customers(db: Database, clock: FixedClock) -> None:
    seed(db, DATA_DIR, clock)

    ava = _contact(db, "+12065550101")
    assert (ava.name, ava.email, ava.time_zone, ava.region) == (
        "Ava Chen",
        "ava@example.com",
        "America/Los_Angeles",
        "WA",
    )
    eli = _contact(db, "+15125550105")
    assert (eli.name, eli.time_zone, eli.region) == ("Eli Moreno", "America/Chicago", "TX")


def test_consent_is_recorded_as_given_at_checkout(db: Database, clock: FixedClock) -> None:
    seed(db, DATA_DIR, clock)

    (ava,) = _consents(db, "+12065550101")
    assert (ava.action, ava.source) == ("opt_in", "checkout")
    assert ava.recorded_at == clock.now() - timedelta(days=46)
    assert ava.customer_id == _contact(db, "+12065550101").id
    assert "Pigeon Supply Co." in ava.disclosure
    assert "STOP" in ava.disclosure
    for phone in ("+13055550102", "+13125550104", "+15125550105"):
        assert [c.action for c in _consents(db, phone)] == ["opt_in"]
    assert _consents(db, "+12125550103") == []  # Chloe never ticked the box


def test_a_number_that_opted_out_is_not_opted_in_again(db: Database, clock: FixedClock) -> None:
    with db.write() as session:
        session.add(ConsentEvent(phone="+12065550101", action="opt_out", source="keyword"))

    seed(db, DATA_DIR, clock)
    seed(db, DATA_DIR, clock, reset=True)

    assert [c.action for c in _consents(db, "+12065550101")] == ["opt_out"]


def test_an_existing_pigeon_customer_is_kept(db: Database, clock: FixedClock) -> None:
    with db.write() as session:
        session.add(Customer(phone="+13055550102", name="Benjamin O.", email="b@example.org"))

    result = seed(db, DATA_DIR, clock)

    assert result.contacts_created == 4
    assert _count(db, Customer) == 5
    assert _contact(db, "+13055550102").name == "Benjamin O."


# Each case: the file, the text to replace, its replacement, and the error after "<file>: ".
CORRUPT_FILES = [
    pytest.param(
        "orders.yml",
        "{sku: PSC-FLAN-BLU-L, quantity: 1}",
        "{sku: XYZ, quantity: 1}",
        "orders[7].items[0].sku: unknown SKU 'XYZ'",
        id="unknown-sku",
    ),
    pytest.param(
        "orders.yml",
        "placed: 2 hours ago",
        "placed: last tuesday",
        "orders[7].placed: 'last tuesday' is not a date phrase; write 'today', 'yesterday', "
        "'tomorrow', '3 days ago', 'in 2 days' or '5 hours ago'",
        id="bad-date-phrase",
    ),
    pytest.param(
        "orders.yml",
        "    placed: 3 days ago\n",
        "",
        "orders[4]: missing field 'placed'",
        id="missing-field",
    ),
    pytest.param(
        "orders.yml",
        "customer: dev@example.com",
        "customer: nobody@example.com",
        "orders[5].customer: no customer in customers.yml has the email 'nobody@example.com'",
        id="unknown-customer",
    ),
    pytest.param(
        "orders.yml",
        "          - status: failure",
        "          - status: lost",
        "orders[5].shipments[0].events[4].status: unknown status 'lost' (known: label_printed, "
        "label_purchased, confirmed, carrier_picked_up, in_transit, out_for_delivery, "
        "attempted_delivery, ready_for_pickup, delayed, failure, delivered)",
        id="unknown-shipment-status",
    ),
    pytest.param(
        "orders.yml",
        "{status: in_transit, at: 10 hours ago,",
        "{status: in_transit, at: 5 days ago,",
        "orders[2].shipments[0].events[4].at: events must be listed oldest first",
        id="events-out-of-order",
    ),
    pytest.param(
        "orders.yml",
        "number: 1006",
        "number: 1005",
        "orders[7].number: order number 1005 appears twice",
        id="duplicate-order-number",
    ),
    pytest.param(
        "customers.yml",
        "phone: +1 312-555-0104",
        "phone: 555-01",
        "customers[3].phone: '555-01' is not a phone number",
        id="bad-phone",
    ),
    pytest.param(
        "customers.yml",
        'zip: "98101"',
        "zip: 98101",
        "customers[0].address.zip: expected text, got int 98101; put it in quotes",
        id="unquoted-zip",
    ),
    pytest.param(
        "customers.yml",
        'zip: "33145"',
        'zipcode: "33145"',
        "customers[1].address: unknown field 'zipcode' "
        "(known fields: zip, address1, city, state, country, time_zone)",
        id="unknown-field",
    ),
    pytest.param(
        "customers.yml",
        "email: eli@example.com",
        "email: ava@example.com",
        "customers[4].email: 'ava@example.com' appears twice; each must be unique",
        id="duplicate-email",
    ),
    pytest.param(
        "products.yml",
        "sku: PSC-TEE-BLK-L,",
        "sku: PSC-TEE-BLK-M,",
        "products[4].variants[6].sku: 'PSC-TEE-BLK-M' appears twice; each must be unique",
        id="duplicate-sku",
    ),
    pytest.param(
        "products.yml",
        "price: 24.00, stock: 14}",
        "price: 24.005, stock: 14}",
        "products[8].variants[0].price: 24.005 is not a price in dollars and cents",
        id="bad-price",
    ),
    pytest.param(
        "products.yml",
        "color: Heather Grey, price: 68.00, stock: 9}",
        "color: Heather Grey, price: 68.00, stock: 9, restock: in 10 days}",
        "products[0].variants[6].restock: a restock date is only for sold-out variants (stock: 0)",
        id="restock-when-in-stock",
    ),
    pytest.param(
        "policies.yml",
        "return_window_days: 30",
        "return_window_days: thirty",
        "return_window_days: expected a whole number, got str 'thirty'",
        id="policy-not-a-number",
    ),
    pytest.param(
        "policies.yml",
        "shipping_countries: [United States, Canada]\n",
        "",
        "missing field 'shipping_countries'",
        id="missing-policy",
    ),
]


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    """A copy of the shipped demo files that a test may break."""
    return Path(shutil.copytree(DATA_DIR, tmp_path / "demo"))


def _break(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"the test expects {old!r} once in {path.name}"
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize(("name", "old", "new", "error"), CORRUPT_FILES)
def test_a_corrupt_file_names_the_file_and_place_and_writes_nothing(
    db: Database, clock: FixedClock, demo_dir: Path, name: str, old: str, new: str, error: str
) -> None:
    _break(demo_dir / name, old, new)

    with pytest.raises(DemoDataError) as raised:
        seed(db, demo_dir, clock)

    assert str(raised.value) == f"{demo_dir / name}: {error}"
    assert _demo_rows(db) == 0
    assert _count(db, Customer) == 0
    assert _count(db, ConsentEvent) == 0


def test_yaml_syntax_errors_give_the_line_on_one_line(
    db: Database, clock: FixedClock, demo_dir: Path
) -> None:
    _break(demo_dir / "customers.yml", "  - name: Chloe Park", "  - name: [Chloe Park")

    with pytest.raises(DemoDataError) as raised:
        seed(db, demo_dir, clock)

    message = str(raised.value)
    assert message.startswith(f"{demo_dir / 'customers.yml'}: line ")
    assert "not valid YAML" in message
    assert "\n" not in message
    assert _demo_rows(db) == 0


def test_a_missing_file_is_named(db: Database, clock: FixedClock, demo_dir: Path) -> None:
    (demo_dir / "policies.yml").unlink()

    with pytest.raises(DemoDataError, match="policies.yml: file not found$"):
        seed(db, demo_dir, clock)
    assert _demo_rows(db) == 0


def test_a_failed_reset_keeps_the_store_as_it_was(
    db: Database, clock: FixedClock, demo_dir: Path
) -> None:
    seed(db, demo_dir, clock)
    rows = _demo_rows(db)
    _break(demo_dir / "orders.yml", "{sku: PSC-FLAN-BLU-L, quantity: 1}", "{sku: XYZ}")

    with pytest.raises(DemoDataError, match="unknown SKU 'XYZ'"):
        seed(db, demo_dir, clock, reset=True)

    assert _demo_rows(db) == rows
    assert DemoStore(db, clock).order_by_number(1006) is not None


def test_dates_follow_the_seeding_clock(db: Database, demo_dir: Path) -> None:
    clock = FixedClock(datetime(2030, 1, 2, 3, 4, tzinfo=timezone.utc))
    seed(db, demo_dir, clock)

    order = DemoStore(db, clock).order_by_number("1006")

    assert order.created_at == datetime(2030, 1, 2, 1, 4, tzinfo=timezone.utc)
