"""The load generator's own process: fire prepared HTTP requests all at once, time each.

A load generator in the server's process shares its GIL and CPU: every request it builds
and every response it parses delays the server it measures, and the server delays its
clock. Here it runs as `python -m bench.load` in a process of its own, with requests
prepared (and signed) by the caller, on bare asyncio streams: one new connection per
request, as texts from different phones arrive.

Input (stdin, JSON): {"host", "port", "requests": [{"sender", "raw"}], "timeout"}, where
`raw` is the whole HTTP/1.1 request. Output (stdout, JSON): {"started_at", "results":
[{"sender", "status", "seconds", "finished_at", "body"}]}; status 0 when the request failed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Sequence
from urllib.parse import urlencode, urlsplit

import uvloop


def http_request(url: str, body: bytes, content_type: str, headers: dict[str, str]) -> str:
    """A whole HTTP/1.1 POST to `url` (the connection closes after it)."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {parts.netloc}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return "\r\n".join(lines) + "\r\n\r\n" + body.decode("latin-1")


def form_request(url: str, form: dict[str, str], headers: dict[str, str]) -> str:
    body = urlencode(form).encode()
    return http_request(url, body, "application/x-www-form-urlencoded", headers)


def json_request(url: str, payload: object) -> str:
    return http_request(url, json.dumps(payload).encode(), "application/json", {})


async def _one(host: str, port: int, sender: str, raw: bytes, timeout: float) -> dict:
    started = time.perf_counter()
    status, body = 0, ""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        writer.write(raw)
        status, body = await asyncio.wait_for(_response(reader), timeout)
        writer.close()
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
        status = 0
    return {
        "sender": sender,
        "status": status,
        "seconds": time.perf_counter() - started,
        "finished_at": time.time(),
        "body": body,
    }


async def _response(reader: asyncio.StreamReader) -> tuple[int, str]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(":", 1) for line in header_lines if ":" in line)
    length = {k.strip().lower(): v.strip() for k, v in headers.items()}.get("content-length")
    body = await (reader.readexactly(int(length)) if length is not None else reader.read())
    return int(status_line.split(" ", 2)[1]), body.decode("utf-8", "replace")


async def fire(host: str, port: int, requests: Sequence[dict], timeout: float) -> dict:
    prepared = [(r["sender"], r["raw"].encode("latin-1")) for r in requests]
    started_at = time.time()
    results = await asyncio.gather(
        *(_one(host, port, sender, raw, timeout) for sender, raw in prepared)
    )
    return {"started_at": started_at, "results": list(results)}


def main() -> None:
    job = json.load(sys.stdin)
    uvloop.install()  # as Sanic serves: the generator's own overhead stays small
    out = asyncio.run(fire(job["host"], job["port"], job["requests"], job.get("timeout", 120.0)))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
