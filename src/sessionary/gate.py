"""A per-process gate letting a server process work on only N requests of one kind at a time.

Ingest is CPU-bound (parse, validate, fold into sessions) and the GIL runs one thread at a time, so two
batches in one process only contend for it, and for memory. With a gate of 1, a process works on one batch
while the others wait; more throughput comes from more processes (`sessionary serve --workers N`), which
overlap: one validates while another writes.

The gate is a route dependency, declared after the caller's key and the request body: a request is let
in only once it is authenticated and its whole body has arrived (body_limit.py bounds how long that may
take), so a client with no key, or one sending its body slowly, never holds the gate and never keeps
another organization's batch waiting. A waiting batch costs its body's bytes, not a parsed batch. When a
batch leaves the gate, the memory it freed is handed back to the system (gc_tuning.release_freed_memory);
while it holds the gate, the cyclic collector is off (gc_tuning.pause_collector).

A gate given its worker's siblings balances the workers of `serve --workers N` (siblings.py): a request
that has to queue while a sibling has nothing to do (no batch held or waiting) is answered with `Connection:
close`, so that the client's next request opens a new connection, which that idle sibling may accept. Only
an idle sibling counts: with two senders on one worker and one on the other, both work all the time, and
closing there (a rule of "two more than the least loaded sibling") closed 26 of 60 requests' connections
in a bench run, moving them back and forth. Closing every queued request's connection moved connections
between workers all the time (PostgreSQL ingest, 4 senders, 2 workers: 12,100 events/s against 15,000).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import Response

from sessionary.errors import Unavailable
from sessionary.gc_tuning import pause_collector, release_freed_memory, resume_collector
from sessionary.siblings import Siblings


class Gate:
    """At most `limit` requests hold the gate at once in this process; the rest queue, in order. With
    `max_waiting`, a request that finds that many already queued is shed: 503 with Retry-After (for clients
    that retry, such as OpenTelemetry exporters, rather than hold a connection open). `siblings`: this
    worker's siblings, to balance with (`Siblings.of_worker`; None: no balancing)."""

    def __init__(
        self, limit: int, *, max_waiting: int | None = None, siblings: Siblings | None = None
    ) -> None:
        self.limit = limit
        self.max_waiting = max_waiting
        self.siblings = siblings
        self._semaphore: asyncio.Semaphore | None = None
        self._waiting = 0
        self._held = 0

    async def hold(self, response: Response) -> AsyncIterator[None]:
        """A dependency (with `scope="function"`): held while the route runs, released when it returns."""
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limit)
        if self._semaphore.locked():
            if self.max_waiting is not None and self._waiting >= self.max_waiting:
                raise Unavailable(
                    f"Busy: {self._waiting} requests are already waiting; retry later", retry_after=1
                )
            if self._a_sibling_idles():
                response.headers["Connection"] = "close"
        self._waiting += 1
        self._publish()
        try:
            await self._semaphore.acquire()
        finally:
            self._waiting -= 1
        self._held += 1
        pause_collector()
        try:
            yield
        finally:
            resume_collector()
            self._held -= 1
            self._semaphore.release()
            self._publish()
            release_freed_memory()

    def _a_sibling_idles(self) -> bool:
        """Has a sibling worker no batch held or waiting?"""
        return self.siblings is not None and self.siblings.least_other() == 0

    def _publish(self) -> None:
        if self.siblings is not None:
            self.siblings.publish(self._held + self._waiting)
