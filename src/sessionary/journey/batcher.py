"""Group commit for the single-event ingest endpoints.

Browsers send one event per request, so a transaction per request would cap a server at the rate it can
commit. Concurrent requests of a process instead queue their prepared event here; the first to find no
writer at work becomes the writer, stores everything queued (up to `max_batch` per transaction) and wakes
each request with its result, then takes what queued up meanwhile. Every request still answers only after
the transaction holding its event has committed, so an acknowledged event is durable.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field

from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.journey import ingest
from sessionary.journey.sessionize import SessionState
from sessionary.journey.store import Incoming


@dataclass
class _Item:
    organization_id: int
    incoming: Incoming
    done: threading.Event = field(default_factory=threading.Event)
    session: SessionState | None = None
    error: BaseException | None = None


class GroupCommit:
    def __init__(self, database: Database, *, phone_region: str, max_batch: int = 64) -> None:
        self.database, self.phone_region, self.max_batch = database, phone_region, max_batch
        self._lock = threading.Lock()
        self._queue: list[_Item] = []
        self._writing = False

    def submit(self, organization_id: int, incoming: Incoming) -> SessionState:
        """Store one event (with whatever else is queued); returns its session after the commit."""
        item = _Item(organization_id, incoming)
        with self._lock:
            self._queue.append(item)
            lead, self._writing = not self._writing, True
        if lead:
            self._drain()
        item.done.wait()
        if item.error is not None:
            raise item.error
        assert item.session is not None
        return item.session

    def _drain(self) -> None:
        while True:
            with self._lock:
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                if not batch:
                    self._writing = False
                    return
            try:
                self._store_each(batch)
            except BaseException as exc:  # the writer itself is going away: fail what it holds, hand over
                for item in batch:
                    item.error = item.error or exc
                with self._lock:
                    self._writing = False
                raise
            finally:
                for item in batch:
                    item.done.set()

    def _store_each(self, batch: list[_Item]) -> None:
        try:
            self._store(batch)
        except Exception:  # one bad event must not fail the others: retry them one by one
            for item in batch:
                try:
                    self._store([item])
                except Exception as exc:
                    item.error = exc

    def _store(self, batch: list[_Item]) -> None:
        by_org: dict[int, list[_Item]] = defaultdict(list)
        for item in batch:
            by_org[item.organization_id].append(item)
        now = utcnow()
        with session_scope(self.database.writer) as db:
            results = {
                org: ingest.record(
                    db,
                    organization_id=org,
                    incoming=[i.incoming for i in items],
                    now=now,
                    phone_region=self.phone_region,
                )
                for org, items in sorted(by_org.items())
            }
        for org, items in by_org.items():
            for item in items:
                item.session = results[org].sessions[item.incoming.event.id]
