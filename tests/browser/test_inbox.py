"""The agents' inbox in a real headless chromium, against a served desk on SQLite (issue 6)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from bot.agents import create_agent
from bot.clock import FixedClock
from bot.config import Settings
from bot.desk.app import create_app
from bot.inbox import record_inbound, record_outbound
from bot.oms.demo import DemoStore
from bot.oms.demo_seed import seed
from bot.services import Services
from bot.store import Database
from bot.store.models import Conversation, Customer, OutboxItem
from bot.support.handoff import request_handoff, summarize
from tests.browser.support import save_screenshot, served_in_thread

DEMO_DATA = Path(__file__).resolve().parents[2] / "data" / "demo"
WAIT = 10  # seconds; the thread page polls the API every 3
EMAIL, PASSWORD = "sam@pigeon.example", "correct horse battery staple"
AVA = "+12065550101"  # Ava Chen in data/demo: #1001 is on its way with UPS, #998 delivered
UPS_TRACKING = "1Z999AA10123456784"
REASON = "customer asked for a person"
MALICIOUS_TEXT = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
MALICIOUS_NAME = '<img src=x onerror="window.__pwned=3">Mallory <b>Bold</b>'
MALICIOUS_PHONE = "+12065550199"

T = TypeVar("T")
sqlite_only = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


class RecordingAssistant:
    """Stands in for Rasa: records whom the desk asked it to trigger or resume."""

    def __init__(self) -> None:
        self.triggered: list[tuple[str, dict[str, str]]] = []
        self.resumed: list[str] = []

    async def trigger(self, sender_id: str, entities: Mapping[str, str]) -> None:
        self.triggered.append((sender_id, dict(entities)))

    async def resume(self, sender_id: str) -> None:
        self.resumed.append(sender_id)

    async def close(self) -> None:
        pass


def _desk(db: Database, clock: FixedClock, assistant: RecordingAssistant):
    services = Services(Settings(), db, DemoStore(db, clock), clock)  # no Twilio: embedded
    return create_app(
        services, f"desk_{uuid.uuid4().hex}", assistant=assistant, dispatch=False, notify=False
    )


def _agent(db: Database, clock: FixedClock) -> None:
    with db.write() as session:
        create_agent(session, EMAIL, PASSWORD, clock, name="Sam Rivera")


def _ava_asks_for_a_person(db: Database, clock: FixedClock) -> int:
    """Ava's thread as the assistant left it: two texts, two answers, then a handoff."""
    at = FixedClock(clock.now() - timedelta(minutes=19))
    said = [
        "Hi! My hoodie from order #1001 was supposed to be here by now. Where is it?",
        "It's a birthday present for Saturday. Can a person check if it can come sooner?",
    ]
    answers = [
        "Order #1001 is on its way with UPS: last scanned in Salt Lake City, UT, "
        "and due in 2 days.",
        "I'm handing this to a teammate. A person will text you here shortly.",
    ]
    with db.write() as session:
        for text, answer in zip(said, answers, strict=True):
            stored = record_inbound(session, phone=AVA, channel="sms", body=text, clock=at)
            conv = session.get(Conversation, stored.conversation_id)
            at.advance(timedelta(seconds=4))
            record_outbound(
                session, conv, author="assistant", body=answer, status="delivered", clock=at
            )
            at.advance(timedelta(minutes=3))
        request_handoff(session, AVA, REASON, summarize(REASON, said, "#1001"), at)
        return stored.conversation_id


def _others_write_in(db: Database, clock: FixedClock) -> None:
    """Two more demo customers, so the list is not a list of one."""
    at = FixedClock(clock.now() - timedelta(hours=2))
    with db.write() as session:
        for phone, text in (
            ("+13055550102", "Can I still return the rain shell from #1002?"),
            ("+13125550104", "Thanks, got it!"),
        ):
            record_inbound(session, phone=phone, channel="sms", body=text, clock=at)
            at.advance(timedelta(minutes=25))


def _sign_in(browser: WebDriver, base_url: str, password: str = PASSWORD) -> None:
    """Visit the inbox anonymously, which shows the sign-in form, and fill it in."""
    browser.get(f"{base_url}/inbox")
    form = WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "sign-in"))
    form.find_element(By.NAME, "email").send_keys(EMAIL)
    form.find_element(By.NAME, "password").send_keys(password)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, WAIT).until(ec.staleness_of(form))


def _open_list(browser: WebDriver) -> WebElement:
    return WebDriverWait(browser, WAIT).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "table.conversations")
    )


def _row(browser: WebDriver, conversation_id: int) -> WebElement:
    return browser.find_element(By.CSS_SELECTOR, f"tr[data-id='{conversation_id}']")


def _cells(browser: WebDriver, conversation_id: int) -> list[str]:
    """The row's cells as shown, read again when inbox.js replaces the rows mid-read."""
    return _retrying(
        browser,
        lambda d: [td.text for td in _row(d, conversation_id).find_elements(By.TAG_NAME, "td")],
    )


def _retrying(browser: WebDriver, read: Callable[[WebDriver], T]) -> T:
    """`read` until it works: the list's rows are rebuilt from the API every 3 s."""
    wait = WebDriverWait(browser, WAIT, ignored_exceptions=(StaleElementReferenceException,))
    return wait.until(read)


def _open_thread(browser: WebDriver, conversation_id: int) -> WebElement:
    _retrying(
        browser, lambda d: _row(d, conversation_id).find_element(By.TAG_NAME, "a").click() or True
    )
    return WebDriverWait(browser, WAIT).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f"#thread[data-conversation='{conversation_id}']")
    )


def _bodies(browser: WebDriver) -> list[tuple[str, str]]:
    """(class, text) of each message shown, oldest first."""
    return [
        (li.get_attribute("class"), li.find_element(By.CLASS_NAME, "body").text)
        for li in browser.find_elements(By.CSS_SELECTOR, "#messages > li.msg")
    ]


def _loaded(browser: WebDriver) -> None:
    """Wait for the load event: by then every image on the page has loaded or failed."""
    WebDriverWait(browser, WAIT).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def _assert_ava_waits_in_the_list(browser: WebDriver, conversation_id: int) -> None:
    _, who, status, channel, why, assignee, _ = _cells(browser, conversation_id)
    assert (who, status, channel, why, assignee) == (
        f"Ava Chen\n{AVA}",
        "pending",
        "sms",
        REASON,
        "—",
    )
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.conversations tbody tr")) == 3


def _assert_ava_thread(browser: WebDriver) -> None:
    """The whole thread, the handoff reason, and her orders beside it with a tracking link."""
    assert browser.find_element(By.CSS_SELECTOR, ".thread-head h1").text == "Ava Chen"
    assert browser.find_element(By.ID, "status").text == "pending"
    assert REASON in browser.find_element(By.CSS_SELECTOR, "p.handoff").text
    shown = _bodies(browser)
    assert [c.split()[:3] for c, _ in shown] == [
        ["msg", "in", "customer"],
        ["msg", "out", "assistant"],
    ] * 2
    assert shown[0][1].startswith("Hi! My hoodie from order #1001")
    assert shown[1][1].startswith("Order #1001 is on its way with UPS")
    orders = browser.find_element(By.CSS_SELECTOR, ".sidebar .orders")
    assert [o.text for o in orders.find_elements(By.TAG_NAME, "strong")] == ["#1001", "#998"]
    track = orders.find_element(By.PARTIAL_LINK_TEXT, UPS_TRACKING)
    assert track.get_attribute("href").startswith("https://")
    assert UPS_TRACKING in track.get_attribute("href")


def _send_reply(browser: WebDriver, text: str) -> None:
    form = browser.find_element(By.ID, "reply-form")
    form.find_element(By.NAME, "text").send_keys(text)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, WAIT).until(ec.staleness_of(form))


@sqlite_only
def test_an_agent_answers_and_resolves_a_handed_over_conversation(
    browser: WebDriver, db: Database, clock: FixedClock
) -> None:
    seed(db, DEMO_DATA, clock)
    _agent(db, clock)
    _others_write_in(db, clock)
    conversation_id = _ava_asks_for_a_person(db, clock)
    assistant = RecordingAssistant()
    reply = "Hi Ava, Sam here at Pigeon. I've asked UPS to hurry #1001: it should arrive by Friday."

    with served_in_thread(_desk(db, clock, assistant)) as base_url:
        _sign_in(browser, base_url)
        _open_list(browser)
        assert browser.current_url == f"{base_url}/inbox"
        _assert_ava_waits_in_the_list(browser, conversation_id)
        save_screenshot(browser, "inbox-list")

        _open_thread(browser, conversation_id)
        _assert_ava_thread(browser)
        _send_reply(browser, reply)
        WebDriverWait(browser, WAIT).until(lambda d: len(_bodies(d)) == 5)
        last_class, last_body = _bodies(browser)[-1]
        assert (last_class.split()[:3], last_body) == (["msg", "out", "agent"], reply)
        with db.read() as session:
            sent = session.scalars(select(OutboxItem).where(OutboxItem.purpose == "agent"))
            assert [(o.to_phone, o.body) for o in sent] == [(AVA, reply)]
        save_screenshot(browser, "inbox")

        browser.find_element(By.ID, "resolve").click()
        WebDriverWait(browser, WAIT).until(
            lambda d: d.find_element(By.ID, "status").text == "resolved"
        )
        assert not browser.find_element(By.ID, "resolve").is_enabled()
        assert assistant.resumed == [AVA]
        with db.read() as session:
            assert session.get(Conversation, conversation_id).status == "resolved"


def _mallory_writes_markup(db: Database, clock: FixedClock) -> int:
    with db.write() as session:
        stored = record_inbound(
            session, phone=MALICIOUS_PHONE, channel="sms", body=MALICIOUS_TEXT, clock=clock
        )
        session.get(Customer, stored.customer_id).name = MALICIOUS_NAME
        summary = summarize(REASON, [MALICIOUS_TEXT])
        request_handoff(session, MALICIOUS_PHONE, REASON, summary, clock)
        return stored.conversation_id


def _assert_inert(browser: WebDriver) -> None:
    """Nothing the customer wrote became an element, and none of it ran."""
    _loaded(browser)
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert not browser.find_elements(By.CSS_SELECTOR, "img[src='x'], b, script:not([src])")


@sqlite_only
def test_customer_markup_is_shown_as_text_and_never_runs(
    browser: WebDriver, db: Database, clock: FixedClock
) -> None:
    _agent(db, clock)
    conversation_id = _mallory_writes_markup(db, clock)

    with served_in_thread(_desk(db, clock, RecordingAssistant())) as base_url:
        _sign_in(browser, base_url)
        _open_list(browser)
        assert _cells(browser, conversation_id)[1] == f"{MALICIOUS_NAME}\n{MALICIOUS_PHONE}"
        _assert_inert(browser)
        # The list refreshes itself from the API (inbox.js): its rows must be text too.
        old = _retrying(browser, lambda d: _row(d, conversation_id))
        WebDriverWait(browser, WAIT).until(ec.staleness_of(old))
        assert _cells(browser, conversation_id)[1] == f"{MALICIOUS_NAME}\n{MALICIOUS_PHONE}"
        _assert_inert(browser)

        _open_thread(browser, conversation_id)
        assert browser.find_element(By.CSS_SELECTOR, ".thread-head h1").text == MALICIOUS_NAME
        assert _bodies(browser) == [("msg in customer", MALICIOUS_TEXT)]
        assert MALICIOUS_TEXT in browser.find_element(By.CSS_SELECTOR, "p.handoff").text
        _assert_inert(browser)
        # A message that arrives while the page is open is added by inbox.js: text as well.
        with db.write() as session:
            record_inbound(
                session, phone=MALICIOUS_PHONE, channel="sms", body=MALICIOUS_TEXT, clock=clock
            )
        WebDriverWait(browser, WAIT).until(lambda d: len(_bodies(d)) == 2)
        assert _bodies(browser)[-1][1] == MALICIOUS_TEXT
        _assert_inert(browser)


@sqlite_only
def test_a_new_customer_text_appears_in_the_open_thread_without_a_reload(
    browser: WebDriver, db: Database, clock: FixedClock
) -> None:
    seed(db, DEMO_DATA, clock)
    _agent(db, clock)
    conversation_id = _ava_asks_for_a_person(db, clock)
    text = "Also, can you send it to my office instead? 500 Pike St, Seattle."

    with served_in_thread(_desk(db, clock, RecordingAssistant())) as base_url:
        _sign_in(browser, base_url)
        _open_list(browser)
        _open_thread(browser, conversation_id)
        assert len(_bodies(browser)) == 4
        browser.execute_script("window.__sameDocument = true")

        with db.write() as session:
            stored = record_inbound(session, phone=AVA, channel="sms", body=text, clock=clock)
        selector = f"#messages > li.msg[data-id='{stored.message_id}']"
        arrived = WebDriverWait(browser, WAIT).until(
            lambda d: d.find_element(By.CSS_SELECTOR, selector)
        )
        assert arrived.find_element(By.CLASS_NAME, "body").text == text
        assert arrived.get_attribute("class") == "msg in customer"
        assert [b for _, b in _bodies(browser)][-1] == text
        assert browser.execute_script("return window.__sameDocument") is True


@sqlite_only
def test_the_inbox_asks_for_a_sign_in_and_refuses_a_wrong_password(
    browser: WebDriver, db: Database, clock: FixedClock
) -> None:
    _agent(db, clock)

    with served_in_thread(_desk(db, clock, RecordingAssistant())) as base_url:
        browser.get(f"{base_url}/inbox")
        form = WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "sign-in"))
        assert browser.title == "Sign in · Pigeon inbox"
        assert form.find_element(By.NAME, "next").get_attribute("value") == "/inbox"
        assert not browser.find_elements(By.CSS_SELECTOR, "table.conversations")
        assert not browser.find_elements(By.CSS_SELECTOR, ".error")

        _sign_in(browser, base_url, password="not the password at all")
        error = WebDriverWait(browser, WAIT).until(
            lambda d: d.find_element(By.CSS_SELECTOR, "[role=alert].error")
        )
        assert error.text == "That email and password do not match an agent."
        assert browser.find_element(By.ID, "sign-in")
        assert not browser.find_elements(By.CSS_SELECTOR, "table.conversations")
        browser.get(f"{base_url}/inbox")  # still signed out
        WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "sign-in"))
