"""The journey event insert, straight to the driver's executemany (journey.rawsql; as ingest/event_rows.py
does for native events): SQLAlchemy's per-row parameter processing cost more than the insert itself.

The payload's JSON text and the createdDate's column form can be made ahead (`pack`): the import's helper
processes do so, and the process that writes only adds the customer's totals to the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from sessionary.db_types import sqlite_text
from sessionary.journey.rawsql import Raw

if TYPE_CHECKING:
    from sessionary.journey.store import Incoming

_COLUMNS = (
    "id, organization_id, deployment_id, customer_id, kind, event_name, created_date, received_at, payload"
)
_SQL = f"INSERT INTO journey_event ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?j)"


def pack(incoming: Incoming, sqlite: bool) -> Incoming:
    """`incoming` with its payload as JSON text and its createdDate as the column takes it (SQLite: text)."""
    event = incoming.event
    created = sqlite_text(event.created) if sqlite else event.created
    return incoming._replace(payload_json=orjson.dumps(event.payload).decode(), created_sql=created)


def with_totals(payload_json: str | None, events: int, pageviews: int) -> str:
    """The payload's JSON object with totalEventCount and totalPageviewCount added as its last keys."""
    assert payload_json is not None
    assert payload_json.endswith("}")
    totals = f'"totalEventCount":{events},"totalPageviewCount":{pageviews}}}'
    return payload_json[:-1] + ("," if payload_json != "{}" else "") + totals


def insert(raw: Raw, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert journey events given as (id, organization, deployment, customer, kind, name, created,
    received, payload) tuples in the driver's form (timestamps by `Raw.when`, the payload as JSON text)."""
    raw.executemany(_SQL, rows)
