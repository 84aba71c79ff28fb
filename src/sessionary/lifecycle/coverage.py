"""How every table that names a session, a customer or a contact loses its rows when a session is deleted.

A table is covered when each such column either has an ON DELETE CASCADE foreign key to `session` (or to a
table covered itself), or the table has an entry in `REGISTRY`: the owner's function that `deletion.py`
calls to delete its rows, or, for a person's records only, why a session deletion keeps them (erasure
deletes them). `tests/lifecycle/test_coverage.py` walks SQLAlchemy's metadata and fails on a table that is
not covered, so a future table cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Column, MetaData, Table

from sessionary.journey.store import deletion as journey
from sessionary.metrics import rollup
from sessionary.otel import store as otel

DELETED = "session"  # the table a deletion deletes from; everything else follows it
# Column names that name a session (by id or by key), a journey customer, a cookie or a contact.
KINDS = {
    "session_id": "session",
    "live_session_id": "session",
    "channel_manager_sid": "session_key",
    "session_uuid": "session_key",
    "customer_id": "customer",
    "cookie_id": "cookie",
    "contact_id": "contact",
    "merged_into_id": "contact",  # journey_contact: the older contact a newer one was merged into
}


@dataclass(frozen=True)
class Covered:
    """How a table's rows of a deleted session go: `by` the owner's function deletion.py calls, or kept
    (`by` None) for the reason `how` gives: only a person's records may be kept, never a session's."""

    how: str
    by: Callable[..., object] | None = None


REGISTRY: dict[str, Covered] = {
    "metrics_session_state": Covered(
        "the snapshot is deleted; the session's share leaves the rollups (kept by a retention purge)",
        rollup.withdraw_sessions,
    ),
    "otel_trace": Covered("the traces naming the session's key are deleted", otel.forget_sessions),
    "journey_short_id": Covered("the journey session's shortId claim is released", journey.forget_windows),
    "journey_event": Covered(
        "the events of the journey session's window are deleted", journey.forget_windows
    ),
    "journey_customer": Covered(
        "its counts lose the session's events; a customer left with no session is deleted",
        journey.drop_empty_customers,
    ),
    "journey_contact": Covered(
        "a contact is a person's record (any of the person's sessions may name it): erasure deletes it;"
        " deleting one of the person's sessions keeps the person"
    ),
    "journey_contact_identifier": Covered(
        "a contact's identifiers (phone, email) are a person's record: erasure deletes them with the"
        " contact; deleting one of the person's sessions keeps the person"
    ),
}


def kind_of(column: Column[object]) -> str | None:
    """What the column names (session, session_key, customer, cookie, contact), or None."""
    if column.table.name == DELETED and column.name == "id":
        return "session"
    if column.name in KINDS:
        return KINDS[column.name]
    return "session" if column.name.endswith("_session_id") else None


def identity_columns(table: Table) -> list[tuple[str, str]]:
    """The table's columns that name a session, customer, cookie or contact, with their kinds."""
    found = [(column.name, kind_of(column)) for column in table.columns]
    return [(name, kind) for name, kind in found if kind is not None]


def uncovered(metadata: MetaData) -> list[str]:
    """`table.column` of every identity column no deletion reaches (empty: all covered)."""
    missing = []
    for table in metadata.sorted_tables:  # a table after those its foreign keys name
        if table.name == DELETED or table.name in REGISTRY:
            continue
        for name, _kind in identity_columns(table):
            if not _cascades(table.c[name]):
                missing.append(f"{table.name}.{name}")
    return missing


def _cascades(column: Column[object]) -> bool:
    """Whether the column's foreign key deletes its row with a deleted session, or with a row a deletion
    deletes (a registry entry's `by`)."""
    for key in column.foreign_keys:
        target = key.column.table.name
        deleted = target == DELETED or (target in REGISTRY and REGISTRY[target].by is not None)
        if (key.ondelete or "").upper() == "CASCADE" and deleted:
            return True
    return False
