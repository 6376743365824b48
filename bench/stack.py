"""Pigeon's pieces for a benchmark: a fresh database, the action server, Rasa, the dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from bench.loops import ACCOUNT_SID, AUTH_TOKEN, STORE_NUMBER, LoopThread
from bot import config
from bot.clock import SystemClock
from bot.config import Settings
from bot.launch import ROOT, model_path, process_env
from bot.oms.demo_seed import DEFAULT_DATA_DIR, seed
from bot.sms.dispatcher import Dispatcher
from bot.sms.pacing import Pacer
from bot.sms.twilio_gateway import from_settings
from bot.store import Database
from bot.store.migrate import upgrade
from bot.store.models import Message, OutboxItem, WebhookReceipt

OURS = ("PIGEON_", "DATABASE_", "RASA_", "TWILIO_", "SHOPIFY_", "PUBLIC_URL", "ACTION_", "DESK_")
START_TIMEOUT = 180.0  # seconds for the action server to answer /health


def bench_settings(data_dir: Path, twilio_url: str, mps: float) -> Settings:
    """Settings of an install in `data_dir` whose Twilio is the fake at `twilio_url`."""
    return Settings(
        data_dir=data_dir,
        log_level="WARNING",
        database_url=f"sqlite:///{data_dir / 'pigeon.db'}",
        quiet_hours=None,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from_number=STORE_NUMBER,
        twilio_api_url=twilio_url,
        twilio_mps=mps,
    )


def prepare_database(db: Database, *, demo: bool = True) -> Database:
    """Migrate `db`, and seed the demo store when `demo`."""
    upgrade(db)
    if demo:
        seed(db, ROOT / DEFAULT_DATA_DIR)
    return db


def pending_outbox(db: Database) -> int:
    """Texts the dispatcher has yet to hand to Twilio."""
    with db.read() as session:
        query = select(func.count()).where(OutboxItem.status.in_(("queued", "sending")))
        return session.scalar(query)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One of Pigeon's processes on a free port, with the stack's environment; logs to a file."""

    kind = "server"
    health_path = "/"

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.port = free_port()
        self.settings = settings
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def argv(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
        return process_env(self.settings, environ)

    def start(self) -> None:
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                self.argv(),
                cwd=ROOT,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def ready(self) -> None:
        """Wait for its health route; one that exits or never answers stops the benchmark."""
        deadline = time.monotonic() + START_TIMEOUT
        health = f"http://127.0.0.1:{self.port}{self.health_path}"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    break
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with session.get(health) as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.5)
        raise RuntimeError(f"the {self.kind} did not start; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class ActionServer(Server):
    """`rasa run actions`, on `settings`' database."""

    kind = "action server"
    health_path = "/health"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    def argv(self) -> list[str]:
        return ["rasa", "run", "actions", "--port", str(self.port), "--actions", "actions"]

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env[config.ACTION_PORT] = str(self.port)
        return env


class DeskServer(Server):
    """`python -m bot serve`: the desk, whose dispatcher sends the outbox to `settings`' Twilio.

    As in production, the dispatcher runs in a process of its own, not in Rasa's.
    """

    kind = "desk"
    health_path = "/healthz"

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "bot", "serve", "--port", str(self.port)]

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env.update(pigeon_env(self.settings))
        env[config.DESK_PORT] = str(self.port)
        return env


class RasaServer(Server):
    """`rasa run --enable-api`, as the Procfile starts it, with the model bench trained.

    Its SMS output channel queues what the assistant says (shipping alerts included) in
    `settings`' database, for the desk's dispatcher; `settings.action_port` is its actions.
    """

    kind = "Rasa server"
    health_path = "/"

    def __init__(self, settings: Settings, log_path: Path, credentials: Path | None = None) -> None:
        super().__init__(settings, log_path)
        self.credentials = credentials or ROOT / "credentials.yml"

    def argv(self) -> list[str]:
        token = self.environment()[config.RASA_TOKEN]
        return [
            "rasa",
            "run",
            "--enable-api",
            "--auth-token",
            token,
            "--port",
            str(self.port),
            "--model",
            str(model_path()),
            "--credentials",
            str(self.credentials),
            "--endpoints",
            "endpoints.yml",
        ]

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env.update(pigeon_env(self.settings))
        env[config.RASA_PORT] = str(self.port)
        return env


def pigeon_env(s: Settings) -> dict[str, str]:
    """What the desk and Rasa read besides the defaults: Twilio (the fake), no quiet hours."""
    env = {
        config.PIGEON_LOG_LEVEL: s.log_level,
        config.QUIET_HOURS: "off",
        config.TWILIO_ACCOUNT_SID: s.twilio_account_sid or "",
        config.TWILIO_AUTH_TOKEN: s.twilio_auth_token or "",
        config.TWILIO_FROM_NUMBER: s.twilio_from_number or "",
        config.TWILIO_API_URL: s.twilio_api_url,
        config.TWILIO_MPS: f"{s.twilio_mps:g}",
    }
    if s.rasa_url:
        env[config.RASA_URL] = s.rasa_url
    if s.shopify_webhook_secret:
        env[config.SHOPIFY_WEBHOOK_SECRET] = s.shopify_webhook_secret
    return env


def unfinished_texts(db: Database) -> int:
    """Inbound texts not yet answered and replies not yet handed to Twilio."""
    with db.read() as session:
        unsorted = select(func.count()).where(WebhookReceipt.processed_at.is_(None))
        unanswered = select(func.count()).where(
            Message.direction == "in", Message.status == "received"
        )
        return session.scalar(unsorted) + session.scalar(unanswered) + pending_outbox(db)


@contextlib.asynccontextmanager
async def dispatching(
    db: Database, settings: Settings, rate: float, thread: LoopThread | None = None
) -> AsyncIterator[Dispatcher]:
    """The outbox dispatcher sending to `settings`' Twilio, on `thread`'s loop or this one."""
    gateway = from_settings(settings)
    dispatcher = Dispatcher(
        db, gateway, SystemClock(), pacer=Pacer(rate), quiet_hours=None, worker="bench"
    )
    stop = asyncio.Event()
    if thread is None:
        running = asyncio.ensure_future(dispatcher.run(stop))
        stopping = stop.set
    else:
        running = asyncio.wrap_future(thread.submit(dispatcher.run(stop)))
        stopping = functools.partial(thread.call, stop.set)
    try:
        yield dispatcher
    finally:
        stopping()
        await running
        close = gateway.close()
        await (close if thread is None else thread.run(close))
