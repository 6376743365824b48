"""The load generator's own process for webhooks: N senders on keep-alive connections.

Shopify delivers a shop's webhooks from a pool of senders, each keeping its connection
open. Here `python -m bench.senders` opens one connection per sender and each sender takes
the next prepared request from a shared queue as soon as its last one was answered, so
requests go out in the caller's order, at most N at a time. It runs in a process of its
own (see bench.load for why); requests are prepared and signed by the caller.

Input (stdin, JSON): {"host", "port", "senders", "timeout", "requests": ["<raw HTTP/1.1>"]}.
Output (stdout, JSON): {"started_at", "results": [{"status", "seconds", "finished_at"}]}
in the order of the requests; status 0 when the request failed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import deque
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit


def keep_alive_request(url: str, body: bytes, headers: Mapping[str, str]) -> str:
    """A whole HTTP/1.1 POST to `url` that leaves the connection open for the next one."""
    parts = urlsplit(url)
    lines = [
        f"POST {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return "\r\n".join(lines) + "\r\n\r\n" + body.decode("latin-1")


class _Sender:
    """One connection, reopened if the server closes it."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, raw: bytes) -> dict:
        started = time.perf_counter()
        try:
            status, keep = await asyncio.wait_for(self._exchange(raw), self.timeout)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
            status, keep = 0, False
        if not keep:
            self.close()
        seconds = time.perf_counter() - started
        return {"status": status, "seconds": seconds, "finished_at": time.time()}

    async def _exchange(self, raw: bytes) -> tuple[int, bool]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {
            k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines if ":" in ln)
        }
        await self.reader.readexactly(int(headers.get("content-length", "0")))
        keep = headers.get("connection", "keep-alive").lower() != "close"
        return int(status_line.split(" ", 2)[1]), keep

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def fire(host: str, port: int, senders: int, requests: Sequence[str], timeout: float) -> dict:
    prepared = deque(enumerate(raw.encode("latin-1") for raw in requests))
    results: list[dict] = [{}] * len(requests)

    async def work() -> None:
        sender = _Sender(host, port, timeout)
        while prepared:
            index, raw = prepared.popleft()
            results[index] = await sender.send(raw)
        sender.close()

    started_at = time.time()
    await asyncio.gather(*(work() for _ in range(senders)))
    return {"started_at": started_at, "results": results}


def main() -> None:
    job = json.load(sys.stdin)
    out = asyncio.run(
        fire(job["host"], job["port"], job["senders"], job["requests"], job.get("timeout", 30.0))
    )
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
