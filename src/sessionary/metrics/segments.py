"""Segments: the combinations of session attributes the rollups are kept per (see models.py).

A session counts in its full segment (every attribute its own), in one segment per attribute (that value
alone, the others NULL) and in segment ALL; a filter on one attribute reads that attribute's segments.
"""

from __future__ import annotations

import json
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session as DBSession

from sessionary.db import insert_for
from sessionary.metrics.models import MetricsSegment

ALL = 0  # the segment id of "every session"
FULL = "full"  # the level of a segment that fixes every dimension
SEGMENT_COLUMNS = (
    "channel_manager_type",
    "session_type",
    "agent_name",
    "prompt_name",
    "is_outbound",
    "is_test",
)


def signature(level: str, values: tuple[Any, ...]) -> str:
    return json.dumps([level, *values], separators=(",", ":"))


def segment_keys(values: tuple[Any, ...]) -> list[tuple[str, tuple[Any, ...]]]:
    """The segments a session with these values counts in: its full segment, then one per dimension
    (that value alone), so a filter on one dimension reads one segment."""
    keys = [(FULL, values)]
    for index, name in enumerate(SEGMENT_COLUMNS):
        keys.append((name, tuple(v if i == index else None for i, v in enumerate(values))))
    return keys


def segment_families(
    db: DBSession, organization_id: int, segments: set[tuple[Any, ...]]
) -> dict[tuple[Any, ...], tuple[int, ...]]:
    """Per full segment (its values), the ids of its segments in segment_keys order, made when new
    (concurrent creators agree through the unique key)."""
    wanted = {signature(level, v): (level, v) for values in segments for level, v in segment_keys(values)}
    if not wanted:
        return {}
    table = cast(Table, MetricsSegment.__table__)
    rows = [
        {"organization_id": organization_id, "signature": sig, "level": level,
         **dict(zip(SEGMENT_COLUMNS, v, strict=True))}
        for sig, (level, v) in wanted.items()
    ]  # fmt: skip
    found: dict[str, int] = {}
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        db.execute(
            insert_for(db, table).on_conflict_do_nothing(index_elements=["organization_id", "signature"]),
            chunk,
        )
        stmt = select(MetricsSegment.signature, MetricsSegment.id).where(
            MetricsSegment.organization_id == organization_id,
            MetricsSegment.signature.in_([row["signature"] for row in chunk]),
        )
        found.update({sig: segment_id for sig, segment_id in db.execute(stmt)})
    return {
        values: tuple(found[signature(level, v)] for level, v in segment_keys(values)) for values in segments
    }


def segment_values(db: DBSession, ids: set[int]) -> dict[int, tuple[Any, ...]]:
    """The values of these full segments."""
    if not ids:
        return {}
    columns = [getattr(MetricsSegment, name) for name in SEGMENT_COLUMNS]
    stmt = select(MetricsSegment.id, *columns).where(MetricsSegment.id.in_(ids))
    return {row[0]: tuple(row[1:]) for row in db.execute(stmt)}
