"""A loopback HTTP proxy in front of a live server, for the producer client's tests: it records the event ids
of every ingest POST, can answer the next POSTs with a failure of its choice (after forwarding them, or
not), and can hold requests until released."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from tests.helpers import INGEST, free_port, wait_until_up

Scope = dict[str, Any]


@dataclass(frozen=True)
class Fault:
    """The answer to one ingest POST: `status` and headers; `forward`: sent on first (a lost answer)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    forward: bool = False


class Proxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.posts: list[list[str]] = []  # the event ids of each ingest POST, in arrival order
        self.sizes: list[int] = []  # the body size of each
        self.faults: deque[Fault] = deque()
        self.released = threading.Event()  # cleared: ingest POSTs wait (after being recorded)
        self.released.set()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        if scope["method"] == "POST" and scope["path"] == INGEST:
            self.posts.append([e["event_id"] for e in json.loads(body)["events"]])
            self.sizes.append(len(body))
            await asyncio.to_thread(self.released.wait)
            if self.faults:
                return await self._fail(self.faults.popleft(), scope, body, send)
        response = await self._forward(scope, body)
        await _answer(send, response.status_code, dict(response.headers), response.content)

    async def _fail(self, fault: Fault, scope: Scope, body: bytes, send: Any) -> None:
        if fault.forward:
            await self._forward(scope, body)
        await _answer(send, fault.status, fault.headers, b'{"detail": "injected by the test proxy"}')

    async def _forward(self, scope: Scope, body: bytes) -> httpx.Response:
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k.lower() != b"host"]
        async with httpx.AsyncClient(base_url=self.upstream, timeout=60) as http:
            query = scope["query_string"].decode()
            url = scope["path"] + (f"?{query}" if query else "")
            return await http.request(scope["method"], url, content=body, headers=headers)


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Any, status: int, headers: dict[str, str], content: bytes) -> None:
    skip = {"content-length", "transfer-encoding", "content-encoding", "connection"}
    pairs = [(k.encode(), v.encode()) for k, v in headers.items() if k.lower() not in skip]
    pairs.append((b"content-length", str(len(content)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": pairs})
    await send({"type": "http.response.body", "body": content})


@contextmanager
def serve(proxy: Proxy, port: int | None = None) -> Iterator[str]:
    """Serve the proxy on a loopback port (a free one unless given); yields its URL."""
    port = port or free_port()
    config = uvicorn.Config(proxy, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        yield url
    finally:
        proxy.released.set()
        server.should_exit = True
        thread.join(timeout=10)
