"""The client's counters: what it accepted, what the server stored, and every event it dropped, by reason."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ClientStats:
    """A snapshot of the counters (events unless named otherwise), read with `SessionaryClient.stats`."""

    accepted: int = 0
    """events put on the queue"""
    queued: int = 0
    """events waiting on the queue now (not counting a batch being sent)"""
    inserted: int = 0
    """events the server stored"""
    duplicates: int = 0
    """events the server already had (a retry of a batch whose answer was lost, or an id sent twice)"""
    batches: int = 0
    """requests the server answered with 200"""
    retries: int = 0
    """attempts made again after a connection error, 408, 429 or 5xx"""
    dropped_overflow: int = 0
    """events refused because the queue was full (the overflow policy: drop the newest)"""
    dropped_rejected: int = 0
    """events the server refused for good (400, 401, 403, 404, 413, 422: logged as an error)"""
    dropped_failed: int = 0
    """events given up on after the last retry (logged as an error)"""
    dropped_unsent: int = 0
    """events still unsent when close() ran out of time"""


class Counters:
    """The mutable counters behind `ClientStats`, shared by the callers and the sender thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = ClientStats()

    def add(self, **amounts: int) -> None:
        """Add to the named counters."""
        with self._lock:
            current = self._values
            self._values = replace(current, **{k: getattr(current, k) + v for k, v in amounts.items()})

    def snapshot(self, *, queued: int) -> ClientStats:
        """The counters now, with the queue's current length."""
        with self._lock:
            return replace(self._values, queued=queued)
