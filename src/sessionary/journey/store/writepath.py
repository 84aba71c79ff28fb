"""The journey write path: lock the customers, store their events, and re-derive their sessions.

Every customer of a batch is locked first (its `journey_customer` row, created if absent, or its totals
updated, by one upsert in key order), so two server processes never sessionize one customer at once.
Per customer and type, events later than all stored ones are folded onto the last session; a late
event re-splits the stretch of the timeline it can touch (from the first session ending within one
timeout before it, to the end) and the result replaces the stored sessions of that stretch: a new
session inherits the id of the first old session it shares an event with, the rest are deleted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, literal, select, tuple_
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session as DBSession

from sessionary.db_types import UTCDateTime
from sessionary.fastsql import FastSQL
from sessionary.journey.models import JourneyEvent, JourneySession
from sessionary.journey.rules import CompiledRule
from sessionary.journey.store import event_rows
from sessionary.journey.store.incoming import Incoming
from sessionary.journey.store.sessionize import SessionState, StoredEvent, extend, sessionize
from sessionary.journey.store.writer import Owner, SessionWriter

_CHUNK = 400
_EVENTS = cast(Table, JourneyEvent.__table__)
CustomerKey = tuple[str, str]  # (deployment id, cookie id)
# Creates the missing customers and adds the batch's events to every one's totals, locking each row (in
# key order: no deadlocks); returns the totals after the batch.
_ADD_TO_CUSTOMERS = (
    "INSERT INTO journey_customer (organization_id, deployment_id, cookie_id, event_count, pageview_count)"
    " {source} ON CONFLICT (deployment_id, cookie_id) DO UPDATE"
    " SET event_count = journey_customer.event_count + excluded.event_count,"
    " pageview_count = journey_customer.pageview_count + excluded.pageview_count"
    " RETURNING id, deployment_id, cookie_id, contact_id, event_count, pageview_count"
)
_CUSTOMER_TYPES = ("bigint", "varchar", "varchar", "int", "int")
_SESSION_FIELDS = (
    "session_id",
    "customer_id",
    "type",
    "created_date",
    "first_event_id",
    "last_event_date",
    "last_event_id",
    "ended_date",
    "event_count",
    "pageview_count",
    "screenview_count",
    "authenticated",
    "state",
    "uuid",
    "short_id",
)
_SESSIONS_OF = f"SELECT {', '.join(_SESSION_FIELDS)} FROM journey_session WHERE customer_id IN"
_SESSION_ORDER = "ORDER BY created_date, first_event_id"


@dataclass
class CustomerRow:
    id: int
    contact_id: str | None
    event_count: int
    pageview_count: int


@dataclass
class Stored:
    """What a batch did: each event's session (after the batch) and the customers it locked."""

    sessions: dict[str, SessionState] = field(default_factory=dict)
    customers: dict[CustomerKey, CustomerRow] = field(default_factory=dict)


def store_events(
    db: DBSession,
    *,
    organization_id: int,
    incoming: Sequence[Incoming],
    rules: Sequence[CompiledRule],
    now: datetime,
) -> Stored:
    """Store the events and bring their customers' sessions up to date, in the caller's transaction."""
    result = Stored()
    if not incoming:
        return result
    result.customers = lock_customers(db, organization_id, _added(incoming))
    with FastSQL(db).pipelined(len(incoming)):  # the events go out with the read of the sessions
        in_order = _insert_events(db, organization_id, incoming, result, now)
        groups: dict[tuple[int, str], list[Incoming]] = defaultdict(list)
        for item in in_order:  # so each group's events are in order too
            groups[(result.customers[(item.deployment_id, item.cookie)].id, item.event.kind)].append(item)
        cutoff = min(i.event.created - i.timeout for i in incoming)
        loaded = _load_sessions(db, [c for c, _ in groups], cutoff)
    writer = SessionWriter(db, organization_id, now)
    for (customer_id, kind), items in sorted(groups.items()):
        first = items[0]
        new_events = [i.event for i in items]
        final, dropped = _derive(
            db, customer_id, kind, loaded.get((customer_id, kind), []), new_events, first, rules
        )
        owner = Owner(
            customer_id,
            first.cookie,
            first.deployment_id,
            first.deployment_name,
            first.timeout,
            first.short_id_length,
        )
        writer.write(final, dropped, owner)
        _assign(result.sessions, final, new_events)
    writer.flush()
    return result


def _assign(sessions: dict[str, SessionState], final: list[SessionState], events: list[StoredEvent]) -> None:
    """Record each event's session (both lists in order; each event lies within one session)."""
    index = 0
    for event in events:
        key = event.key
        while index < len(final) - 1 and key > final[index].last_key:
            index += 1
        sessions[event.id] = final[index]


def _added(incoming: Sequence[Incoming]) -> dict[CustomerKey, tuple[int, int]]:
    """Per customer, the events and page views the batch adds."""
    added: dict[CustomerKey, tuple[int, int]] = {}
    for item in incoming:
        key = (item.deployment_id, item.cookie)
        events, pageviews = added.get(key, (0, 0))
        added[key] = (events + 1, pageviews + (item.event.name == "page_viewed"))
    return added


def lock_customers(
    db: DBSession, organization_id: int, added: dict[CustomerKey, tuple[int, int]]
) -> dict[CustomerKey, CustomerRow]:
    """Create the missing customers and lock all of them, adding (events, page views) to their totals in
    one statement; each CustomerRow has the totals before the batch (the events' own totals count on)."""
    raw = FastSQL(db)
    rows = [(organization_id, d, c, *added[(d, c)]) for d, c in sorted(added)]
    found: dict[CustomerKey, CustomerRow] = {}
    for source, params in raw.rows_from(_CUSTOMER_TYPES, rows):
        for row in raw.execute(_ADD_TO_CUSTOMERS.format(source=source), params):
            events, pageviews = added[(row[1], row[2])]
            found[(row[1], row[2])] = CustomerRow(row[0], row[3], row[4] - events, row[5] - pageviews)
    return found


def _insert_events(
    db: DBSession, organization_id: int, incoming: Sequence[Incoming], result: Stored, now: datetime
) -> list[Incoming]:
    """Insert the events with the customer totals they bring (WebEvent.totalEventCount, ...); returns
    them in (createdDate, id) order."""
    raw = FastSQL(db)
    received = raw.when(now)
    rows = []
    in_order = sorted(incoming, key=lambda i: i.event.key)
    for item in in_order:
        event = item.event
        customer = result.customers[(item.deployment_id, item.cookie)]
        customer.event_count += 1
        customer.pageview_count += event.name == "page_viewed"
        payload_json, created = event_rows.rendered(item, raw.sqlite)
        payload = event_rows.with_totals(payload_json, customer.event_count, customer.pageview_count)
        row = (event.id, organization_id, item.deployment_id, customer.id, event.kind, event.name)
        rows.append((*row, created, received, payload))
    event_rows.insert(raw, rows)
    return in_order


def _load_sessions(
    db: DBSession, customer_ids: list[int], cutoff: datetime
) -> dict[tuple[int, str], list[SessionState]]:
    """The stored sessions of these customers still active at `cutoff` or later, oldest first."""
    raw = FastSQL(db)
    found: dict[tuple[int, str], list[SessionState]] = defaultdict(list)
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        sql = f"{_SESSIONS_OF} ({raw.marks(len(chunk))}) AND last_event_date >= ? {_SESSION_ORDER}"
        for row in raw.fetch(sql, (*chunk, raw.when(cutoff))):
            found[(row[1], row[2])].append(_state_of_raw(raw, row))
    return found


def _state_of_raw(raw: FastSQL, row: Any) -> SessionState:
    """A row of `_SESSIONS_OF` as the driver gives it (SQLite: timestamps and JSON as text)."""
    values = list(row)
    for index in (3, 5, 7):  # created_date, last_event_date, ended_date
        values[index] = None if values[index] is None else raw.read_when(values[index])
    values[12] = raw.read_json(values[12])
    return _state(values)


def state_of(row: JourneySession | Row[Any]) -> SessionState:
    """A stored journey session (ORM object or Core row) as the sessionizer works on it."""
    return _state([getattr(row, name) for name in _SESSION_FIELDS])


def _state(values: Sequence[Any]) -> SessionState:
    """A session from its `_SESSION_FIELDS` values, read into Python types."""
    (row_id, _customer, kind, created, first_id, last_date, last_id, ended, events, pageviews, screenviews,
     authenticated, state, uuid, short_id) = values  # fmt: skip
    return SessionState(
        type=kind,
        created=created,
        first_event_id=first_id,
        last_date=last_date,
        last_event_id=last_id,
        ended=ended,
        event_count=events,
        pageview_count=pageviews,
        screenview_count=screenviews,
        authenticated=bool(authenticated),
        wire=dict(state),
        row_id=row_id,
        uuid=uuid,
        short_id=short_id,
        stored_created=created,
    )


def _derive(
    db: DBSession,
    customer_id: int,
    kind: str,
    stored: list[SessionState],
    new_events: list[StoredEvent],
    first: Incoming,
    rules: Sequence[CompiledRule],
) -> tuple[list[SessionState], list[SessionState]]:
    """The customer's sessions (of this type) after the new events, and the stored ones they replace."""
    earliest = new_events[0]
    if not stored or earliest.key > stored[-1].last_key:
        last = stored[-1] if stored else None
        last = last if last is not None and earliest.created - last.last_date <= first.timeout else None
        return extend(last, new_events, first.timeout, rules), []
    affected = [s for s in stored if s.last_date >= earliest.created - first.timeout]
    start = min(affected[0].first_key, earliest.key)
    events = _timeline(db, customer_id, kind, start)  # the new events are stored already
    rebuilt = sessionize(events, first.timeout, rules)
    return _inherit(rebuilt, affected, events)


def _timeline(db: DBSession, customer_id: int, kind: str, start: tuple[datetime, str]) -> list[StoredEvent]:
    """The customer's stored events of `kind` from `start` on."""
    stmt = (
        select(_EVENTS.c.id, _EVENTS.c.created_date, _EVENTS.c.event_name, _EVENTS.c.payload)
        .where(_EVENTS.c.customer_id == customer_id, _EVENTS.c.kind == kind)
        .where(
            tuple_(_EVENTS.c.created_date, _EVENTS.c.id) >= tuple_(literal(start[0], UTCDateTime()), start[1])
        )
        .order_by(_EVENTS.c.created_date, _EVENTS.c.id)
    )
    return [StoredEvent(r.id, r.created_date, kind, r.event_name, r.payload) for r in db.execute(stmt)]


def _inherit(
    rebuilt: list[SessionState], old: list[SessionState], old_events: list[StoredEvent]
) -> tuple[list[SessionState], list[SessionState]]:
    """Give each rebuilt session the identity of the first old session it shares an event with."""
    owner: dict[str, int] = {}
    for event in old_events:
        for index, session in enumerate(old):
            if session.first_key <= event.key <= session.last_key:
                owner[event.id] = index
                break
    taken: set[int] = set()
    bounds = [(s.first_key, s.last_key) for s in rebuilt]
    for session, (lo, hi) in zip(rebuilt, bounds, strict=True):
        candidates = sorted({owner[e.id] for e in old_events if lo <= e.key <= hi and e.id in owner} - taken)
        if candidates:
            source = old[candidates[0]]
            taken.add(candidates[0])
            session.row_id, session.uuid, session.short_id = source.row_id, source.uuid, source.short_id
            session.stored_created = source.stored_created
    return rebuilt, [s for i, s in enumerate(old) if i not in taken]
