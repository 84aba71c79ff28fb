"""Content retention's part of the notable events: their descriptions and text attributes removed.

A description quotes a tool's error or names a transfer's destination; attributes hold a custom event's
own data. Once a session is past its organization's content retention period (lifecycle/purge.py), its
notable events keep what happened (source, category, type, time, user id) and their numbers and booleans
(a duration, a flag), as the event log's redaction keeps them (eventlog/redaction.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session as DBSession

from sessionary.eventlog.redaction import facts_only
from sessionary.fastsql import FastSQL

_CHUNK = 400


def redact_sessions(db: DBSession, *, organization_id: int, session_ids: Sequence[int]) -> int:
    """Remove the content of these sessions' notable events (idempotent); how many rows changed."""
    raw = FastSQL(db)
    changed: list[tuple[str | None, int]] = []
    for start in range(0, len(session_ids), _CHUNK):
        chunk = list(session_ids[start : start + _CHUNK])
        rows = raw.execute(
            "SELECT id, description, attributes FROM notable_event WHERE organization_id = ?"
            f" AND session_id IN ({raw.marks(len(chunk))})",
            [organization_id, *chunk],
        )
        for row_id, description, stored in rows:
            attributes = raw.read_json(stored) if stored is not None else None
            kept = facts_only(attributes)
            if description is not None or kept != attributes:
                changed.append((None if kept is None else raw.json(kept), row_id))
    raw.executemany("UPDATE notable_event SET description = NULL, attributes = ?j WHERE id = ?", changed)
    return len(changed)
