"""`make run` end to end: the whole stack comes up on embedded defaults and stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
START_TIMEOUT = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0


def wait_for_reply(url: str, timeout: float = 90) -> dict:
    """The first assistant text in the simulated phone's thread."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url, timeout=10) as response:
            messages = json.loads(response.read())["messages"]
        replies = [m for m in messages if m["direction"] == "out" and m["author"] == "assistant"]
        if replies:
            return replies[0]
        time.sleep(1)
    pytest.fail(f"no reply within {timeout} s: {messages}")


def post_json(url: str, payload: dict) -> list[dict] | dict:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    data_dir = tmp_path_factory.mktemp("stack")
    ports = {"RASA_PORT": free_port(), "ACTION_PORT": free_port(), "DESK_PORT": free_port()}
    ours = ("PIGEON_", "DATABASE_", "RASA_")
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
    urls = {
        "rasa": f"http://127.0.0.1:{ports['RASA_PORT']}/",
        "actions": f"http://127.0.0.1:{ports['ACTION_PORT']}/health",
        "desk": f"http://127.0.0.1:{ports['DESK_PORT']}/healthz",
    }
    info = {"process": process, "urls": urls, "data_dir": data_dir, "ports": ports}
    try:
        yield info
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def wait_healthy(stack: dict) -> dict[str, int]:
    deadline = time.monotonic() + START_TIMEOUT
    statuses: dict[str, int] = {}
    while time.monotonic() < deadline:
        statuses = {name: get(url) for name, url in stack["urls"].items()}
        if all(code == 200 for code in statuses.values()):
            return statuses
        if stack["process"].poll() is not None:
            break
        time.sleep(2)
    log = (stack["data_dir"] / "stack.log").read_text()[-3000:]
    pytest.fail(f"stack not healthy: {statuses}\n{log}")


@pytest.mark.slow
def test_the_stack_comes_up_protected_and_stops_on_ctrl_c(stack: dict) -> None:
    assert wait_healthy(stack) == {"rasa": 200, "actions": 200, "desk": 200}

    # Embedded defaults: SQLite database, demo store seeded, secrets generated in the data dir.
    data_dir = stack["data_dir"]
    assert (data_dir / "pigeon.db").exists()
    token = json.loads((data_dir / "secrets.json").read_text())["RASA_TOKEN"]

    # The Rasa HTTP API answers only with the token.
    status_url = f"http://127.0.0.1:{stack['ports']['RASA_PORT']}/status"
    assert get(status_url) == 401
    assert get(f"{status_url}?token={token}") == 200

    # The assistant answers through the model, and keeps its tracker in the data dir.
    reply = post_json(
        f"http://127.0.0.1:{stack['ports']['RASA_PORT']}/webhooks/rest/webhook?token={token}",
        {"sender": "stack-test", "message": "hello"},
    )
    assert len(reply) == 1
    assert "track an order" in reply[0]["text"]
    assert (data_dir / "tracker.db").exists()

    # The SMS simulator: a demo customer texts through the signed webhook and gets an answer.
    desk = f"http://127.0.0.1:{stack['ports']['DESK_PORT']}"
    texted = {"phone": "+12065550101", "text": "where is my order"}
    sent = post_json(f"{desk}/simulator/send", texted)
    assert sent["sent"] is True
    answer = wait_for_reply(f"{desk}/simulator/messages?phone=%2B12065550101")
    assert "#1001" in answer["body"]
    assert "ups.com" in answer["body"]
    assert "98101" not in answer["body"]  # never the customer's address

    # Ctrl-C reaches honcho, which stops all three processes.
    os.killpg(stack["process"].pid, signal.SIGINT)
    stack["process"].wait(timeout=60)
    time.sleep(1)
    assert {name: get(url) for name, url in stack["urls"].items()} == {
        "rasa": 0,
        "actions": 0,
        "desk": 0,
    }
