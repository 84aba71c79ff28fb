"""The background analysis worker: a thread per server process that polls for due sessions.

Several processes (and hosts, on PostgreSQL) may run one each: claims skip rows another worker holds
(`FOR UPDATE SKIP LOCKED`; on SQLite the writer lock serializes claims), so a session is analyzed once.

While a backlog lasts the worker keeps to a share of the time (`busy_share`): after a batch that took t
seconds it rests t * (1 - share) / share. So under a heavy ingest it never takes more than that share of
its process (the GIL, a core, SQLite's write lock) away from the requests; the backlog waits instead.
"""

from __future__ import annotations

from sessionary.analysis.service import Analyzer, process_due
from sessionary.background import PollingThread
from sessionary.db import Database


class AnalysisWorker(PollingThread):
    def __init__(
        self, database: Database, analyzer: Analyzer, *, poll_seconds: float, busy_share: float = 1.0
    ) -> None:
        super().__init__(name="sessionary-analysis", poll_seconds=poll_seconds)
        self._database, self._analyzer, self._share = database, analyzer, busy_share

    def work(self) -> bool:
        """Analyze every due session (process_due goes on while some are due), then wait a poll."""
        process_due(
            self._database, analyzer=self._analyzer, should_stop=self.stopping, after_batch=self.rest_after
        )
        return False

    def rest_after(self, busy_seconds: float) -> None:
        """After `busy_seconds` of work, wait as long as keeps the worker to its busy share (or a stop)."""
        if self._share < 1:
            self.rest(busy_seconds * (1 - self._share) / self._share)
