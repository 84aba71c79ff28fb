"""Native events as the server reads them (`POST /api/v1/ingest/events`), built and encoded in the caller.

An event's id is made once, when the event is built (a uuid4 unless the caller gives one), and its encoded
bytes are what every attempt sends: a retried batch carries the same ids, so the server counts a re-sent
event as a duplicate instead of storing it twice.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Encoded:
    """One event ready to send: its id, its JSON bytes, and when it was queued (`time.monotonic()`)."""

    event_id: str
    body: bytes
    queued_at: float


def utc_iso(when: datetime | None) -> str:
    """`when` (default: now) as ISO 8601 in UTC with its offset; a naive datetime is refused (ambiguous)."""
    if when is None:
        return datetime.now(UTC).isoformat()
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"timestamp {when!r} is naive: give a timezone-aware datetime (e.g. tzinfo=UTC)")
    return when.astimezone(UTC).isoformat()


def build(
    type_: str,
    *,
    service: str,
    sid: str,
    data: dict[str, Any],
    timestamp: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A native event of `type_`; keys of `data` whose value is None are left out."""
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "type": type_,
        "timestamp": utc_iso(timestamp),
        "channel_manager_service": service,
        "channel_manager_sid": sid,
        "data": {key: value for key, value in data.items() if value is not None},
    }


def encode(event: dict[str, Any]) -> Encoded:
    """The event as compact JSON; a value JSON cannot hold (NaN, a datetime, a set) raises in the caller."""
    body = json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    return Encoded(event_id=str(event["event_id"]), body=body, queued_at=time.monotonic())


def batch_body(batch: list[Encoded]) -> bytes:
    """The request body of a batch: `{"events": [...]}` from the events' own bytes."""
    return b'{"events":[' + b",".join(item.body for item in batch) + b"]}"
