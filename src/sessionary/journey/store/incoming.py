"""What enters the journey store: one validated, enriched event with its deployment's session rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple

from sessionary.journey.store.sessionize import StoredEvent


class Incoming(NamedTuple):
    """A validated, enriched event and what its deployment says about sessionizing it (a tuple: the
    import's helper processes send thousands of them at a time)."""

    deployment_id: str
    deployment_name: str
    cookie: str
    event: StoredEvent
    timeout: timedelta
    short_id_length: int
    # The event row's payload (JSON text) and createdDate as the database takes them, when made ahead
    # (event_rows.pack, in the import's helper processes); None: made at insert.
    payload_json: str | None = None
    created_sql: Any = None
