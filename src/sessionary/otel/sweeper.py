"""A thread per server process that stores spans waiting past SESSIONARY_OTEL_PENDING_SECONDS for their
trace's session key, keyed by their trace id (service.release_overdue). Several processes may run one:
each trace's row lock and the delete of its waiting spans make a span released once."""

from __future__ import annotations

import logging

from sessionary.background import PollingThread
from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.otel.service import release_overdue

log = logging.getLogger(__name__)
BATCH = 500  # waiting spans' traces released per transaction


class PendingSweeper(PollingThread):
    def __init__(self, database: Database, *, after_seconds: float, poll_seconds: float) -> None:
        super().__init__(name="sessionary-otel-sweeper", poll_seconds=poll_seconds)
        self._database, self._after = database, after_seconds

    def sweep(self) -> int:
        """Release the overdue spans, a batch per transaction; how many were released."""
        total = 0
        while not self.stopping():
            with session_scope(self._database.writer) as db:
                released = release_overdue(db, now=utcnow(), after_seconds=self._after, limit=BATCH)
            total += released
            if released == 0:
                return total
        return total

    def work(self) -> bool:
        released = self.sweep()
        if released:
            log.info(
                "otel: %d spans waited %gs for their session key; stored under their trace id",
                released,
                self._after,
            )
        return False
