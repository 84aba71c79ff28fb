"""A thread per server process that stores spans waiting past SESSIONARY_OTEL_PENDING_SECONDS for their
trace's session key, keyed by their trace id (service.release_overdue). Several processes may run one:
each trace's row lock and the delete of its waiting spans make a span released once."""

from __future__ import annotations

import logging
import threading

from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.otel.service import release_overdue

log = logging.getLogger(__name__)
BATCH = 500  # waiting spans' traces released per transaction


class PendingSweeper:
    def __init__(self, database: Database, *, after_seconds: float, poll_seconds: float) -> None:
        self._database, self._after, self._poll = database, after_seconds, poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sessionary-otel-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout)

    def sweep(self) -> int:
        """Release the overdue spans, a batch per transaction; how many were released."""
        total = 0
        while not self._stop.is_set():
            with session_scope(self._database.writer) as db:
                released = release_overdue(db, now=utcnow(), after_seconds=self._after, limit=BATCH)
            total += released
            if released == 0:
                return total
        return total

    def _run(self) -> None:
        while not self._stop.wait(self._poll):
            try:
                released = self.sweep()
                if released:
                    log.info(
                        "otel: %d spans waited %gs for their session key; stored under their trace id",
                        released,
                        self._after,
                    )
            except Exception:  # a database that is down: log, wait, try again
                log.exception("otel pending sweep failed")
