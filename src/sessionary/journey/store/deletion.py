"""Deleting journey (web/app) sessions: a session is a window over its customer's timeline, so its events
are the window's, deleted with it; its shortId is freed, its customer's counts lose its events, and a
customer left with no session goes too (its `session` rows are deleted by the caller, `lifecycle.deletion`).

Two steps around the deletion of the `session` rows: `lock_customers` first (the journey write path locks a
customer before it writes the customer's sessions, so a deletion takes the same order: customers, then
sessions), `forget_windows` while the `journey_session` rows still exist, `drop_empty_customers` after.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session as DBSession

from sessionary.fastsql import FastSQL
from sessionary.journey.store import shortids

_CHUNK = 400
_OF_SESSIONS = "journey_session WHERE organization_id = ? AND session_id IN"
_WINDOWS = (
    "SELECT session_id, customer_id, type, created_date, first_event_id, last_event_date, last_event_id,"
    f" uuid, event_count, pageview_count FROM {_OF_SESSIONS}"
)
# The window (created_date, first_event_id)..(last_event_date, last_event_id) of one customer's timeline
# of one kind: the timeline index (customer_id, kind, created_date, id) reads exactly it.
_DELETE_WINDOW = (
    "DELETE FROM journey_event WHERE customer_id = ? AND kind = ?"
    " AND (created_date, id) >= (?, ?) AND (created_date, id) <= (?, ?)"
)
_UNCOUNT = (
    "UPDATE journey_customer SET event_count = MAX(event_count - ?, 0),"
    " pageview_count = MAX(pageview_count - ?, 0) WHERE id = ?"
)
_UNCOUNT_PG = _UNCOUNT.replace("MAX(", "GREATEST(")


@dataclass
class Forgotten:
    """What `forget_windows` deleted: the journey events, and the customers whose sessions these were."""

    events: int = 0
    customer_ids: list[int] = field(default_factory=list)


def customers_of(db: DBSession, *, organization_id: int, session_ids: Sequence[int]) -> list[int]:
    """The customers of these journey sessions (a read without locks, to lock them first)."""
    raw = FastSQL(db)
    found: set[int] = set()
    for chunk in _chunks(sorted(set(session_ids))):
        sql = f"SELECT DISTINCT customer_id FROM {_OF_SESSIONS} ({raw.marks(len(chunk))})"
        found.update(int(row[0]) for row in raw.execute(sql, (organization_id, *chunk)))
    return sorted(found)


def lock_customers(db: DBSession, *, customer_ids: Sequence[int]) -> None:
    """Lock these customers in the write path's order (deployment, cookie), before their sessions."""
    raw = FastSQL(db)
    if raw.sqlite or not customer_ids:
        return  # a SQLite writer holds the whole database
    keys = []
    for chunk in _chunks(sorted(set(customer_ids))):
        sql = f"SELECT deployment_id, cookie_id FROM journey_customer WHERE id IN ({raw.marks(len(chunk))})"
        keys += [(row[0], row[1]) for row in raw.execute(sql, chunk)]
    by_deployment: dict[str, list[str]] = defaultdict(list)
    for deployment_id, cookie in sorted(keys):
        by_deployment[deployment_id].append(cookie)
    for deployment_id, cookies in sorted(by_deployment.items()):
        for chunk in _chunks(cookies):
            raw.execute(
                "SELECT id FROM journey_customer WHERE deployment_id = ?"
                f" AND cookie_id IN ({raw.marks(len(chunk))}) ORDER BY cookie_id FOR UPDATE",
                (deployment_id, *chunk),
            )


def forget_windows(db: DBSession, *, organization_id: int, session_ids: Sequence[int]) -> Forgotten:
    """Delete the events of these journey sessions' windows, free their shortIds and take their events
    out of their customers' counts (sessions of other kinds among the ids are left alone)."""
    raw = FastSQL(db)
    windows: list[Sequence[Any]] = []
    for chunk in _chunks(sorted(set(session_ids))):
        windows += raw.execute(f"{_WINDOWS} ({raw.marks(len(chunk))})", (organization_id, *chunk))
    if not windows:
        return Forgotten()
    raw.executemany(_DELETE_WINDOW, [tuple(w[1:7]) for w in windows])
    uncount: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for window in windows:  # a window holds exactly its session's events: its counts are theirs
        counts = uncount[int(window[1])]
        counts[0] += int(window[8])
        counts[1] += int(window[9])
    sql = _UNCOUNT if raw.sqlite else _UNCOUNT_PG
    raw.executemany(sql, [(e, p, customer) for customer, (e, p) in sorted(uncount.items())])
    shortids.release(db, organization_id, sorted(str(w[7]) for w in windows))
    return Forgotten(events=sum(int(w[8]) for w in windows), customer_ids=sorted(uncount))


def drop_empty_customers(db: DBSession, *, customer_ids: Sequence[int]) -> int:
    """Delete those of these customers left with no session (their remaining events go with them: ON
    DELETE CASCADE); returns how many."""
    raw = FastSQL(db)
    dropped = 0
    for chunk in _chunks(sorted(set(customer_ids))):
        dropped += len(
            raw.execute(
                f"DELETE FROM journey_customer WHERE id IN ({raw.marks(len(chunk))}) AND NOT EXISTS"
                " (SELECT 1 FROM journey_session WHERE journey_session.customer_id = journey_customer.id)"
                " RETURNING id",
                chunk,
            )
        )
    return dropped


def _chunks(values: Sequence[Any]) -> list[list[Any]]:
    return [list(values[start : start + _CHUNK]) for start in range(0, len(values), _CHUNK)]
