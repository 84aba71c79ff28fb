"""How many searches one server process runs at once.

A search holds a database connection and a worker thread while it runs. Waiting for a slot happens on the
event loop (an async dependency, resolved before the route's connection is taken), so searches queued
behind the running ones hold neither: the connection pool and the threads stay free for everything else.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

from sessionary.errors import Unavailable


class Slots:
    """At most `limit` holders at once; a caller that waits longer than `wait` seconds gets Unavailable."""

    def __init__(self, *, limit: int, wait: float, what: str) -> None:
        self.limit, self.wait, self.what = limit, wait, what
        self._semaphore: asyncio.Semaphore | None = None  # made in the server's event loop, on first use

    async def hold(self) -> AsyncIterator[None]:
        """A FastAPI dependency: a slot for the request's duration."""
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limit)
        try:
            async with asyncio.timeout(self.wait):  # a cancelled acquire() takes no slot
                await self._semaphore.acquire()
        except TimeoutError:
            raise Unavailable(
                f"The server is busy: {self.limit} {self.what} are running; try again shortly",
                retry_after=max(1, math.ceil(self.wait)),
            ) from None
        try:
            yield
        finally:
            self._semaphore.release()
