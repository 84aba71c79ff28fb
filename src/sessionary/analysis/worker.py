"""The background analysis worker: a thread per server process that polls for due sessions.

Several processes (and hosts, on PostgreSQL) may run one each: claims skip rows another worker holds
(`FOR UPDATE SKIP LOCKED`; on SQLite the writer lock serializes claims), so a session is analyzed once.

While a backlog lasts the worker keeps to a share of the time (`busy_share`): after a batch that took t
seconds it rests t * (1 - share) / share. So under a heavy ingest it never takes more than that share of
its process (the GIL, a core, SQLite's write lock) away from the requests; the backlog waits instead.
"""

from __future__ import annotations

import logging
import threading

from sessionary.analysis.service import Analyzer, process_due
from sessionary.db import Database

log = logging.getLogger(__name__)


class AnalysisWorker:
    def __init__(
        self, database: Database, analyzer: Analyzer, *, poll_seconds: float, busy_share: float = 1.0
    ) -> None:
        self._database, self._analyzer, self._poll = database, analyzer, poll_seconds
        self._share = busy_share
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sessionary-analysis", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the worker to stop after the session it is on, and wait for it."""
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                process_due(
                    self._database,
                    analyzer=self._analyzer,
                    should_stop=self._stop.is_set,
                    after_batch=self.rest,
                )
            except Exception:  # a database that is down: log, wait, try again
                log.exception("analysis pass failed")
            self._stop.wait(self._poll)

    def rest(self, busy_seconds: float) -> None:
        """After `busy_seconds` of work, wait as long as keeps the worker to its busy share (or a stop)."""
        if self._share < 1:
            self._stop.wait(busy_seconds * (1 - self._share) / self._share)
