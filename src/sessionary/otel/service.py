"""Spans into sessions: map each span, settle each trace's session key, and store the events through the
one ingest service (`ingest.service.ingest_events`) in the request's transaction. Spans of a trace whose
key is not known yet wait (store.py); they are stored when it is, or keyed by their trace id once
SESSIONARY_OTEL_PENDING_SECONDS have passed (`release_overdue`, run by the sweeper)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session as DBSession

from sessionary.eventlog.schemas import EventIn
from sessionary.ingest.service import ingest_events
from sessionary.otel import keys, store
from sessionary.otel.mapping import Draft, drafts_of
from sessionary.otel.mapping.common import Refused, revive
from sessionary.otel.spans import BadSpan, Span

log = logging.getLogger(__name__)
Key = keys.Key


@dataclass(slots=True)
class _Mapped:
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


def ingest_spans(
    db: DBSession, *, organization_id: int, spans: Iterable[Span | BadSpan], now: datetime
) -> Outcome:
    """Store what the spans say, all in the caller's transaction."""
    outcome = Outcome()
    mapped = _map_all(spans, outcome)
    if not mapped:
        return outcome
    by_trace: dict[str, list[_Mapped]] = defaultdict(list)
    for item in mapped:
        by_trace[item.span.trace_id].append(item)
    stored = store.lock_traces(db, organization_id=organization_id, trace_ids=by_trace, now=now)
    found = {trace: _key_of(items) for trace, items in by_trace.items() if stored.get(trace) is None}
    new_keys = {trace: key for trace, key in found.items() if key is not None}
    store.set_keys(db, organization_id=organization_id, keys=new_keys)
    known = {**{t: k for t, k in stored.items() if k is not None}, **new_keys}
    events: list[EventIn] = []
    waiting: list[tuple[str, str, list[dict[str, Any]]]] = []
    for trace, items in by_trace.items():
        key = known.get(trace)
        for item in items:
            if key is not None:
                events += [draft.event(*key) for draft in item.drafts]
            elif item.drafts:
                waiting.append((trace, item.service, [draft.kept() for draft in item.drafts]))
    released = store.take_pending(db, organization_id=organization_id, trace_ids=new_keys)
    events += _revive(released, known)
    store.park(db, organization_id=organization_id, spans=waiting, now=now)
    outcome.waiting = len(waiting)
    result = ingest_events(db, organization_id=organization_id, events=events)
    outcome.inserted, outcome.duplicates = result.inserted, result.duplicates
    return outcome


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


def _map_all(spans: Iterable[Span | BadSpan], outcome: Outcome) -> list[_Mapped]:
    out: list[_Mapped] = []
    for span in spans:
        outcome.spans += 1
        if isinstance(span, BadSpan):
            outcome.rejected.append(str(span))
            continue
        try:
            runtime = keys.runtime_of(span)
            item = _Mapped(span, keys.service_of(span), drafts_of(span, runtime), keys.own_key(span, runtime))
        except Refused as refused:
            outcome.rejected.append(str(refused))
            continue
        if not item.drafts:
            outcome.ignored += 1
            if item.key is None and not item.span.is_root:
                continue
        out.append(item)
    return out


def _key_of(items: Sequence[_Mapped]) -> Key | None:
    """The key a trace's spans of this request settle: its root's (or the trace id when the root names
    none), else the key named by its earliest-starting span that names one; None when none does."""
    for item in items:
        if item.span.is_root:
            return item.key or (item.service, item.span.trace_id)
    named = [item for item in items if item.key is not None]
    if not named:
        return None
    return min(named, key=lambda item: (item.span.start, item.span.span_id)).key


def _revive(pending: Sequence[tuple[str, str, list[dict[str, Any]]]], known: dict[str, Key]) -> list[EventIn]:
    """Waiting spans' events, given their trace's key (validated again: they were stored as JSON)."""
    events: list[EventIn] = []
    for trace_id, _service, drafts in pending:
        service, sid = known[trace_id]
        events += [revive(draft, service, sid) for draft in drafts]
    return events
