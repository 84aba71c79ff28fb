"""ASGI middleware letting a server process handle only N requests to some paths at a time.

Ingest is CPU-bound (parse, validate, fold into sessions) and the GIL runs one thread at a time, so two
batches in one process only contend for it, and for memory. With a gate of 1, a process works on one batch
while the others wait before their bodies are read (they cost a socket buffer, not a parsed batch); more
throughput comes from more processes (`sessionary serve --workers N`), which overlap: one validates while
another writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from starlette.types import ASGIApp, Receive, Scope, Send


class GateMiddleware:
    """At most `limit` requests to `paths` are handled at once in this process; the rest queue, in order."""

    def __init__(self, app: ASGIApp, *, paths: Collection[str], limit: int) -> None:
        self.app = app
        self.paths = frozenset(paths)
        self.limit = limit
        self._semaphore: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in self.paths:
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limit)
        async with self._semaphore:
            await self.app(scope, receive, send)
