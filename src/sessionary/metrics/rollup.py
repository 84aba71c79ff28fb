"""Keeping the rollups exact: each session's share is added once and moved when the session changes.

`record_rollups(db, organization_id=, session_ids=)` brings the given sessions' shares up to date: a
session seen for the first time adds everything; one whose day and segment are unchanged adds only its
new events and the change of its own part (duration, label); one that moved to another day or segment
takes its old share out (from its snapshot and the events it had then) and puts the new one in. Run it
in the transaction that changed the sessions (ingest: after its sessions are written, while they are
still locked), or let `catch_up` find the changed sessions later (through session.updated_at and new
labels): the two can run side by side, as a session already counted at its current version is skipped.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session as DBSession

from sessionary.db import insert_for
from sessionary.db_types import sqlite_text, utcnow
from sessionary.ingest.models import Event
from sessionary.labels.models import SessionLabel
from sessionary.metrics import contributions as contrib
from sessionary.metrics.contributions import Contribution, LabelFacts, Tally
from sessionary.metrics.models import MetricsOrgState, MetricsRollup, MetricsSegment, MetricsSessionState
from sessionary.sessions.models import Session

ALL = 0  # the segment id of "every session"
FULL = "full"  # the level of a segment that fixes every dimension
CHUNK = 2000
# Sessions changed this long before the last catch-up are looked at again: a transaction that wrote
# them before it and committed after it is still counted.
CATCH_UP_MARGIN = timedelta(seconds=60)
SEGMENT_COLUMNS = (
    "channel_manager_type",
    "session_type",
    "agent_name",
    "prompt_name",
    "is_outbound",
    "is_test",
)
_ROLLUP = cast(Table, MetricsRollup.__table__)
_SESSION_COLUMNS = (
    Session.id,
    Session.timestamp,
    Session.duration,
    Session.session_label_id,
    Session.updated_at,
    *(getattr(Session, name) for name in SEGMENT_COLUMNS),
)

DeltaKey = tuple[date, int, str, str]  # (day, segment_id, metric, key)


def record_latency_rollups(db: DBSession, *, organization_id: int, session_ids: Sequence[int]) -> int:
    """The ingest hook: bring these sessions' shares of every rollup (latency included) up to date.

    Call it in ingest_events right after conversations.ensure_conversations(...), with the ids of the
    sessions the batch changed. Returns how many sessions it updated.
    """
    return record_rollups(db, organization_id=organization_id, session_ids=session_ids)


def record_rollups(db: DBSession, *, organization_id: int, session_ids: Iterable[int]) -> int:
    """Update the rollups for these sessions of the organization; returns how many needed it."""
    ids = sorted(set(session_ids))
    done = 0
    for start in range(0, len(ids), CHUNK):
        done += _record_chunk(db, organization_id, ids[start : start + CHUNK])
    return done


@dataclass
class _Row:
    id: int
    day: date
    segment: tuple[Any, ...]
    duration: float | None
    label_id: int | None
    updated_at: datetime


def _record_chunk(db: DBSession, organization_id: int, ids: list[int]) -> int:
    rows = _session_rows(db, organization_id, ids)
    states = {
        s.session_id: s
        for s in db.scalars(
            select(MetricsSessionState).where(MetricsSessionState.session_id.in_([r.id for r in rows]))
        )
    }
    todo = [r for r in rows if _changed(r, states.get(r.id))]
    if not todo:
        return 0
    old_values = _segment_values(db, {s.segment_id for s in states.values()})
    families = segment_families(db, organization_id, {r.segment for r in todo} | set(old_values.values()))
    labels = _labels(db, {i for r in todo for i in (r.label_id, _old_label(states.get(r.id))) if i})
    events = _events(db, [r.id for r in todo])
    delta: dict[DeltaKey, Tally] = defaultdict(Tally)
    for row in todo:
        state = states.get(row.id)
        old = old_values[state.segment_id] if state is not None else (None,)
        old_ids = families[old] if state is not None else ()
        _session_delta(
            row, state, families[row.segment], old_ids, old[0], labels, events.get(row.id, []), delta
        )
    _apply(db, organization_id, delta)
    _save_states(db, organization_id, todo, {values: ids[0] for values, ids in families.items()}, events)
    return len(todo)


def _session_rows(db: DBSession, organization_id: int, ids: list[int]) -> list[_Row]:
    stmt = select(*_SESSION_COLUMNS).where(Session.organization_id == organization_id, Session.id.in_(ids))
    return [
        _Row(
            id=r.id,
            day=r.timestamp.date(),
            segment=tuple(getattr(r, name) for name in SEGMENT_COLUMNS),
            duration=r.duration,
            label_id=r.session_label_id,
            updated_at=r.updated_at,
        )
        for r in db.execute(stmt)
    ]


def _changed(row: _Row, state: MetricsSessionState | None) -> bool:
    return state is None or state.session_updated_at != row.updated_at or state.label_id != row.label_id


def _old_label(state: MetricsSessionState | None) -> int | None:
    return state.label_id if state is not None else None


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


def _segment_values(db: DBSession, ids: set[int]) -> dict[int, tuple[Any, ...]]:
    """The values of these full segments."""
    if not ids:
        return {}
    columns = [getattr(MetricsSegment, name) for name in SEGMENT_COLUMNS]
    stmt = select(MetricsSegment.id, *columns).where(MetricsSegment.id.in_(ids))
    return {row[0]: tuple(row[1:]) for row in db.execute(stmt)}


def _labels(db: DBSession, ids: set[int]) -> dict[int, LabelFacts]:
    if not ids:
        return {}
    stmt = select(SessionLabel.id, SessionLabel.code, SessionLabel.issue_categories).where(
        SessionLabel.id.in_(ids)
    )
    return {i: LabelFacts(code, tuple(issues or ())) for i, code, issues in db.execute(stmt)}


def _events(db: DBSession, ids: list[int]) -> dict[int, list[tuple[int, str, dict[str, Any]]]]:
    """The latency and tool_call events of these sessions, as (event id, type, data)."""
    stmt = select(Event.session_id, Event.id, Event.type, Event.data).where(
        Event.session_id.in_(ids), Event.type.in_(contrib.EVENT_TYPES)
    )
    out: dict[int, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
    for session_id, event_id, kind, data in db.execute(stmt):
        out[session_id].append((event_id, kind, data))
    return out


def _session_delta(
    row: _Row,
    state: MetricsSessionState | None,
    new_ids: tuple[int, ...],
    old_ids: tuple[int, ...],
    old_channel: str | None,
    labels: dict[int, LabelFacts],
    events: list[tuple[int, str, dict[str, Any]]],
    delta: dict[DeltaKey, Tally],
) -> None:
    """The session's change of share; ids are its segments (full segment first)."""
    new_part = contrib.session_part(row.segment[0], row.duration, labels.get(row.label_id or 0))
    every_event = contrib.events_part((k, d) for _, k, d in events)
    if state is None:
        _into(delta, row.day, new_ids, new_part, +1)
        _into(delta, row.day, new_ids, every_event, +1)
        return
    old_part = contrib.session_part(old_channel, state.duration, labels.get(state.label_id or 0))
    if (state.day, old_ids) == (row.day, new_ids):
        _into(delta, row.day, new_ids, old_part, -1)
        _into(delta, row.day, new_ids, new_part, +1)
        fresh = ((k, d) for i, k, d in events if i > state.max_event_id)
        _into(delta, row.day, new_ids, contrib.events_part(fresh), +1)
        return
    old_events = ((k, d) for i, k, d in events if i <= state.max_event_id)
    _into(delta, state.day, old_ids, old_part, -1)
    _into(delta, state.day, old_ids, contrib.events_part(old_events), -1)
    _into(delta, row.day, new_ids, new_part, +1)
    _into(delta, row.day, new_ids, every_event, +1)


def _into(
    delta: dict[DeltaKey, Tally], day: date, ids: tuple[int, ...], part: Contribution, sign: int
) -> None:
    """Add `part` (times sign) to the rows of these segments and to the every-session rows."""
    for (metric, key), tally in part.items():
        for segment_id in (*ids, ALL):
            delta[(day, segment_id, metric, key)].add(tally, sign)


_UPSERT_ROLLUP = (
    "INSERT INTO metrics_rollup (organization_id, segment_id, day, metric, key, count, errors, total) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}) "
    "ON CONFLICT (organization_id, segment_id, day, metric, key) DO UPDATE SET "
    "count = metrics_rollup.count + excluded.count, errors = metrics_rollup.errors + excluded.errors, "
    "total = metrics_rollup.total + excluded.total"
)
_UPSERT_STATE = (
    "INSERT INTO metrics_session_state (session_id, organization_id, day, segment_id, duration, label_id, "
    "max_event_id, session_updated_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}) "
    "ON CONFLICT (session_id) DO UPDATE SET day = excluded.day, segment_id = excluded.segment_id, "
    "duration = excluded.duration, label_id = excluded.label_id, max_event_id = excluded.max_event_id, "
    "session_updated_at = excluded.session_updated_at"
)


def _driver_sql(db: DBSession, template: str) -> tuple[str, bool]:
    """The statement with the driver's placeholders, and whether values go in SQLite's text forms.

    Like the event insert (ingest/event_rows.py), these upserts hand prepared tuples to the driver's
    executemany: SQLAlchemy's per-row parameter processing cost more than the database's own work.
    """
    sqlite = db.get_bind().dialect.name == "sqlite"
    return template.format(p="?" if sqlite else "%s"), sqlite


def _apply(db: DBSession, organization_id: int, delta: dict[DeltaKey, Tally]) -> None:
    """Add the deltas to the rollup rows (upsert), then drop the rows that fell to zero."""
    sql, sqlite = _driver_sql(db, _UPSERT_ROLLUP)
    rows = [
        (
            organization_id,
            segment,
            day.isoformat() if sqlite else day,
            metric,
            key,
            t.count,
            t.errors,
            t.total,
        )
        for (day, segment, metric, key), t in sorted(delta.items())
        if t.count or t.errors or t.total
    ]
    if not rows:
        return
    db.connection().exec_driver_sql(sql, rows)
    days = sorted({day for day, _, _, _ in delta})
    db.execute(
        delete(_ROLLUP).where(
            _ROLLUP.c.organization_id == organization_id, _ROLLUP.c.day.in_(days), _ROLLUP.c["count"] <= 0
        )
    )


def _save_states(
    db: DBSession,
    organization_id: int,
    rows: list[_Row],
    segments: dict[tuple[Any, ...], int],
    events: dict[int, list[tuple[int, str, dict[str, Any]]]],
) -> None:
    sql, sqlite = _driver_sql(db, _UPSERT_STATE)
    values = [
        (
            r.id,
            organization_id,
            r.day.isoformat() if sqlite else r.day,
            segments[r.segment],
            r.duration,
            r.label_id,
            max((i for i, _, _ in events.get(r.id, [])), default=0),
            sqlite_text(r.updated_at) if sqlite else r.updated_at,
        )
        for r in rows
    ]
    db.connection().exec_driver_sql(sql, values)


def pending_session_ids(db: DBSession, *, organization_id: int) -> list[int]:
    """Sessions changed (or labelled) since the last catch-up, minus the margin; cheap when none are."""
    since = db.scalar(
        select(MetricsOrgState.rolled_through).where(MetricsOrgState.organization_id == organization_id)
    )
    sessions = select(Session.id).where(Session.organization_id == organization_id)
    labelled = select(SessionLabel.session_id).where(SessionLabel.organization_id == organization_id)
    if since is not None:
        sessions = sessions.where(Session.updated_at >= since - CATCH_UP_MARGIN)
        labelled = labelled.where(SessionLabel.timestamp >= since - CATCH_UP_MARGIN)
    ids = set(db.scalars(sessions)) | set(db.scalars(labelled))
    if not ids:
        return []
    return _not_current(db, organization_id, sorted(ids))


def _not_current(db: DBSession, organization_id: int, ids: list[int]) -> list[int]:
    """Those of `ids` whose snapshot is missing or older than the session."""
    out: list[int] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        stmt = (
            select(Session.id)
            .outerjoin(MetricsSessionState, MetricsSessionState.session_id == Session.id)
            .where(Session.organization_id == organization_id, Session.id.in_(chunk))
            .where(
                MetricsSessionState.session_id.is_(None)
                | (MetricsSessionState.session_updated_at != Session.updated_at)
                | (MetricsSessionState.label_id.is_distinct_from(Session.session_label_id))
            )
        )
        out += list(db.scalars(stmt))
    return out


def catch_up(db: DBSession, *, organization_id: int) -> int:
    """Roll up every session changed since the last catch-up (a write transaction); returns how many."""
    now = utcnow()
    table = cast(Table, MetricsOrgState.__table__)
    db.execute(
        insert_for(db, table).on_conflict_do_nothing(index_elements=["organization_id"]),
        [{"organization_id": organization_id, "rolled_through": datetime(2000, 1, 1, tzinfo=now.tzinfo)}],
    )
    state = db.scalar(
        select(MetricsOrgState).where(MetricsOrgState.organization_id == organization_id).with_for_update()
    )
    assert state is not None
    first = state.rolled_through.year == 2000
    ids = _all_ids(db, organization_id) if first else pending_session_ids(db, organization_id=organization_id)
    done = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        _lock(db, chunk)
        done += record_rollups(db, organization_id=organization_id, session_ids=chunk)
    state.rolled_through = now
    db.flush()
    return done


def _all_ids(db: DBSession, organization_id: int) -> list[int]:
    return list(
        db.scalars(select(Session.id).where(Session.organization_id == organization_id).order_by(Session.id))
    )


def _lock(db: DBSession, ids: list[int]) -> None:
    """Lock the sessions in the order ingest locks them, so the two never deadlock (PostgreSQL)."""
    if db.get_bind().dialect.name != "postgresql":
        return
    stmt = (
        select(Session.id)
        .where(Session.id.in_(ids))
        .order_by(Session.channel_manager_service, Session.channel_manager_sid)
        .with_for_update()
    )
    db.execute(stmt).all()
