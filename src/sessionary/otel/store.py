"""The one writer of `otel_trace` and `otel_pending_span` (see models.py for what they hold).

Every request locks the rows of its traces (created if new) in trace-id order before it reads their keys,
so two requests with spans of one trace take turns: a span can never wait for a key that a concurrent
request has just given its trace. (SQLite: the writer holds the whole database already.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session as DBSession

from sessionary.fastsql import FastSQL

Key = tuple[str, str]  # (channel_manager_service, channel_manager_sid)
_CHUNK = 500  # trace ids per IN list

_CREATE = (
    "INSERT INTO otel_trace (organization_id, trace_id, created_at) VALUES (?, ?, ?) "
    "ON CONFLICT (organization_id, trace_id) DO NOTHING"
)
_SET_KEY = (
    "UPDATE otel_trace SET channel_manager_service = ?, channel_manager_sid = ? "
    "WHERE organization_id = ? AND trace_id = ? AND channel_manager_sid IS NULL"
)
_PARK = (
    "INSERT INTO otel_pending_span (id, organization_id, trace_id, service, received_at, events) "
    "VALUES (?, ?, ?, ?, ?, ?j)"
)


def lock_traces(
    db: DBSession, *, organization_id: int, trace_ids: Iterable[str], now: datetime
) -> dict[str, Key | None]:
    """Lock each trace's row (made if new), in trace-id order; each trace's session key (None: not known)."""
    sql = FastSQL(db)
    ordered = sorted(set(trace_ids))
    stamp = sql.when(now)
    sql.executemany(_CREATE, [(organization_id, trace_id, stamp) for trace_id in ordered])
    return _keys(sql, organization_id, ordered, sql.for_update)


def read_keys(db: DBSession, *, organization_id: int, trace_ids: Iterable[str]) -> dict[str, Key | None]:
    """The traces' session keys as stored now, without locking (a plan: `lock_traces` reads them again)."""
    return _keys(FastSQL(db), organization_id, sorted(set(trace_ids)), "")


def _keys(sql: FastSQL, organization_id: int, ordered: list[str], lock: str) -> dict[str, Key | None]:
    keys: dict[str, Key | None] = {}
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        rows = sql.execute(
            "SELECT trace_id, channel_manager_service, channel_manager_sid FROM otel_trace "
            f"WHERE organization_id = ? AND trace_id IN ({sql.marks(len(chunk))}) "
            f"ORDER BY trace_id{lock}",
            (organization_id, *chunk),
        )
        for trace_id, service, sid in rows:
            keys[trace_id] = (service, sid) if sid is not None else None
    return keys


def set_keys(db: DBSession, *, organization_id: int, keys: dict[str, Key]) -> None:
    """Give traces (locked by `lock_traces`, without a key) their session key."""
    rows = [(service, sid, organization_id, trace_id) for trace_id, (service, sid) in sorted(keys.items())]
    FastSQL(db).executemany(_SET_KEY, rows)


def park(
    db: DBSession,
    *,
    organization_id: int,
    spans: Sequence[tuple[str, str, list[dict[str, Any]]]],
    now: datetime,
) -> None:
    """Keep spans' events (trace id, service, events) until their trace's key is known."""
    if not spans:
        return
    sql = FastSQL(db)
    ids = sql.allocate_ids("otel_pending_span", len(spans))
    stamp = sql.when(now)
    rows = [
        (row_id, organization_id, trace_id, service, stamp, sql.json(events))
        for row_id, (trace_id, service, events) in zip(ids, spans, strict=True)
    ]
    sql.executemany(_PARK, rows)


def take_pending(
    db: DBSession, *, organization_id: int, trace_ids: Iterable[str]
) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Remove and return the waiting spans (trace id, service, events) of these (locked) traces."""
    sql = FastSQL(db)
    ordered = sorted(set(trace_ids))
    out: list[tuple[str, str, list[dict[str, Any]]]] = []
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        where = f"organization_id = ? AND trace_id IN ({sql.marks(len(chunk))})"
        rows = sql.execute(
            f"SELECT trace_id, service, events FROM otel_pending_span WHERE {where} ORDER BY id",
            (organization_id, *chunk),
        )
        if rows:
            sql.execute(f"DELETE FROM otel_pending_span WHERE {where}", (organization_id, *chunk))
        out += [(trace_id, service, sql.read_json(events)) for trace_id, service, events in rows]
    return out


def overdue(db: DBSession, *, before: datetime, limit: int) -> list[tuple[int, str]]:
    """(organization, trace id) of spans waiting since before `before`, oldest first, at most `limit`."""
    sql = FastSQL(db)
    rows = sql.execute(
        "SELECT DISTINCT organization_id, trace_id FROM ("
        "SELECT organization_id, trace_id FROM otel_pending_span WHERE received_at < ? "
        "ORDER BY received_at LIMIT ?) AS due",
        (sql.when(before), limit),
    )
    return [(int(org), str(trace_id)) for org, trace_id in rows]


def forget_sessions(db: DBSession, *, organization_id: int, keys: Sequence[Key]) -> int:
    """Delete the traces naming these sessions' keys (ix_otel_trace_session_key finds them), locked first in
    trace-id order as every request locks them; a span of such a trace arriving later is keyed anew, into a
    new session. Returns how many."""
    if not keys:
        return 0
    sql = FastSQL(db)
    found: set[str] = set()
    pairs = sorted(set(keys))
    for condition, params in sql.pairs_in("(channel_manager_service, channel_manager_sid)", pairs):
        where = f"organization_id = ? AND {condition}"
        rows = sql.execute(f"SELECT trace_id FROM otel_trace WHERE {where}", (organization_id, *params))
        found.update(str(row[0]) for row in rows)
    ordered = sorted(found)
    _keys(sql, organization_id, ordered, sql.for_update)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        sql.execute(
            f"DELETE FROM otel_trace WHERE organization_id = ? AND trace_id IN ({sql.marks(len(chunk))})",
            (organization_id, *chunk),
        )
    return len(ordered)
