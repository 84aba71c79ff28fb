"""Exact session counts that cost the same whatever the organization's size.

`session_count` (kept by triggers, migration 0016) holds the sessions per organization, UTC day of
`timestamp` and value of each name column. A count over a time range and name filters is the SUM of its
rows over the whole days inside the range, plus a COUNT(*) of the sessions of the partial days at its
edges (at most two days' sessions, through the (organization_id, <name>, timestamp) indexes), in one
statement: one snapshot, so the parts never disagree. PostgreSQL's triggers append delta rows; `fold`
(run by CountFolder in every server) sums them into one row per key, which is exact whatever runs at the
same time: each fold deletes rows and inserts their sum in one transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, tuple_
from sqlalchemy.orm import Session as DBSession

from sessionary.background import PollingThread
from sessionary.db import Database, session_scope
from sessionary.sessions.models import COUNTED_NAMES, Session, SessionCount

FOLD_DAYS = 500  # (organization, day) pairs folded per transaction
FOLD_POLL_SECONDS = 10.0


def count(
    db: DBSession,
    *,
    organization_id: int,
    names: Mapping[str, Sequence[str]],
    start: datetime | None,
    end: datetime | None,
) -> int:
    """How many of the organization's sessions have `start <= timestamp < end` (None: unbounded) and, for
    each of `names`, a value among the given ones (names among COUNTED_NAMES)."""
    if any(not values for values in names.values()):
        return 0
    start = start.astimezone(UTC) if start is not None else None  # days are UTC days
    end = end.astimezone(UTC) if end is not None else None
    days = _whole_days(start, end)
    if days is None:  # no whole day inside: the rows themselves (at most two days' worth)
        return db.scalar(_rows(organization_id, names, start, end)) or 0
    first, last = days
    parts = [_summed(organization_id, names, first, last)]
    if start is not None and first is not None and start < _midnight(first):
        parts.append(_rows(organization_id, names, start, _midnight(first)))
    if end is not None and last is not None and _midnight(last) < end:
        parts.append(_rows(organization_id, names, _midnight(last), end))
    total = parts[0].scalar_subquery()
    for part in parts[1:]:
        total = total + part.scalar_subquery()
    return db.scalar(select(total)) or 0


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _whole_days(start: datetime | None, end: datetime | None) -> tuple[date | None, date | None] | None:
    """[first, last) the UTC days wholly inside [start, end) (None: unbounded), or None when there is none."""
    first = last = None
    if start is not None:
        first = start.date()
        if start != _midnight(first):
            if first == date.max:
                return None
            first += timedelta(days=1)
    if end is not None:
        last = end.date()
    if first is not None and last is not None and first >= last:
        return None
    return first, last


def _name_conditions(model: Any, names: Mapping[str, Sequence[str]]) -> list[ColumnElement[bool]]:
    unknown = set(names) - set(COUNTED_NAMES)
    if unknown:
        raise ValueError(f"session_count has no column {sorted(unknown)}")
    return [getattr(model, name).in_(list(values)) for name, values in names.items()]


def _summed(
    organization_id: int, names: Mapping[str, Sequence[str]], first: date | None, last: date | None
) -> Any:
    where = [SessionCount.organization_id == organization_id, *_name_conditions(SessionCount, names)]
    return select(func.coalesce(func.sum(SessionCount.n), 0)).where(
        *where, *_within(SessionCount.day, first, last)
    )


def _rows(
    organization_id: int, names: Mapping[str, Sequence[str]], start: datetime | None, end: datetime | None
) -> Any:
    where = [Session.organization_id == organization_id, *_name_conditions(Session, names)]
    return select(func.count()).select_from(Session).where(*where, *_within(Session.timestamp, start, end))


def _within(column: Any, low: Any, high: Any) -> list[ColumnElement[bool]]:
    """`low <= column < high`, each bound only when given."""
    where = [column >= low] if low is not None else []
    return where + ([column < high] if high is not None else [])


# --- folding PostgreSQL's delta rows ---------------------------------------------------------------------

_KEY = ("organization_id", "day", *COUNTED_NAMES)


def unfolded_days(
    db: DBSession, *, limit: int = FOLD_DAYS, organization_id: int | None = None
) -> list[tuple[int, date]]:
    """Up to `limit` (organization, day) pairs that have delta rows (never any on SQLite: one row per key),
    of every organization or of one."""
    stmt = select(SessionCount.organization_id, SessionCount.day).where(SessionCount.folded.is_(False))
    if organization_id is not None:
        stmt = stmt.where(SessionCount.organization_id == organization_id)
    stmt = stmt.distinct().limit(limit)
    return [(row[0], row[1]) for row in db.execute(stmt)]


def fold(db: DBSession, days: Sequence[tuple[int, date]]) -> None:
    """Replace the rows of these (organization, day) pairs by one folded row per key holding their sum
    (none when it is 0). The rows summed are exactly the rows this DELETE took (RETURNING), in one
    transaction: a concurrent writer's new delta, or another fold of the same pairs, changes no total."""
    if not days:
        return
    table = SessionCount.__table__
    gone = db.execute(
        delete(SessionCount)
        .where(tuple_(SessionCount.organization_id, SessionCount.day).in_(list(days)))
        .returning(*(table.c[name] for name in _KEY), table.c.n)
    )
    sums: Counter[tuple[Any, ...]] = Counter()
    for row in gone:
        sums[tuple(row[:-1])] += row[-1]
    rows = [{**dict(zip(_KEY, key, strict=True)), "n": n, "folded": True} for key, n in sums.items() if n]
    if rows:
        db.execute(insert(SessionCount), rows)


class CountFolder(PollingThread):
    """Folds delta rows while there are any, then looks again every FOLD_POLL_SECONDS. Several servers may
    each run one: every fold is exact on its own."""

    def __init__(self, database: Database, *, poll_seconds: float = FOLD_POLL_SECONDS) -> None:
        super().__init__(name="session-count-folder", poll_seconds=poll_seconds)
        self.database = database

    def work(self) -> bool:
        with session_scope(self.database.reader) as db:
            if not unfolded_days(db, limit=1):
                return False
        with session_scope(self.database.writer) as db:
            fold(db, unfolded_days(db))
        return True
