"""When each API key was last used: written at most once a minute per key and process, off the request.

A request that authenticates notes its key here (a dictionary look-up). The first use of a key in a minute
queues one write, which a daemon thread of the process does in a short transaction of its own: no request
waits for the database's write lock (SQLite's) for it, and a write that fails (a busy or unreachable
database) is logged and dropped, never seen by the request; the next minute's use writes it again. The
thread ends after a minute without work, and starts again at the next write.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import datetime

from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.tenancy import service

log = logging.getLogger(__name__)

EVERY_SECONDS = service.TOUCH_EVERY.total_seconds()
_MAX_REMEMBERED = 10_000  # keys one process remembers (past it, those noted over a minute ago go)
_MAX_QUEUED = 1_000  # writes waiting (past it, a use is dropped: it is noted again a minute later)
_IDLE_SECONDS = 60.0  # the writer thread ends after this long without work


class KeyUsage:
    """Notes key uses; writes `api_key.last_used_at` from a thread of its own, throttled per key."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._noted: dict[int, float] = {}  # key id -> monotonic time of its last queued write
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[int, datetime]] = queue.Queue(maxsize=_MAX_QUEUED)
        self._thread: threading.Thread | None = None

    def used(self, key_id: int | None) -> bool:
        """The key authenticated a request now: True when a write was queued (none was less than a minute
        ago in this process)."""
        if key_id is None:
            return False
        now = time.monotonic()
        with self._lock:
            last = self._noted.get(key_id)
            if last is not None and now - last < EVERY_SECONDS:
                return False
            if len(self._noted) >= _MAX_REMEMBERED:
                self._noted = {k: t for k, t in self._noted.items() if now - t < EVERY_SECONDS}
            self._noted[key_id] = now
            try:
                self._queue.put_nowait((key_id, utcnow()))
            except queue.Full:
                log.warning("key use not recorded: %d writes are waiting already", _MAX_QUEUED)
                return False
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="key-usage", daemon=True)
                self._thread.start()
        return True

    def _next(self) -> tuple[int, datetime] | None:
        """The next write to do; None (and the thread is forgotten) after a while without one."""
        try:
            return self._queue.get(timeout=_IDLE_SECONDS)
        except queue.Empty:
            with self._lock:  # a write is queued under the lock: none can slip in unseen
                if self._queue.empty():
                    self._thread = None
                    return None
            return self._queue.get_nowait()

    def _run(self) -> None:
        while (job := self._next()) is not None:
            key_id, at = job
            try:
                with session_scope(self.database.writer) as db:
                    service.touch(db, key_id=key_id, at=at)
            except Exception:
                log.warning("last use of API key %d not recorded", key_id, exc_info=True)
