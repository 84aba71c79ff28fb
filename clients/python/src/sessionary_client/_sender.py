"""One batch to the server: the same bytes (the same event ids) on every attempt, retried on what may pass.

Retried: connection errors and timeouts, 408, 429 and 5xx, after the answer's `Retry-After` (seconds or an
HTTP date, at most `MAX_RETRY_AFTER`) or else an exponential backoff with jitter, capped at `max_backoff`.
Refused for good: any other 4xx, logged as an error and counted; on 422 the server names the events it
refused (`loc: ["body", "events", i, ...]`), so those are dropped and the rest of the batch sent again.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from sessionary_client._events import Encoded, batch_body
from sessionary_client._stats import Counters

log = logging.getLogger("sessionary_client")

INGEST_PATH = "/api/v1/ingest/events"
MAX_RETRY_AFTER = 300.0  # a longer Retry-After (a misconfigured proxy's day) is read as this
RETRYABLE_STATUS = frozenset({408, 429})


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 10
    backoff: float = 0.5  # the first retry's delay; doubled each time
    max_backoff: float = 30.0

    def delay(self, retry: int, response: httpx.Response | None) -> float:
        """Seconds before retry number `retry` (0-based): the server's Retry-After, else the backoff."""
        asked = retry_after(response) if response is not None else None
        if asked is not None:
            return asked
        ceiling = min(self.max_backoff, self.backoff * 2**retry)
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # jitter spreads out clients that failed together


def retry_after(response: httpx.Response) -> float | None:
    """The answer's Retry-After in seconds (0 to MAX_RETRY_AFTER), None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _retryable(response: httpx.Response) -> bool:
    return response.status_code in RETRYABLE_STATUS or response.status_code >= 500


def refused_indexes(response: httpx.Response, size: int) -> set[int] | None:
    """The batch indexes a 422 names (`loc` `["body", "events", i, ...]`); None if any error names none."""
    try:
        errors: list[dict[str, Any]] = response.json()["detail"]
        found = {int(error["loc"][2]) for error in errors if list(error["loc"][:2]) == ["body", "events"]}
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    if len(found) != len(errors) or not all(0 <= index < size for index in found):
        return None
    return found


class Sender:
    def __init__(self, http: httpx.Client, *, policy: RetryPolicy, counters: Counters) -> None:
        self._http = http
        self._policy = policy
        self._counters = counters
        self.stopped = threading.Event()  # set when close() ran out of time: stop retrying

    def deliver(self, batch: list[Encoded]) -> None:
        """Send the batch until the server stores it, refuses it, or the retries run out."""
        body = batch_body(batch)
        for retry in range(self._policy.max_retries + 1):
            response = self._post(body)
            if response is not None and not _retryable(response):
                return self._answered(batch, response)
            if retry == self._policy.max_retries or self._wait(retry, response, len(batch)):
                break
        reason = "unsent" if self.stopped.is_set() else "failed"
        if reason == "failed":
            log.error("sessionary: dropped %d events after %d retries", len(batch), self._policy.max_retries)
        self._counters.add(**{f"dropped_{reason}": len(batch)})

    def _post(self, body: bytes) -> httpx.Response | None:
        try:
            return self._http.post(INGEST_PATH, content=body)
        except httpx.TransportError as error:
            log.warning("sessionary: %s: %s", type(error).__name__, error)
            return None

    def _wait(self, retry: int, response: httpx.Response | None, size: int) -> bool:
        """Sleep before the next attempt; True if close() ran out of time meanwhile."""
        delay = self._policy.delay(retry, response)
        status = "no answer" if response is None else f"HTTP {response.status_code}"
        log.warning("sessionary: %s for %d events; retrying in %.3f s", status, size, delay)
        self._counters.add(retries=1)
        return self.stopped.wait(delay)

    def _answered(self, batch: list[Encoded], response: httpx.Response) -> None:
        if response.is_success:
            result = response.json()
            self._counters.add(inserted=result["inserted"], duplicates=result["duplicates"], batches=1)
            return
        refused = refused_indexes(response, len(batch)) if response.status_code == 422 else None
        kept = [item for index, item in enumerate(batch) if refused is not None and index not in refused]
        log.error(
            "sessionary: HTTP %d, %d of %d events dropped: %s",
            response.status_code,
            len(batch) - len(kept),
            len(batch),
            response.text[:2000],
        )
        self._counters.add(dropped_rejected=len(batch) - len(kept))
        if kept:
            self.deliver(kept)
