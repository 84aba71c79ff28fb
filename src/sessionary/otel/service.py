"""Spans into sessions: map each span, settle each trace's session key, and store the events through the
one ingest service (`ingest.service.ingest_events`) in the request's transaction. Spans of a trace whose
key is not known yet wait (store.py); they are stored when it is, or keyed by their trace id once
SESSIONARY_OTEL_PENDING_SECONDS have passed (`release_overdue`, run by the sweeper)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session as DBSession

from sessionary.db import Database, session_scope
from sessionary.eventlog.schemas import EventIn
from sessionary.fastsql import is_sqlite
from sessionary.ingest.service import ingest_events, ingest_prepared, prepare
from sessionary.otel import keys, store
from sessionary.otel.mapping import Draft, drafts_of
from sessionary.otel.mapping.common import Refused, revive
from sessionary.otel.spans import BadSpan, Span

log = logging.getLogger(__name__)
Key = keys.Key
# Reads traces' keys without locking them (the route's read session): planning, checked under the lock.
Peek = Callable[[list[str]], dict[str, "Key | None"]]


@dataclass(slots=True)
class Mapped:
    """A span's checked native events, before its session key is known."""

    span: Span
    service: str
    drafts: list[Draft]
    key: Key | None  # the key the span names itself


@dataclass(slots=True)
class Outcome:
    """What became of a request's spans."""

    spans: int = 0
    rejected: list[str] = field(default_factory=list)  # one message per refused span
    ignored: int = 0  # spans that map to no event (accepted)
    waiting: int = 0  # spans kept until their trace's session is known
    inserted: int = 0
    duplicates: int = 0

    def record(self, stored: Outcome) -> None:
        """Take what `store_mapped` reports (of this request's transaction, merged or not)."""
        self.waiting, self.inserted, self.duplicates = stored.waiting, stored.inserted, stored.duplicates


def ingest_spans(
    db: DBSession,
    *,
    organization_id: int,
    spans: Iterable[Span | BadSpan],
    now: datetime,
    peek: Peek | None = None,
) -> Outcome:
    """Store what the spans say, all in the caller's transaction (`map_spans`, then `store_mapped`)."""
    mapped, outcome = map_spans(spans)
    outcome.record(store_mapped(db, organization_id=organization_id, mapped=mapped, now=now, peek=peek))
    return outcome


def map_spans(spans: Iterable[Span | BadSpan]) -> tuple[list[Mapped], Outcome]:
    """Each span's checked native events (no database): what to store, and what became of each span."""
    outcome = Outcome()
    return _map_all(spans, outcome), outcome


def store_mapped(
    db: DBSession, *, organization_id: int, mapped: Sequence[Mapped], now: datetime, peek: Peek | None = None
) -> Outcome:
    """Store mapped spans (of one request, or of several merged) in the caller's transaction.

    Everything that needs no lock comes first: the keys these spans name, the keys `peek` reads without
    locking (a read session), and the events built and prepared under them. Then, in the write
    transaction, the traces are locked and their keys read again: a trace whose key turned out other than
    planned (another request keyed it meanwhile) is built again there, as are released waiting spans. On
    SQLite, whose writer holds the whole database, the lock is then held for the writes alone."""
    outcome = Outcome()
    if not mapped:
        return outcome
    by_trace: dict[str, list[Mapped]] = defaultdict(list)
    for item in mapped:
        by_trace[item.span.trace_id].append(item)
    named = {trace: _key_of(items) for trace, items in by_trace.items()}
    seen = peek(sorted(by_trace)) if peek is not None else {}
    planned = {trace: seen.get(trace) or named[trace] for trace in by_trace}
    built = {trace: _events(by_trace[trace], key) for trace, key in planned.items() if key is not None}
    sqlite = is_sqlite(db)
    prepared = prepare(
        [event for events in built.values() for event in events],
        sqlite=sqlite,
        organization_id=organization_id,
    )
    # the write transaction begins with the first statement
    stored = store.lock_traces(db, organization_id=organization_id, trace_ids=by_trace, now=now)
    new_keys = {t: key for t, key in named.items() if stored.get(t) is None and key is not None}
    store.set_keys(db, organization_id=organization_id, keys=new_keys)
    final = {trace: stored.get(trace) or named[trace] for trace in by_trace}
    moved = [trace for trace in by_trace if final[trace] != planned[trace]]
    released = store.take_pending(db, organization_id=organization_id, trace_ids=new_keys)
    if moved or released:
        kept = [event for trace, events in built.items() if trace not in moved for event in events]
        rebuilt = [
            event for trace in moved if final[trace] for event in _events(by_trace[trace], final[trace])
        ]
        prepared = prepare(
            kept + rebuilt + _revive(released, final), sqlite=sqlite, organization_id=organization_id
        )
    waiting = [
        (trace, item.service, [draft.kept() for draft in item.drafts])
        for trace, items in by_trace.items()
        if final[trace] is None
        for item in items
        if item.drafts
    ]
    store.park(db, organization_id=organization_id, spans=waiting, now=now)
    outcome.waiting = len(waiting)
    result = ingest_prepared(db, organization_id=organization_id, prepared=prepared)
    outcome.inserted, outcome.duplicates = result.inserted, result.duplicates
    return outcome


def peeker(database: Database, *, organization_id: int) -> Peek:
    """A `Peek` through the database's read sessions (no write lock, no row lock)."""

    def peek(trace_ids: list[str]) -> dict[str, Key | None]:
        with session_scope(database.reader) as reader:
            return store.read_keys(reader, organization_id=organization_id, trace_ids=trace_ids)

    return peek


def _events(items: Sequence[Mapped], key: Key | None) -> list[EventIn]:
    """The trace's spans' events under its key."""
    assert key is not None
    return [draft.event(*key) for item in items for draft in item.drafts]


def release_overdue(db: DBSession, *, now: datetime, after_seconds: float, limit: int) -> int:
    """Store the spans waiting longer than `after_seconds` under their trace id (when their trace still
    has no key); how many spans were released."""
    due = store.overdue(db, before=now - timedelta(seconds=after_seconds), limit=limit)
    by_org: dict[int, list[str]] = defaultdict(list)
    for organization_id, trace_id in due:
        by_org[organization_id].append(trace_id)
    released = 0
    for organization_id, trace_ids in sorted(by_org.items()):
        stored = store.lock_traces(db, organization_id=organization_id, trace_ids=trace_ids, now=now)
        pending = store.take_pending(db, organization_id=organization_id, trace_ids=trace_ids)
        new_keys: dict[str, Key] = {}
        for trace_id, service, _events in pending:
            if stored.get(trace_id) is None and trace_id not in new_keys:
                new_keys[trace_id] = (service, trace_id)
        store.set_keys(db, organization_id=organization_id, keys=new_keys)
        known = {**{t: k for t, k in stored.items() if k is not None}, **new_keys}
        ingest_events(db, organization_id=organization_id, events=_revive(pending, known))
        released += len(pending)
    return released


def _map_all(spans: Iterable[Span | BadSpan], outcome: Outcome) -> list[Mapped]:
    out: list[Mapped] = []
    for span in spans:
        outcome.spans += 1
        if isinstance(span, BadSpan):
            outcome.rejected.append(str(span))
            continue
        try:
            runtime = keys.runtime_of(span)
            item = Mapped(span, keys.service_of(span), drafts_of(span, runtime), keys.own_key(span, runtime))
        except Refused as refused:
            outcome.rejected.append(str(refused))
            continue
        if not item.drafts:
            outcome.ignored += 1
            if item.key is None and not item.span.is_root:
                continue
        out.append(item)
    return out


def _key_of(items: Sequence[Mapped]) -> Key | None:
    """The key a trace's spans of this request settle: its root's (or the trace id when the root names
    none), else the key named by its earliest-starting span that names one; None when none does."""
    for item in items:
        if item.span.is_root:
            return item.key or (item.service, item.span.trace_id)
    named = [item for item in items if item.key is not None]
    if not named:
        return None
    return min(named, key=lambda item: (item.span.start, item.span.span_id)).key


def _revive(
    pending: Sequence[tuple[str, str, list[dict[str, Any]]]], known: Mapping[str, Key | None]
) -> list[EventIn]:
    """Waiting spans' events, given their trace's key (validated again: they were stored as JSON)."""
    events: list[EventIn] = []
    for trace_id, _service, drafts in pending:
        key = known[trace_id]
        assert key is not None  # released only once keyed
        events += [revive(draft, *key) for draft in drafts]
    return events
