"""What every part of a purge pass shares: the database, the blob store, the batch size, and how to rest
between batches and notice a stop (the worker's thread gives both)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sessionary.db import Database
from sessionary.recordings import blobgc
from sessionary.recordings.blobs import BlobStore

LEASE = timedelta(minutes=5)  # renewed by every batch: passes only when a worker died or hangs


def _never() -> bool:
    return False


def _no_rest(seconds: float) -> None:
    return None


@dataclass
class Report:
    """What one pass did (counts), for the log, the tests and bench/purge.py."""

    organizations: list[int] = field(default_factory=list)
    sessions: int = 0
    content_sessions: int = 0
    events_redacted: int = 0
    recordings: int = 0
    blobs: int = 0
    traces: int = 0
    pending_spans: int = 0
    audit_entries: int = 0
    orphans: int = 0
    partial: int = 0

    def __bool__(self) -> bool:
        return any(value for name, value in vars(self).items() if name != "organizations")


@dataclass
class Runner:
    """The pass's database and store, its batch size and pace, and its thread's stop and rest."""

    database: Database
    store: BlobStore
    batch: int = 500
    pause_seconds: float = 0.0
    busy_share: float = 1.0
    stopping: Callable[[], bool] = _never
    rest: Callable[[float], None] = _no_rest

    def between_batches(self, began: float) -> bool:
        """After a batch begun at `began` (time.monotonic()), rest so that batches take at most `busy_share`
        of the time, and at least `pause_seconds` (the writer is free for ingest meanwhile); False once
        asked to stop."""
        took = time.monotonic() - began
        wait = max(self.pause_seconds, took * (1 - self.busy_share) / self.busy_share)
        if wait > 0:
            self.rest(wait)
        return not self.stopping()

    def drain(self, keys: Sequence[str], report: Report) -> None:
        """Delete blobs queued by a transaction that has committed (failures stay queued, retried later)."""
        if keys:
            report.blobs += blobgc.drain(self.database, self.store, keys)
