"""The web chat widget in a real headless chromium (issue 7).

The first test runs the whole stack as `make run` does (`python -m bot run`: Rasa with the
trained model, the action server, the desk): a visitor on /demo asks for a person, the
thread waits in the inbox, an agent answers it, and the visitor reads the answer in the
widget. The second serves the desk and the chat channel in-process, with a scripted
assistant, for what a visitor must never see happen: markup running, the token in a URL.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from bot.agents import create_agent
from bot.clock import FixedClock
from bot.config import Settings
from bot.desk.app import create_app
from bot.inbox import record_outbound
from bot.oms.demo import DemoStore
from bot.services import Services
from bot.store import Database
from bot.store.models import Agent, Conversation, Message
from channels.chat import ChatInput
from tests.browser.support import save_screenshot, served_in_thread
from tests.test_stack import ROOT, free_port, wait_healthy

WAIT = 10  # seconds; the open widget polls every 1.5 s, the inbox every 3
TURN_WAIT = 90  # the assistant's first turn in a fresh stack can be slow
EMAIL, PASSWORD, AGENT_NAME = "sam@pigeon.example", "correct horse battery staple", "Sam Rivera"
ASK_FOR_A_PERSON = "I want to talk to a person"
MALICIOUS_TEXT = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
MALICIOUS_NAME = '<img src=x onerror="window.__pwned=3">Mallory'


# --- the widget, as a visitor uses it ---


def _open_widget(browser: WebDriver, base_url: str) -> WebElement:
    browser.get(f"{base_url}/demo")
    launcher = WebDriverWait(browser, WAIT).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, ".pigeon-chat-launcher"))
    )
    launcher.click()
    field = browser.find_element(By.ID, "pigeon-chat-input")
    WebDriverWait(browser, WAIT).until(lambda d: d.switch_to.active_element == field)
    assert launcher.get_attribute("aria-expanded") == "true"
    label = browser.find_element(By.CSS_SELECTOR, "label[for='pigeon-chat-input']")
    assert label.get_attribute("textContent") == "Your message"
    return field


def _say(browser: WebDriver, text: str) -> None:
    browser.find_element(By.ID, "pigeon-chat-input").send_keys(text, Keys.ENTER)


def _shown(browser: WebDriver) -> list[tuple[str, str, str]]:
    """(author, label, text) of each stored message in the widget, oldest first."""
    script = """
      return Array.from(document.querySelectorAll('.pigeon-chat-log li[data-id]')).map(li => [
        li.className.match(/pigeon-chat-(customer|assistant|agent)/)[1],
        li.querySelector('.pigeon-chat-who').textContent,
        li.querySelector('.pigeon-chat-text').textContent]);
    """
    return [tuple(row) for row in browser.execute_script(script)]


def _wait_shown(browser: WebDriver, count: int, timeout: float = WAIT) -> list:
    WebDriverWait(browser, timeout).until(lambda d: len(_shown(d)) >= count)
    return _shown(browser)


def _token(browser: WebDriver) -> str:
    token = browser.execute_script(
        "return Object.keys(localStorage).filter(k => k.startsWith('pigeon-chat-token:'))"
        ".map(k => localStorage.getItem(k))[0] || null"
    )
    assert token, "the widget kept no token"
    return token


def _sender(token: str) -> str:
    return "chat-" + hashlib.sha256(token.encode()).hexdigest()[:32]


# --- the whole stack ---


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """`python -m bot run` on fresh ports and data dir, with one agent account."""
    data_dir = tmp_path_factory.mktemp("chat-stack")
    ports = {"RASA_PORT": free_port(), "ACTION_PORT": free_port(), "DESK_PORT": free_port()}
    ours = ("PIGEON_", "DATABASE_", "RASA_", "DESK_", "CHAT_", "TWILIO_", "SHOPIFY_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env.update({"PIGEON_DATA_DIR": str(data_dir), **{k: str(v) for k, v in ports.items()}})
    log = (data_dir / "stack.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    info = {
        "process": process,
        "data_dir": data_dir,
        "desk": f"http://127.0.0.1:{ports['DESK_PORT']}",
        "urls": {
            "rasa": f"http://127.0.0.1:{ports['RASA_PORT']}/webhooks/chat/",
            "actions": f"http://127.0.0.1:{ports['ACTION_PORT']}/health",
            "desk": f"http://127.0.0.1:{ports['DESK_PORT']}/healthz",
        },
    }
    try:
        wait_healthy(info)
        subprocess.run(
            [sys.executable, "-m", "bot", "create-agent", EMAIL, "--name", AGENT_NAME],
            input=PASSWORD + "\n",
            text=True,
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        yield info
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C, as make run is stopped
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def _thread_of(data_dir: Path, sender_id: str) -> Conversation | None:
    db = Database(f"sqlite:///{data_dir / 'pigeon.db'}")
    try:
        with db.read() as session:
            return session.scalars(
                select(Conversation).where(Conversation.sender_id == sender_id)
            ).one_or_none()
    finally:
        db.dispose()


def _sign_in(browser: WebDriver, desk: str) -> None:
    browser.get(f"{desk}/inbox")
    form = WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "sign-in"))
    form.find_element(By.NAME, "email").send_keys(EMAIL)
    form.find_element(By.NAME, "password").send_keys(PASSWORD)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, WAIT).until(ec.staleness_of(form))


def _agent_answers(browser: WebDriver, desk: str, conversation_id: int, reply: str) -> None:
    """In the inbox: the chat thread waits as pending; open it and reply."""
    _sign_in(browser, desk)
    # inbox.js rebuilds the list's rows every 3 s: read a row again if it goes stale.
    wait = WebDriverWait(browser, WAIT, ignored_exceptions=(StaleElementReferenceException,))
    cells = wait.until(
        lambda d: [
            td.text
            for td in d.find_element(
                By.CSS_SELECTOR, f"tr[data-id='{conversation_id}']"
            ).find_elements(By.TAG_NAME, "td")
        ]
    )
    assert cells[2:4] == ["pending", "chat"]
    assert cells[4] == "customer asked for a person"
    browser.get(f"{desk}/inbox/{conversation_id}")
    form = WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "reply-form"))
    bodies = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#messages li.msg .body")]
    assert bodies[0] == ASK_FOR_A_PERSON
    form.find_element(By.NAME, "text").send_keys(reply)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, WAIT).until(ec.staleness_of(form))


def _resolve(browser: WebDriver) -> None:
    browser.find_element(By.ID, "resolve").click()
    # The page reloads after the POST: the status element may go stale while it is read.
    wait = WebDriverWait(browser, WAIT, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(lambda d: d.find_element(By.ID, "status").text == "resolved")


@pytest.mark.slow
def test_a_visitor_asks_for_a_person_and_reads_the_agents_answer_in_the_widget(
    browser: WebDriver, stack: dict
) -> None:
    desk, reply = stack["desk"], "Hi, this is Sam. Your order #1001 ships tomorrow."

    _open_widget(browser, desk)
    _say(browser, ASK_FOR_A_PERSON)
    shown = _wait_shown(browser, 2, TURN_WAIT)
    assert shown[0] == ("customer", "You", ASK_FOR_A_PERSON)
    assert [(author, label) for author, label, _ in shown[1:]] == [("assistant", "Assistant")]
    sender = _sender(_token(browser))
    conversation = _thread_of(stack["data_dir"], sender)
    assert conversation is not None
    assert (conversation.channel, conversation.status) == ("chat", "pending")

    visitor_tab = browser.current_window_handle
    browser.switch_to.new_window("tab")
    try:
        _agent_answers(browser, desk, conversation.id, reply)
        agent_tab = browser.current_window_handle
        browser.switch_to.window(visitor_tab)
        shown = _wait_shown(browser, 3)
        assert shown[2] == ("agent", AGENT_NAME, reply)
        save_screenshot(browser, "chat")

        # The agent resolves: the assistant answers the visitor again (Rasa resumed).
        browser.switch_to.window(agent_tab)
        _resolve(browser)
    finally:
        for handle in browser.window_handles:
            if handle != visitor_tab:
                browser.switch_to.window(handle)
                browser.close()
        browser.switch_to.window(visitor_tab)
    _say(browser, "where is my order")
    shown = _wait_shown(browser, 5, TURN_WAIT)
    assert shown[3] == ("customer", "You", "where is my order")
    assert shown[4][:2] == ("assistant", "Assistant")


# --- in-process: the widget's guarantees ---


class MarkupAssistant:
    """Answers every message with markup, as a careless reply template might."""

    async def __call__(self, message: UserMessage) -> None:
        await message.output_channel.send_text_message(
            message.sender_id, "You said: " + message.text + " " + MALICIOUS_TEXT
        )


def _chat_server(db: Database, clock: FixedClock) -> Sanic:
    services = Services(Settings(rasa_token="rasa-token"), db, DemoStore(db, clock), clock)
    app = Sanic(f"chat_{uuid.uuid4().hex}")
    app.blueprint(ChatInput(services).blueprint(MarkupAssistant()), url_prefix="/webhooks/chat")
    return app


def _desk(db: Database, clock: FixedClock, chat_url: str) -> Sanic:
    services = Services(Settings(chat_url=chat_url), db, DemoStore(db, clock), clock)
    return create_app(
        services, f"desk_{uuid.uuid4().hex}", dispatch=False, notify=False, email=False
    )


def _agent_named(db: Database, clock: FixedClock, sender_id: str, name: str, text: str) -> None:
    """An agent's chat reply as the inbox records it."""
    with db.write() as session:
        create_agent(session, "mallory@example.com", PASSWORD, clock, name=name)
        agent = session.scalars(select(Agent)).one()
        conversation = session.scalars(
            select(Conversation).where(Conversation.sender_id == sender_id)
        ).one()
        record_outbound(
            session, conversation, author="agent", body=text, status="sent", agent_id=agent.id
        )


def _assert_inert(browser: WebDriver) -> None:
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert not browser.find_elements(By.CSS_SELECTOR, ".pigeon-chat img, .pigeon-chat script")


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_widget_shows_markup_as_text_keeps_the_token_private_and_survives_a_reload(
    browser: WebDriver, db: Database, clock: FixedClock
) -> None:
    with (
        served_in_thread(_chat_server(db, clock)) as chat_url,
        served_in_thread(_desk(db, clock, chat_url)) as desk,
    ):
        _open_widget(browser, desk)
        _say(browser, MALICIOUS_TEXT)
        shown = _wait_shown(browser, 2)
        assert shown == [
            ("customer", "You", MALICIOUS_TEXT),
            ("assistant", "Assistant", f"You said: {MALICIOUS_TEXT} {MALICIOUS_TEXT}"),
        ]
        _assert_inert(browser)

        token = _token(browser)
        sender = _sender(token)
        _agent_named(db, clock, sender, MALICIOUS_NAME, "An agent's <b>answer</b>")
        shown = _wait_shown(browser, 3)
        assert shown[2] == ("agent", MALICIOUS_NAME, "An agent's <b>answer</b>")
        _assert_inert(browser)
        assert not browser.find_elements(By.CSS_SELECTOR, ".pigeon-chat b")

        requested = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        assert any("/webhooks/chat/messages" in url for url in requested)
        assert not [url for url in requested if token in url]
        with db.read() as session:
            [message] = session.scalars(select(Message).where(Message.direction == "in")).all()
            assert (message.body, message.conversation.sender_id) == (MALICIOUS_TEXT, sender)
            assert token not in json.dumps([message.external_id, message.conversation.sender_id])

        browser.find_element(By.ID, "pigeon-chat-input").send_keys(Keys.ESCAPE)
        launcher = browser.find_element(By.CSS_SELECTOR, ".pigeon-chat-launcher")
        assert launcher.get_attribute("aria-expanded") == "false"
        assert browser.switch_to.active_element == launcher

        browser.refresh()  # the same visitor: the conversation is still there
        _open_widget(browser, desk)
        assert _wait_shown(browser, 3) == shown
        assert _token(browser) == token
        _assert_inert(browser)
