"""Content retention's part of the event log: the text of stored events removed, their facts kept.

Stored events are otherwise never changed; this is the one exception, made by the purge worker
(lifecycle/purge.py) once a session is older than its organization's content retention period. What counts as
content (README "Deleting data and retention"):

- `transcript`: the turn's `text` (emptied; who spoke and the language stay);
- `tool_call`: `tool_request` and `tool_result` (null); a failed call's `tool_error` becomes `true`, so the
  call still counts as failed (ratings, notable events) without saying why;
- `custom` (among them `provider.report`): `description` (null) and every attribute that is not a number or
  a boolean (a summary, structured data, a transcript URL go; a cost, a duration, a success flag stay).

The other types (session fields, latency, session end) are facts and stay whole. The SQLite search index
follows by its update trigger, PostgreSQL's generated `search_vector` by itself: purged text is not found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session as DBSession

from sessionary.fastsql import FastSQL

CONTENT_TYPES = ("transcript", "tool_call", "custom")
_CHUNK = 400  # session ids per IN (...)


def facts_only(attributes: Any) -> dict[str, Any] | None:
    """The numbers and booleans of a JSON object (None when it is not an object or keeps none)."""
    if not isinstance(attributes, dict):
        return None
    kept = {k: v for k, v in attributes.items() if isinstance(v, bool | int | float)}
    return kept or None


def redacted(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The event's data without its content (the same dict when it holds none)."""
    if kind == "transcript":
        return {**data, "text": ""}
    if kind == "tool_call":
        after = dict(data)
        for key in ("tool_request", "tool_result"):
            if key in data:
                after[key] = None
        if data.get("tool_error") not in (None, False, "", {}, []):
            after["tool_error"] = True
        return after
    if kind == "custom":
        after = dict(data)
        if "description" in data:
            after["description"] = None
        if "attributes" in data:
            after["attributes"] = facts_only(data["attributes"])
        return after
    return data


def redact_sessions(db: DBSession, *, organization_id: int, session_ids: Sequence[int]) -> int:
    """Remove the content of these sessions' events (idempotent); returns how many events changed."""
    raw = FastSQL(db)
    changed: list[tuple[str, int]] = []
    for start in range(0, len(session_ids), _CHUNK):
        chunk = list(session_ids[start : start + _CHUNK])
        rows = raw.execute(
            "SELECT id, type, data FROM event WHERE organization_id = ?"
            f" AND session_id IN ({raw.marks(len(chunk))}) AND type IN ({raw.marks(len(CONTENT_TYPES))})",
            [organization_id, *chunk, *CONTENT_TYPES],
        )
        for event_id, kind, stored in rows:
            data = raw.read_json(stored)
            after = redacted(kind, data)
            if after != data:
                changed.append((raw.json(after), event_id))
    raw.executemany("UPDATE event SET data = ?j WHERE id = ?", changed)
    return len(changed)
