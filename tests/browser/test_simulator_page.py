"""The SMS simulator page in a real headless chromium, against a served desk on SQLite."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.desk.app import create_app
from bot.inbox import record_inbound
from bot.oms.demo import DemoStore
from bot.oms.demo_seed import seed
from bot.services import Services
from bot.store import Database
from bot.store.models import Customer
from tests.browser.support import save_screenshot, served_in_thread

DEMO_DATA = Path(__file__).resolve().parents[2] / "data" / "demo"
WAIT = 10  # seconds; the page fetches its customers and polls the thread once a second
UNTRUSTED = "<b>where is my order?</b>"


def _demo_customers(db: Database) -> list[tuple[str, str]]:
    with db.read() as session:
        return session.execute(
            select(Customer.name, Customer.phone)
            .where(Customer.phone.is_not(None), Customer.name.is_not(None))
            .order_by(Customer.id)
        ).all()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_simulator_lists_the_demo_customers_and_shows_a_thread(
    browser: WebDriver, db: Database, clock: FixedClock
) -> None:
    seed(db, DEMO_DATA, clock)
    customers = _demo_customers(db)
    assert customers
    with db.write() as session:
        record_inbound(session, phone=customers[0][1], channel="sms", body=UNTRUSTED, clock=clock)
    services = Services(Settings(), db, DemoStore(db, clock), clock)  # no Twilio: embedded
    app = create_app(services, f"desk_{uuid.uuid4().hex}", dispatch=False, notify=False)

    with served_in_thread(app) as base_url:
        browser.get(f"{base_url}/simulator")
        assert browser.title == "Pigeon SMS simulator"
        WebDriverWait(browser, WAIT).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#customer option")
        )
        bubble = WebDriverWait(browser, WAIT).until(
            lambda d: d.find_element(By.CSS_SELECTOR, "#thread .bubble.in")
        )
        menu = Select(browser.find_element(By.ID, "customer"))
        assert [o.text for o in menu.options] == [f"{n} ({p})" for n, p in customers[:20]]
        assert menu.first_selected_option.get_attribute("value") == customers[0][1]
        # Customer text is shown as text, never parsed as markup.
        assert bubble.text.splitlines()[0] == UNTRUSTED
        assert not bubble.find_elements(By.TAG_NAME, "b")
        save_screenshot(browser, "simulator")
