"""The journey event insert, straight to the driver (as eventlog/store.py does for native events):
SQLAlchemy's per-row parameter processing cost more than the insert itself. `fastsql.insert_rows` takes a
batch of an import by PostgreSQL's COPY and a few events (the single-event endpoints' batches) by one
INSERT ... SELECT FROM unnest().

The payload's JSON text and the createdDate's column form can be made ahead (`pack`): the import's helper
processes do so, and the process that writes only adds the customer's totals to the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import orjson
from sqlalchemy import Table

from sessionary.fastsql import FastSQL, column_when
from sessionary.journey.models import JourneyEvent
from sessionary.journey.store.incoming import Incoming

_COLUMNS = (
    "id",
    "organization_id",
    "deployment_id",
    "customer_id",
    "kind",
    "event_name",
    "created_date",
    "received_at",
    "payload",
)
_TARGETS = [cast(Table, JourneyEvent.__table__).c[name] for name in _COLUMNS]


def rendered(incoming: Incoming, sqlite: bool) -> tuple[str, Any]:
    """The event's payload as JSON text and its createdDate as the column takes it: as `pack` made them,
    or made now."""
    if incoming.payload_json is not None:
        return incoming.payload_json, incoming.created_sql
    event = incoming.event
    return orjson.dumps(event.payload).decode(), column_when(event.created, sqlite=sqlite)


def pack(incoming: Incoming, sqlite: bool) -> Incoming:
    """`incoming` carrying its `rendered` values (what the import's helper processes send)."""
    payload_json, created_sql = rendered(incoming, sqlite)
    return incoming._replace(payload_json=payload_json, created_sql=created_sql)


def with_totals(payload_json: str, events: int, pageviews: int) -> str:
    """The payload's JSON object with totalEventCount and totalPageviewCount added as its last keys."""
    assert payload_json.endswith("}")
    totals = f'"totalEventCount":{events},"totalPageviewCount":{pageviews}}}'
    return payload_json[:-1] + ("," if payload_json != "{}" else "") + totals


def insert(raw: FastSQL, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert journey events given as (id, organization, deployment, customer, kind, name, created,
    received, payload) tuples in the driver's form (timestamps by `FastSQL.when`, the payload as JSON)."""
    raw.insert_rows("INSERT INTO journey_event", _TARGETS, rows)
