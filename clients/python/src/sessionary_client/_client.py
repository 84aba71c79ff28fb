"""The client: a bounded queue filled by the callers, emptied in batches by one background thread."""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

from sessionary_client._buffer import Buffer
from sessionary_client._events import encode
from sessionary_client._sender import RetryPolicy, Sender
from sessionary_client._session import Session
from sessionary_client._stats import ClientStats, Counters

log = logging.getLogger("sessionary_client")

SERVER_MAX_EVENTS = 10_000  # the server's default SESSIONARY_INGEST_MAX_EVENTS (more in one request: 413)
SERVER_MAX_BYTES = 10 * 1024 * 1024  # its default SESSIONARY_INGEST_MAX_BYTES


class SessionaryClient:
    """Sends sessions' events to a sessionary server without ever making its callers wait for the network.

    `session()` and every `Session` method only build an event and put it on a queue of at most `max_queue`
    events (full: the newest event is dropped and counted in `stats.dropped_overflow`). A daemon thread sends
    batches of at most `batch_size` events and `max_batch_bytes` bytes, as soon as a batch is full or its
    oldest event has waited `flush_interval` seconds, retrying with the same event ids (see `RetryPolicy`).
    `flush()` and `close()` wait (from asyncio: `aflush()`, `aclose()`); the interpreter's exit calls
    `close(exit_timeout)`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        batch_size: int = 100,
        flush_interval: float = 1.0,
        max_queue: int = 10_000,
        max_batch_bytes: int = 4 * 1024 * 1024,
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
        exit_timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        _check(batch_size, flush_interval, max_queue, max_batch_bytes)
        self._counters = Counters()
        self._buffer = Buffer(
            max_events=max_queue,
            batch_size=batch_size,
            max_batch_bytes=max_batch_bytes,
            interval=flush_interval,
        )
        http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            timeout=timeout,
            transport=transport,
        )
        self._sender = Sender(http, policy=retry or RetryPolicy(), counters=self._counters)
        self._closed = False
        self._overflow_logged = 0
        self._exit_timeout = exit_timeout
        self._thread = threading.Thread(target=self._run, args=(http,), name="sessionary-client", daemon=True)
        self._thread.start()
        atexit.register(self._at_exit)

    def __enter__(self) -> SessionaryClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    @property
    def stats(self) -> ClientStats:
        """The counters now (events accepted, stored, dropped by reason; see `ClientStats`)."""
        return self._counters.snapshot(queued=len(self._buffer))

    def session(
        self,
        service: str,
        sid: str,
        *,
        timestamp: datetime | None = None,
        event_id: str | None = None,
        **fields: Any,
    ) -> Session:
        """Queue `session.started` for `service`/`sid` with these Session fields; returns the Session."""
        session = Session(self.emit, service, sid)
        session.start(timestamp=timestamp, event_id=event_id, **fields)
        return session

    def emit(self, event: dict[str, Any]) -> bool:
        """Queue one native event (a dict in the ingest format); False if dropped (queue full, closed)."""
        if self._buffer.put(encode(event)):
            self._counters.add(accepted=1)
            return True
        self._counters.add(**{"dropped_unsent" if self._closed else "dropped_overflow": 1})
        return False

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Send every event queued so far and wait; False if `timeout` seconds passed first."""
        return self._buffer.flush(timeout)

    def close(self, timeout: float | None = 30.0) -> bool:
        """Send what is queued, stop the thread; past `timeout`, drop the rest (`stats.dropped_unsent`)."""
        atexit.unregister(self._at_exit)
        self._closed = True
        self._buffer.close()
        self._thread.join(timeout)
        if not self._thread.is_alive():
            return True
        self._sender.stopped.set()
        left = self._buffer.drain()
        self._counters.add(dropped_unsent=left)
        log.error("sessionary: close() timed out; %d queued events dropped, the batch in flight stops", left)
        return False

    async def aflush(self, timeout: float | None = 30.0) -> bool:
        """flush() in a worker thread, so the event loop keeps running meanwhile."""
        return await asyncio.to_thread(self.flush, timeout)

    async def aclose(self, timeout: float | None = 30.0) -> bool:
        """close() in a worker thread, so the event loop keeps running meanwhile."""
        return await asyncio.to_thread(self.close, timeout)

    def _at_exit(self) -> None:
        self.close(self._exit_timeout)

    def _run(self, http: httpx.Client) -> None:
        with http:
            while (batch := self._buffer.next_batch()) is not None:
                try:
                    self._sender.deliver(batch)
                except Exception:  # a bug or an unreadable answer must not stop the thread
                    log.exception("sessionary: %d events dropped", len(batch))
                    self._counters.add(dropped_failed=len(batch))
                finally:
                    self._buffer.settle(len(batch))
                self._log_overflow()

    def _log_overflow(self) -> None:
        dropped = self._counters.snapshot(queued=0).dropped_overflow
        if dropped > self._overflow_logged:
            log.warning("sessionary: queue full, %d events dropped so far", dropped)
            self._overflow_logged = dropped


def _check(batch_size: int, flush_interval: float, max_queue: int, max_batch_bytes: int) -> None:
    if not 1 <= batch_size <= SERVER_MAX_EVENTS:
        raise ValueError(f"batch_size must be 1 to {SERVER_MAX_EVENTS:,} (the server's events per request)")
    if not 1 <= max_batch_bytes <= SERVER_MAX_BYTES:
        raise ValueError(
            f"max_batch_bytes must be 1 to {SERVER_MAX_BYTES:,} (the server's bytes per request)"
        )
    if flush_interval <= 0 or max_queue < 1:
        raise ValueError("flush_interval must be > 0 and max_queue >= 1")
