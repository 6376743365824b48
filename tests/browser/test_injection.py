"""Hostile text in every field a customer controls stays text, in a real chromium (issue 8).

SQL metacharacters, markup, template syntax, `javascript:` URLs, RTL overrides and long
strings go in through the real front doors: the signed SMS webhook, SendGrid's email
webhook (From display name, subject, body, attachment names), the chat widget on /demo,
the desk's handoff API (reason, summary) and the order system (a carrier and tracking
number). The inbox list, every thread page and the widget must show them literally, run
none of them, and the database must hold every one verbatim, its tables all there.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import func, select, text, update

from bot.agents import create_agent
from bot.clock import FixedClock
from bot.config import Settings
from bot.desk.app import create_app
from bot.oms.demo import DemoStore
from bot.oms.demo_seed import seed
from bot.services import Services
from bot.sms.signature import sign
from bot.store import Database
from bot.store.demo_tables import DemoFulfillment
from bot.store.models import Base, Conversation, Customer, Message
from channels.chat import ChatInput
from channels.email import EmailInput
from channels.sms import SmsInput
from tests.browser.support import served_in_thread
from tests.fakes.sendgrid import InboundEmailForm
from tests.fakes.twilio import inbound_sms

DEMO_DATA = Path(__file__).resolve().parents[2] / "data" / "demo"
WAIT = 10
EMAIL, PASSWORD = "sam@pigeon.example", "correct horse battery staple"
API_TOKEN = "desk-api-token-for-injection"
SECRET = "email-inbound-secret-for-injection"
ACCOUNT_SID, AUTH_TOKEN, STORE = "AC" + "3" * 32, "twilio-auth-token-injection", "+12065550100"
AVA = "+12065550101"  # her #1001 has a UPS fulfillment, shown in the thread's sidebar

PAYLOADS = (
    "'; DROP TABLE messages; --",
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    '"><svg onload="window.__pwned=3">',
    "{{7*7}}",
    "{% raw %}",
    "javascript:window.__pwned=4",
    "\u202eexe.txt",  # RIGHT-TO-LEFT OVERRIDE: "txt.exe" shown as "exe.txt"
)
HOSTILE = " ".join(PAYLOADS)
SMS_BODY = HOSTILE + " " + "S" * 1200
CHAT_TEXT = HOSTILE + " " + "C" * 3000
EMAIL_NAME = "<img src=x onerror=window.__pwned=5> {{7*7}} \u202eRLO"
EMAIL_SUBJECT = HOSTILE
EMAIL_BODY = HOSTILE + "\n" + "E" * 15_000  # the inbox keeps 20,000 characters
ATTACHMENTS = ('<img src=x onerror="window.__pwned=6">.png', '"><svg onload=alert(1)>{{7*7}}.pdf')
CUSTOMER_NAME = "'; DROP TABLE customers; -- <b>Bold</b> {{7*7}}"
REASON = "<script>window.__pwned=7</script> {{7*7}} '; DROP TABLE conversations; --"
SUMMARY = HOSTILE + " " + "H" * 1000
CARRIER = '<img src=x onerror="window.__pwned=8">'
TRACKING = '"><svg onload="window.__pwned=9">'
TRACKING_URL = "javascript:window.__pwned=10"

INERT = """
  const found = [];
  document.querySelectorAll('*').forEach(el => {
    for (const a of el.attributes) {
      if (a.name.startsWith('on')) found.push(el.tagName + ' ' + a.name);
      if (/^\\s*javascript:/i.test(a.value)) found.push(el.tagName + ' ' + a.name + ' js');
    }
  });
  document.querySelectorAll('svg, img[src="x"], b, script').forEach(el => {
    if (el.tagName !== 'SCRIPT' || el.textContent.includes('__pwned')) found.push(el.outerHTML);
  });
  return {pwned: typeof window.__pwned, found: found, text: document.body.textContent};
"""


class Silent:
    """Stands in for Rasa: hears every turn, says nothing (the inbox is what is looked at)."""

    def __init__(self) -> None:
        self.heard: list[str] = []

    async def __call__(self, message: UserMessage) -> None:
        self.heard.append(message.text)


def _services(db: Database, clock: FixedClock, **settings: str) -> Services:
    settings = dict(
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from_number=STORE,
        email_inbound_secret=SECRET,
        rasa_token="rasa-token-for-injection",
        desk_api_token=API_TOKEN,
        **settings,
    )
    return Services(Settings(**settings), db, DemoStore(db, clock), clock)


def _channels(services: Services, assistant: Silent) -> Sanic:
    """The Rasa server's three channels, mounted as Rasa mounts them (no model)."""
    app = Sanic(f"channels_{uuid.uuid4().hex}")
    for channel in (SmsInput(services), EmailInput(services), ChatInput(services)):
        app.blueprint(channel.blueprint(assistant), url_prefix=f"/webhooks/{channel.name()}")
    return app


def _write_in(rasa: str, desk: str) -> None:
    """The SMS, the email and the handoff, each through its signed or secret front door."""
    url = f"{rasa}/webhooks/sms/webhook"
    form = inbound_sms(ACCOUNT_SID, AVA, STORE, SMS_BODY)
    sms = requests.post(
        url, data=form, headers={"X-Twilio-Signature": sign(AUTH_TOKEN, url, form)}, timeout=10
    )
    assert sms.status_code == 200, sms.text
    email = InboundEmailForm(
        sender=f'"{EMAIL_NAME}" <mallory@example.com>',
        subject=EMAIL_SUBJECT,
        text=EMAIL_BODY,
        envelope_from="mallory@example.com",
        attachments=[(name, "application/octet-stream", b"x") for name in ATTACHMENTS],
    )
    content_type, body = email.encode()
    posted = requests.post(
        f"{rasa}/webhooks/email/inbound/{SECRET}",
        data=body,
        headers={"Content-Type": content_type},
        timeout=10,
    )
    assert posted.status_code == 200, posted.text
    handoff = requests.post(
        f"{desk}/api/handoff",
        json={"sender_id": AVA, "reason": REASON, "summary": SUMMARY},
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        timeout=10,
    )
    assert handoff.status_code == 201, handoff.text


def _hostile_order_and_name(db: Database) -> None:
    """What the order system and the customer record say about Ava, made hostile."""
    with db.write() as session:
        session.execute(
            update(DemoFulfillment)
            .where(DemoFulfillment.order_id == 1001)
            .values(carrier=CARRIER, tracking_number=TRACKING, tracking_url=TRACKING_URL)
        )
        session.execute(update(Customer).where(Customer.phone == AVA).values(name=CUSTOMER_NAME))


def _chat_in_the_widget(browser: WebDriver, desk: str) -> None:
    browser.get(f"{desk}/demo")
    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".pigeon-chat-launcher")
    ).click()
    field = browser.find_element(By.ID, "pigeon-chat-input")
    browser.execute_script("arguments[0].value = arguments[1]", field, CHAT_TEXT)
    field.send_keys(Keys.ENTER)
    shown = "return Array.from(document.querySelectorAll('.pigeon-chat-log li[data-id] .pigeon-chat-text')).map(e => e.textContent)"  # noqa: E501
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script(shown) == [CHAT_TEXT])
    _assert_inert(browser, [CHAT_TEXT])


def _assert_inert(browser: WebDriver, literal: list[str]) -> None:
    page = browser.execute_script(INERT)
    assert page["pwned"] == "undefined"
    assert page["found"] == []
    missing = [s for s in literal if s not in page["text"]]
    assert missing == []
    assert "49" not in page["text"].replace(AVA, "")  # {{7*7}} never evaluated


def _sign_in(browser: WebDriver, desk: str) -> None:
    browser.get(f"{desk}/inbox")
    form = WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "sign-in"))
    form.find_element(By.NAME, "email").send_keys(EMAIL)
    form.find_element(By.NAME, "password").send_keys(PASSWORD)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def _rows(browser: WebDriver) -> int:
    return len(browser.find_elements(By.CSS_SELECTOR, "table.conversations tbody tr[data-id]"))


def _threads(db: Database) -> dict[str, Conversation]:
    with db.read() as session:
        return {c.channel: c for c in session.scalars(select(Conversation)).all()}


def _assert_stored_verbatim(db: Database) -> None:
    with db.read() as session:
        tables = session.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
        assert {t.name for t in Base.metadata.sorted_tables} <= {row[0] for row in tables}
        bodies = {m.channel: m for m in session.scalars(select(Message)).all()}
        assert bodies["sms"].body == SMS_BODY
        assert bodies["chat"].body == CHAT_TEXT
        email = bodies["email"]
        assert email.body == EMAIL_BODY
        assert email.email_meta["subject"] == EMAIL_SUBJECT
        assert [a["filename"] for a in email.email_meta["attachments"]] == list(ATTACHMENTS)
        names = session.scalars(select(Customer.name)).all()
        assert CUSTOMER_NAME in names
        assert EMAIL_NAME in names
        sms = session.scalars(select(Conversation).where(Conversation.channel == "sms")).one()
        assert (sms.handoff_reason, sms.handoff_summary) == (REASON, SUMMARY)
        assert session.scalar(select(func.count()).select_from(Message)) == 3


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_hostile_text_in_every_customer_field_is_shown_literally_and_never_runs(
    browser: WebDriver, db: Database, clock: FixedClock
) -> None:
    seed(db, DEMO_DATA)
    with db.write() as session:
        create_agent(session, EMAIL, PASSWORD, clock, name="Sam Rivera")
    assistant = Silent()
    with served_in_thread(_channels(_services(db, clock), assistant)) as rasa:
        desk_app = create_app(
            _services(db, clock, chat_url=rasa),
            f"desk_{uuid.uuid4().hex}",
            dispatch=False,
            notify=False,
            email=False,
        )
        with served_in_thread(desk_app) as desk:
            _write_in(rasa, desk)
            _chat_in_the_widget(browser, desk)
            _hostile_order_and_name(db)
            browser.execute_script("localStorage.clear()")
            _sign_in(browser, desk)
            WebDriverWait(browser, WAIT).until(lambda d: _rows(d) == 3)
            _assert_inert(browser, [CUSTOMER_NAME, REASON, EMAIL_NAME])
            threads = _threads(db)
            expected = {
                "sms": [SMS_BODY, CUSTOMER_NAME, REASON, SUMMARY, CARRIER, TRACKING],
                "email": [EMAIL_BODY.split("\n")[0], EMAIL_SUBJECT, EMAIL_NAME, *ATTACHMENTS],
                "chat": [CHAT_TEXT],
            }
            for channel, literal in expected.items():
                browser.get(f"{desk}/inbox/{threads[channel].id}")
                WebDriverWait(browser, WAIT).until(
                    lambda d: d.find_elements(By.CSS_SELECTOR, "#messages li.msg")
                )
                _assert_inert(browser, literal)
            assert not browser.find_elements(By.PARTIAL_LINK_TEXT, "track")  # javascript: URL
    _assert_stored_verbatim(db)
