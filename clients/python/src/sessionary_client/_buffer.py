"""The bounded queue between the callers and the sender thread, and the counts that flush() waits on.

A caller only takes a lock held for microseconds (never during I/O) and appends; when the queue is full the
newest event is refused (the overflow policy: drop the newest and count it), so a caller never waits for the
network. The sender thread takes a batch when it is due: `batch_size` events are queued, the oldest has
waited `interval` seconds, a flush() is waiting, or the client is closing.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from sessionary_client._events import Encoded


class Buffer:
    def __init__(self, *, max_events: int, batch_size: int, max_batch_bytes: int, interval: float) -> None:
        self._max_events = max_events
        self._batch_size = batch_size
        self._max_batch_bytes = max_batch_bytes
        self._interval = interval
        self._cond = threading.Condition()
        self._items: deque[Encoded] = deque()
        self._accepted = 0  # events ever queued
        self._settled = 0  # of those, events sent or dropped
        self._flush_to = 0  # a flush() waits until this many are settled
        self._closing = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Encoded) -> bool:
        """Queue the event; False (and nothing queued) when the queue is full or closed."""
        with self._cond:
            if self._closing or len(self._items) >= self._max_events:
                return False
            self._items.append(item)
            self._accepted += 1
            if len(self._items) == 1 or len(self._items) >= self._batch_size:
                self._cond.notify_all()
            return True

    def next_batch(self) -> list[Encoded] | None:
        """Wait until a batch is due and take it; None once the client is closing and the queue is empty."""
        with self._cond:
            while (wait := self._due_in()) is not None and wait > 0:
                self._cond.wait(None if math.isinf(wait) else wait)
            return None if wait is None else self._take()

    def settle(self, count: int) -> None:
        """Count `count` taken events as sent or dropped (wakes flush())."""
        with self._cond:
            self._settled += count
            self._cond.notify_all()

    def flush(self, timeout: float | None) -> bool:
        """Wait until every event queued before this call is settled; False if `timeout` passed first."""
        with self._cond:
            target = self._accepted
            self._flush_to = max(self._flush_to, target)
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._settled >= target, timeout)

    def close(self) -> None:
        """Refuse new events; the sender sends what is queued at once, then stops."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()

    def drain(self) -> int:
        """Drop every queued event (when close() ran out of time); how many there were."""
        with self._cond:
            count = len(self._items)
            self._items.clear()
            self._settled += count
            self._cond.notify_all()
            return count

    def _due_in(self) -> float | None:
        """Seconds until a batch is due (0: now, inf: when woken); None when closing with nothing left."""
        if not self._items:
            return None if self._closing else math.inf
        if self._closing or self._flush_to > self._settled or len(self._items) >= self._batch_size:
            return 0.0
        return self._items[0].queued_at + self._interval - time.monotonic()

    def _take(self) -> list[Encoded]:
        """Up to `batch_size` events and `max_batch_bytes` of them (always at least one), oldest first."""
        batch = [self._items.popleft()]
        size = len(batch[0].body)
        while self._items and len(batch) < self._batch_size:
            size += len(self._items[0].body) + 1
            if size > self._max_batch_bytes:
                break
            batch.append(self._items.popleft())
        return batch
