"""Pigeon's three processes started one by one, as the Procfile starts them, so a fault run
can SIGKILL one and start it again on the same port and database.

The servers are bench/stack.py's (`rasa run --enable-api`, `rasa run actions`,
`python -m bot serve`, each with `bot.launch.process_env`); this adds the kill and restart.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from bench.stack import (
    ActionServer,
    DeskServer,
    RasaServer,
    Server,
    bench_settings,
    prepare_database,
)
from bot.store import Database
from tests.fakes.twilio import FakeTwilio

SHOPIFY_SECRET = "faults-shopify-secret"


@dataclass
class Processes:
    actions: ActionServer
    rasa: RasaServer
    desk: DeskServer
    db: Database
    data_dir: Path

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.rasa.port}/webhooks/sms/webhook"

    @property
    def desk_url(self) -> str:
        return f"http://127.0.0.1:{self.desk.port}"


def kill(server: Server) -> None:
    """SIGKILL the server's whole process group: no shutdown hook runs."""
    if server.process is None or server.process.poll() is not None:
        raise RuntimeError(f"the {server.kind} is not running")
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()


async def restart(server: Server) -> None:
    """Start it again on the same port (a new log file), and wait for its health route."""
    runs = len(list(server.log_path.parent.glob(server.log_path.stem + "*")))
    server.log_path = server.log_path.with_name(f"{server.log_path.stem}-{runs + 1}.log")
    server.start()
    await server.ready()


@asynccontextmanager
async def processes(data_dir: Path, fake: FakeTwilio, mps: float = 20) -> AsyncIterator[Processes]:
    """A migrated, seeded SQLite install in `data_dir` and its three processes, ready."""
    settings = replace(
        bench_settings(data_dir, fake.url, mps=mps), shopify_webhook_secret=SHOPIFY_SECRET
    )
    db = Database(settings.database_url)
    await asyncio.to_thread(prepare_database, db)
    actions = ActionServer(settings, data_dir / "actions.log")
    settings = replace(settings, action_port=actions.port)
    rasa = RasaServer(settings, data_dir / "rasa.log")
    settings = replace(settings, rasa_port=rasa.port, rasa_url=f"http://127.0.0.1:{rasa.port}")
    desk = DeskServer(settings, data_dir / "desk.log")
    servers = (actions, rasa, desk)
    try:
        for server in servers:
            server.start()
        await asyncio.gather(*(server.ready() for server in servers))
        yield Processes(actions, rasa, desk, db, data_dir)
    finally:
        for server in servers:
            server.stop()
        db.dispose()
