"""Keeping the rollups exact: each session's share is added once and moved when the session changes.

`record_rollups(db, organization_id=, session_ids=)` brings the given sessions' shares up to date: a
session seen for the first time adds everything; one whose day and segment are unchanged adds only its
new events and the change of its own part (duration, label, journey figures); one that moved to another
day or segment takes its old share out (from its snapshot and the events it had then) and puts the new
one in. Run it in the transaction that changed the sessions (ingest: after its sessions are written,
while they are still locked), or let `catchup.catch_up` find the changed sessions later (through
session.updated_at and new labels): the two can run side by side, as a session already counted at its
current version is skipped. A deleted session's snapshot stays behind, marked (live_session_id NULL):
`forget_sessions` takes such a share out, and record_rollups leaves the id alone until it has. A session
deleted through `lifecycle.deletion` leaves no snapshot: `withdraw_sessions` takes its share out (or keeps
it, for a retention purge) and drops the snapshot in the deleting transaction, before its events go.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session as DBSession

from sessionary.eventlog.models import Event
from sessionary.fastsql import FastSQL
from sessionary.journey.models import JourneySession
from sessionary.labels.models import SessionLabel
from sessionary.metrics import contributions as contrib
from sessionary.metrics import segments
from sessionary.metrics.contributions import Contribution, JourneyFacts, LabelFacts, Tally
from sessionary.metrics.models import MetricsRollup, MetricsSessionState
from sessionary.sessions.models import Session

CHUNK = 2000
# Changes are summed over chunks of sessions until this many (day, segments, metric, key) sums are held,
# then written: a backfill writes each rollup row a few times instead of once per chunk.
FLUSH_AT = 50_000
_ROLLUP = cast(Table, MetricsRollup.__table__)
_SESSION_COLUMNS = (
    Session.id,
    Session.timestamp,
    Session.duration,
    Session.session_label_id,
    Session.updated_at,
    *(getattr(Session, name) for name in segments.SEGMENT_COLUMNS),
    JourneySession.session_id.label("journey_id"),
    JourneySession.pageview_count,
    JourneySession.referrer_medium,
    JourneySession.campaign_name,
)

DeltaKey = tuple[date, int, str, str]  # (day, segment_id, metric, key)
# (day, a session's segment ids, metric, key): sessions of one day and segment family are summed first,
# then spread to each of their segments (a tenth of the additions).
FamilyKey = tuple[date, tuple[int, ...], str, str]


def record_rollups(db: DBSession, *, organization_id: int, session_ids: Iterable[int]) -> int:
    """Update the rollups for these sessions of the organization; returns how many needed it."""
    ids = sorted(set(session_ids))
    done = 0
    delta: dict[FamilyKey, Tally] = defaultdict(Tally)
    for start in range(0, len(ids), CHUNK):
        done += _record_chunk(db, organization_id, ids[start : start + CHUNK], delta)
        if len(delta) > FLUSH_AT:
            _apply(db, organization_id, delta)
            delta.clear()
    _apply(db, organization_id, delta)
    return done


@dataclass
class _Row:
    id: int
    day: date
    segment: tuple[Any, ...]
    duration: float | None
    label_id: int | None
    updated_at: datetime
    journey: JourneyFacts | None


def _record_chunk(db: DBSession, organization_id: int, ids: list[int], delta: dict[FamilyKey, Tally]) -> int:
    """Add the changed sessions' change of share to `delta` and save their snapshots."""
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
    old_values = segments.segment_values(db, {s.segment_id for s in states.values()})
    families = segments.segment_families(
        db, organization_id, {r.segment for r in todo} | set(old_values.values())
    )
    labels = _labels(db, {i for r in todo for i in (r.label_id, _old_label(states.get(r.id))) if i})
    events = _events(db, [r.id for r in todo])
    for row in todo:
        state = states.get(row.id)
        old = old_values[state.segment_id] if state is not None else (None,)
        old_ids = families[old] if state is not None else ()
        _session_delta(
            row, state, families[row.segment], old_ids, old[0], labels, events.get(row.id, []), delta
        )
    _save_states(db, organization_id, todo, {values: ids[0] for values, ids in families.items()}, events)
    return len(todo)


def _session_rows(db: DBSession, organization_id: int, ids: list[int]) -> list[_Row]:
    stmt = (
        select(*_SESSION_COLUMNS)
        .outerjoin(JourneySession, JourneySession.session_id == Session.id)
        .where(Session.organization_id == organization_id, Session.id.in_(ids))
    )
    return [
        _Row(
            id=r.id,
            day=r.timestamp.date(),
            segment=tuple(getattr(r, name) for name in segments.SEGMENT_COLUMNS),
            duration=r.duration,
            label_id=r.session_label_id,
            updated_at=r.updated_at,
            journey=None
            if r.journey_id is None
            else JourneyFacts(r.pageview_count, r.referrer_medium, r.campaign_name),
        )
        for r in db.execute(stmt)
    ]


def _changed(row: _Row, state: MetricsSessionState | None) -> bool:
    """Whether the session's share needs updating; never while the id's snapshot is a deleted session's."""
    if state is None:
        return True
    if state.live_session_id is None:
        return False
    return (
        state.session_updated_at != row.updated_at
        or state.label_id != row.label_id
        or journey_of(state) != row.journey
    )


def journey_of(state: MetricsSessionState) -> JourneyFacts | None:
    """The journey figures a snapshot counted (None: not a journey session)."""
    if state.pageview_count is None:
        return None
    return JourneyFacts(state.pageview_count, state.referrer_medium, state.campaign_name)


def _old_label(state: MetricsSessionState | None) -> int | None:
    return state.label_id if state is not None else None


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
    delta: dict[FamilyKey, Tally],
) -> None:
    """The session's change of share; ids are its segments (full segment first)."""
    new_part = contrib.session_part(row.segment[0], row.duration, labels.get(row.label_id or 0), row.journey)
    every_event = contrib.events_part((k, d) for _, k, d in events)
    if state is None:
        _into(delta, row.day, new_ids, new_part, +1)
        _into(delta, row.day, new_ids, every_event, +1)
        return
    old_part = contrib.session_part(
        old_channel, state.duration, labels.get(state.label_id or 0), journey_of(state)
    )
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
    delta: dict[FamilyKey, Tally], day: date, ids: tuple[int, ...], part: Contribution, sign: int
) -> None:
    """Add `part` (times sign) to the day's rows of these segments (see _spread)."""
    for (metric, key), tally in part.items():
        delta[(day, ids, metric, key)].add(tally, sign)


def _spread(delta: dict[FamilyKey, Tally]) -> dict[DeltaKey, Tally]:
    """Per rollup row, its change: each family's sums go to each of its segments and to segment ALL."""
    out: dict[DeltaKey, Tally] = defaultdict(Tally)
    for (day, ids, metric, key), tally in delta.items():
        for segment_id in (*ids, segments.ALL):
            out[(day, segment_id, metric, key)].add(tally)
    return out


_ROLLUP_INTO = (
    "INSERT INTO metrics_rollup (organization_id, segment_id, day, metric, key, count, errors, total)"
)
_ROLLUP_TYPES = ("bigint", "bigint", "date", "text", "text", "bigint", "bigint", "double precision")
_ROLLUP_ADD = (
    "ON CONFLICT (organization_id, segment_id, day, metric, key) DO UPDATE SET "
    "count = metrics_rollup.count + excluded.count, errors = metrics_rollup.errors + excluded.errors, "
    "total = metrics_rollup.total + excluded.total"
)
# metrics_session_state's columns with their PostgreSQL types.
_STATE_COLUMNS = (
    ("session_id", "bigint"),
    ("live_session_id", "bigint"),
    ("organization_id", "bigint"),
    ("day", "date"),
    ("segment_id", "bigint"),
    ("duration", "double precision"),
    ("label_id", "bigint"),
    ("max_event_id", "bigint"),
    ("session_updated_at", "timestamptz"),
    ("pageview_count", "integer"),
    ("referrer_medium", "text"),
    ("campaign_name", "text"),
)
_STATE_INTO = f"INSERT INTO metrics_session_state ({', '.join(name for name, _ in _STATE_COLUMNS)})"
_STATE_REPLACE = "ON CONFLICT (session_id) DO UPDATE SET " + ", ".join(
    f"{name} = excluded.{name}" for name, _ in _STATE_COLUMNS[1:]
)


def _apply(db: DBSession, organization_id: int, families: dict[FamilyKey, Tally]) -> None:
    """Add the deltas to the rollup rows (upsert), then drop the rows that fell to zero.

    Like the event insert (eventlog/store.py), the upserts hand prepared tuples to the driver (fastsql
    `insert_many`: PostgreSQL one statement per flush): SQLAlchemy's per-row parameter processing cost more
    than the database's own work."""
    delta = _spread(families)
    raw = FastSQL(db)
    rows = [
        (
            organization_id,
            segment,
            raw.day(day),
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
    raw.insert_many(_ROLLUP_INTO, _ROLLUP_TYPES, rows, _ROLLUP_ADD)
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
    full_ids: dict[tuple[Any, ...], int],
    events: dict[int, list[tuple[int, str, dict[str, Any]]]],
) -> None:
    raw = FastSQL(db)
    values = [
        (
            r.id,
            r.id,
            organization_id,
            raw.day(r.day),
            full_ids[r.segment],
            r.duration,
            r.label_id,
            max((i for i, _, _ in events.get(r.id, [])), default=0),
            raw.when(r.updated_at),
            *(
                (r.journey.pageviews, r.journey.medium, r.journey.campaign)
                if r.journey is not None
                else (None, None, None)
            ),
        )
        for r in rows
    ]
    raw.insert_many(_STATE_INTO, [kind for _, kind in _STATE_COLUMNS], values, _STATE_REPLACE)


def forget_sessions(db: DBSession, *, organization_id: int, states: Sequence[MetricsSessionState]) -> int:
    """Take deleted sessions' shares out by their snapshots alone, and drop the snapshots.

    Only for snapshots without a label or events (label_id None, max_event_id 0): a deleted session's
    label and events went with it (see catchup.py for the others). Returns how many."""
    assert all(s.label_id is None and s.max_event_id == 0 for s in states)
    values = segments.segment_values(db, {s.segment_id for s in states})
    families = segments.segment_families(db, organization_id, set(values.values()))
    delta: dict[FamilyKey, Tally] = defaultdict(Tally)
    for state in states:
        segment = values[state.segment_id]
        part = contrib.session_part(segment[0], state.duration, None, journey_of(state))
        _into(delta, state.day, families[segment], part, -1)
    _apply(db, organization_id, delta)
    ids = [s.session_id for s in states]
    for start in range(0, len(ids), CHUNK):
        db.execute(
            delete(MetricsSessionState).where(
                MetricsSessionState.session_id.in_(ids[start : start + CHUNK]),
                MetricsSessionState.live_session_id.is_(None),
            )
        )
    return len(states)


def withdraw_sessions(
    db: DBSession, *, organization_id: int, session_ids: Sequence[int], keep_figures: bool = False
) -> int:
    """Before these (locked) sessions are deleted: take each one's share out of the rollups, exactly what
    its snapshot says it added (its part, and its events up to the snapshot's), and drop the snapshots.
    `keep_figures`: the share stays (past figures kept), only the snapshots go. Returns how many had one."""
    ids = sorted(set(session_ids))
    done = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        where = (
            MetricsSessionState.organization_id == organization_id,
            MetricsSessionState.session_id.in_(chunk),
        )
        if not keep_figures:
            states = list(db.scalars(select(MetricsSessionState).where(*where)))
            _apply(db, organization_id, _withdrawn(db, organization_id, states))
        gone = db.execute(delete(MetricsSessionState).where(*where).returning(MetricsSessionState.session_id))
        done += len(gone.all())
    return done


def _withdrawn(
    db: DBSession, organization_id: int, states: Sequence[MetricsSessionState]
) -> dict[FamilyKey, Tally]:
    """The change that takes these snapshots' shares out of the rollups."""
    delta: dict[FamilyKey, Tally] = defaultdict(Tally)
    if not states:
        return delta
    values = segments.segment_values(db, {s.segment_id for s in states})
    families = segments.segment_families(db, organization_id, set(values.values()))
    labels = _labels(db, {s.label_id for s in states if s.label_id})
    events = _events(db, [s.session_id for s in states])
    for state in states:
        segment = values[state.segment_id]
        label = labels.get(state.label_id or 0)
        part = contrib.session_part(segment[0], state.duration, label, journey_of(state))
        counted = ((k, d) for i, k, d in events.get(state.session_id, []) if i <= state.max_event_id)
        _into(delta, state.day, families[segment], part, -1)
        _into(delta, state.day, families[segment], contrib.events_part(counted), -1)
    return delta
