"""The overview figures, from the rollups when the filter is one of segments, else from the sessions.
Journey (web/app) figures are rolled up like the others (contributions.py: journey, referrer_medium,
campaign).

Ranges are whole UTC days: start_datetime is taken back to its midnight, end_datetime forward to the
next one (unless already midnight); the response says which range it counted. Without a range: the 30
days ending today.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session as DBSession

from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.eventlog.models import Event
from sessionary.journey.models import JourneySession
from sessionary.labels.models import SessionLabel
from sessionary.metrics import catchup, segments
from sessionary.metrics import contributions as contrib
from sessionary.metrics.contributions import JourneyFacts, LabelFacts, Tally
from sessionary.metrics.models import MetricsRollup, MetricsSegment
from sessionary.metrics.schemas import (
    DayChannel,
    DayLabel,
    DurationBucket,
    IssueFigure,
    JourneyFigures,
    LatencyFigure,
    MetricsRead,
    MetricsTotals,
    NamedCount,
    ToolFigure,
)
from sessionary.sessions import filters
from sessionary.sessions.filters import Direction, SessionFilter
from sessionary.sessions.models import Session

DEFAULT_DAYS = 30
TOP = 10
# Filter fields a segment answers exactly (the rest need the sessions themselves).
SEGMENT_FIELDS = {
    "channel_type": "channel_manager_type",
    "session_type": "session_type",
    "agent": "agent_name",
    "prompt": "prompt_name",
    "is_test": "is_test",
}
Rows = dict[tuple[date, str, str], Tally]  # (day, metric, key) -> sums
# Any one item a rollup sums (a session's duration in s, a latency in ms, page views) is below this.
ITEM_BOUND = 1e12
# A rollup total no accepted events can make (from events stored before ingest bounded durations: 1e308,
# infinity, NaN) is read as 0, so that summing rows cannot overflow (PostgreSQL raises on it) or give NaN.
_USABLE_TOTAL = case(
    (
        func.abs(MetricsRollup.total) <= (func.abs(MetricsRollup.count) + 1) * ITEM_BOUND,
        MetricsRollup.total,
    ),
    else_=0.0,
)


def day_range(f: SessionFilter, *, today: date) -> tuple[date, date]:
    """[first day, day after the last) for the filter's range, whole UTC days."""
    end = _next_day(today)
    if f.end is not None:
        midnight = f.end == datetime.combine(f.end.date(), time(0), tzinfo=UTC)
        end = f.end.date() if midnight else _next_day(f.end.date())
    start = f.start.date() if f.start is not None else end - timedelta(days=DEFAULT_DAYS)
    return min(start, end), end


def _next_day(day: date) -> date:
    return day + timedelta(days=1) if day < date.max else day


def metrics(db: DBSession, *, organization_id: int, f: SessionFilter) -> MetricsRead:
    """Every overview figure for the filter (see the module docstring for the range)."""
    first, after = day_range(f, today=utcnow().date())
    if by_segment(f):
        rows, source = _from_rollups(db, organization_id, f, first, after), "rollup"
    else:
        rows, source = _from_sessions(db, organization_id, f, first, after), "sessions"
    return _figures(rows, first, after, source)


def current_metrics(database: Database, *, organization_id: int, f: SessionFilter) -> MetricsRead:
    """The figures after rolling up what changed since the last look (a short job of its own, only when
    something did: then the figures are read in that same write transaction, so they include it)."""
    with session_scope(database.reader) as db:
        if not by_segment(f) or not catchup.has_pending(db, organization_id=organization_id):
            return metrics(db, organization_id=organization_id, f=f)
    with session_scope(database.writer) as db:
        catchup.catch_up(db, organization_id=organization_id)
        return metrics(db, organization_id=organization_id, f=f)


def by_segment(f: SessionFilter) -> bool:
    """Whether the rollups answer this filter (else the figures come from the sessions themselves)."""
    others = replace(
        f,
        start=None,
        end=None,
        channel_type=None,
        session_type=None,
        agent=None,
        prompt=None,
        direction=None,
        is_test=None,
    )
    return others.is_empty()


def _from_rollups(db: DBSession, organization_id: int, f: SessionFilter, first: date, after: date) -> Rows:
    stmt = select(
        MetricsRollup.day,
        MetricsRollup.metric,
        MetricsRollup.key,
        func.sum(MetricsRollup.count),
        func.sum(MetricsRollup.errors),
        func.sum(_USABLE_TOTAL),
    ).where(
        MetricsRollup.organization_id == organization_id,
        MetricsRollup.day >= first,
        MetricsRollup.day < after,
    )
    segment_filter = _segment_conditions(f)
    if segment_filter:
        level = next(iter(segment_filter)) if len(segment_filter) == 1 else segments.FULL
        chosen = select(MetricsSegment.id).where(
            MetricsSegment.organization_id == organization_id,
            MetricsSegment.level == level,
            *segment_filter.values(),
        )
        stmt = stmt.where(MetricsRollup.segment_id.in_(chosen))
    else:
        stmt = stmt.where(MetricsRollup.segment_id == segments.ALL)
    stmt = stmt.group_by(MetricsRollup.day, MetricsRollup.metric, MetricsRollup.key)
    return {
        (day, metric, key): Tally(int(c), int(e), float(t)) for day, metric, key, c, e, t in db.execute(stmt)
    }


def _segment_conditions(f: SessionFilter) -> dict[str, Any]:
    """Per segment column the filter constrains, its condition."""
    out = {
        column: getattr(MetricsSegment, column) == getattr(f, name)
        for name, column in SEGMENT_FIELDS.items()
        if getattr(f, name) is not None
    }
    if f.direction is not None:
        out["is_outbound"] = MetricsSegment.is_outbound.is_(f.direction is Direction.outbound)
    return out


def _from_sessions(db: DBSession, organization_id: int, f: SessionFilter, first: date, after: date) -> Rows:
    """The same sums, computed from the matching sessions, their labels, events and journey rows (exact,
    slower)."""
    start = datetime.combine(first, time(0), tzinfo=UTC)
    end = datetime.combine(after, time(0), tzinfo=UTC)
    where = filters.conditions(organization_id, f.with_range(start, end))
    stmt = (
        select(*_SESSION_COLUMNS)
        .outerjoin(JourneySession, JourneySession.session_id == Session.id)
        .where(*where)
        .order_by(Session.id)
    )
    rows: Rows = defaultdict(Tally)
    for chunk in _chunks(list(db.execute(stmt)), 500):
        labels = _labels(db, [r.session_label_id for r in chunk if r.session_label_id])
        events = _events(db, [r.id for r in chunk])
        for r in chunk:
            label = labels.get(r.session_label_id or 0)
            parts = [
                contrib.session_part(r.channel_manager_type, r.duration, label, _journey(r)),
                contrib.events_part(events.get(r.id, [])),
            ]
            for part in parts:
                for (metric, key), tally in part.items():
                    rows[(r.timestamp.date(), metric, key)].add(tally)
    return rows


_SESSION_COLUMNS = (
    Session.id,
    Session.timestamp,
    Session.channel_manager_type,
    Session.duration,
    Session.session_label_id,
    JourneySession.session_id.label("journey_id"),
    JourneySession.pageview_count,
    JourneySession.referrer_medium,
    JourneySession.campaign_name,
)


def _journey(row: Any) -> JourneyFacts | None:
    if row.journey_id is None:
        return None
    return JourneyFacts(row.pageview_count, row.referrer_medium, row.campaign_name)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _labels(db: DBSession, ids: list[int]) -> dict[int, LabelFacts]:
    if not ids:
        return {}
    stmt = select(SessionLabel.id, SessionLabel.code, SessionLabel.issue_categories).where(
        SessionLabel.id.in_(ids)
    )
    return {i: LabelFacts(code, tuple(issues or ())) for i, code, issues in db.execute(stmt)}


def _events(db: DBSession, ids: list[int]) -> dict[int, list[tuple[str, dict[str, Any]]]]:
    stmt = select(Event.session_id, Event.type, Event.data).where(
        Event.session_id.in_(ids), Event.type.in_(contrib.EVENT_TYPES)
    )
    out: dict[int, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for session_id, kind, data in db.execute(stmt):
        out[session_id].append((kind, data))
    return out


@dataclass
class _Sums:
    by_metric: dict[str, dict[str, Tally]]
    by_day: dict[str, dict[tuple[date, str], int]]


def _sum(rows: Rows) -> _Sums:
    by_metric: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    by_day: dict[str, dict[tuple[date, str], int]] = defaultdict(lambda: defaultdict(int))
    for (day, metric, key), tally in rows.items():
        by_metric[metric][key].add(tally)
        by_day[metric][(day, key)] += tally.count
    return _Sums(by_metric, by_day)


def _figures(rows: Rows, first: date, after: date, source: str) -> MetricsRead:
    sums = _sum(rows)
    sessions = sums.by_metric["sessions"]
    count = sum(t.count for t in sessions.values())
    durations = sums.by_metric["duration"]
    closed = [t for key, t in durations.items() if key != contrib.OPEN]
    closed_count = sum(t.count for t in closed)
    tools = sums.by_metric["tool"]
    calls, errors = sum(t.count for t in tools.values()), sum(t.errors for t in tools.values())
    return MetricsRead(
        start_datetime=datetime.combine(first, time(0), tzinfo=UTC),
        end_datetime=datetime.combine(after, time(0), tzinfo=UTC),
        source=source,
        totals=MetricsTotals(
            sessions=count,
            average_duration_seconds=round(sum(t.total for t in closed) / closed_count, 3)
            if closed_count
            else None,
            tool_calls=calls,
            tool_error_rate=round(errors / calls, 4) if calls else None,
        ),
        sessions_per_day=[
            DayChannel(day=d, channel_manager_type=k, sessions=n)
            for (d, k), n in sorted(sums.by_day["sessions"].items())
            if n
        ],
        duration_distribution=_durations(durations),
        labels_per_day=[
            DayLabel(day=d, code=k, sessions=n) for (d, k), n in sorted(sums.by_day["label"].items()) if n
        ],
        latency=_latency(sums.by_metric["latency"]),
        top_tools=_tools(tools),
        top_issue_categories=[
            IssueFigure(category=k, sessions=t.count) for k, t in _top(sums.by_metric["issue"])
        ],
        journey=_journey_figures(sums.by_metric),
    )


def _journey_figures(by_metric: dict[str, dict[str, Tally]]) -> JourneyFigures:
    """Journey (web/app) sessions started in the range, their page views, top referrer media and campaigns."""
    journeys = by_metric["journey"][""]
    return JourneyFigures(
        sessions=journeys.count,
        pageviews=round(journeys.total),
        top_referrer_media=_named(by_metric["referrer_medium"]),
        top_campaigns=_named(by_metric["campaign"]),
    )


def _named(items: dict[str, Tally]) -> list[NamedCount]:
    return [NamedCount(name=name, sessions=t.count) for name, t in _top(items)]


def _top(items: dict[str, Tally]) -> list[tuple[str, Tally]]:
    ranked = sorted(((k, t) for k, t in items.items() if t.count > 0), key=lambda kt: (-kt[1].count, kt[0]))
    return ranked[:TOP]


def _durations(durations: dict[str, Tally]) -> list[DurationBucket]:
    out = []
    bounds = [lower for _, lower in contrib.DURATION_BUCKETS[1:]] + [None]
    for (label, lower), upper in zip(contrib.DURATION_BUCKETS, bounds, strict=True):
        out.append(
            DurationBucket(
                bucket=label, min_seconds=lower, max_seconds=upper, sessions=durations[label].count
            )
        )
    if durations[contrib.OPEN].count:
        out.append(DurationBucket(bucket=contrib.OPEN, sessions=durations[contrib.OPEN].count))
    return out


def _latency(bins: dict[str, Tally]) -> list[LatencyFigure]:
    by_category: dict[str, list[tuple[int, Tally]]] = defaultdict(list)
    for key, tally in bins.items():
        category, _, index = key.partition("|")
        if tally.count > 0 and int(index) <= contrib.MAX_BIN:  # a bin past it holds only unusable values
            by_category[category].append((int(index), tally))
    out = []
    for category in sorted(by_category, key=_category_order):
        ordered = sorted(by_category[category])
        count = sum(t.count for _, t in ordered)
        total = sum(t.total for _, t in ordered)
        out.append(
            LatencyFigure(
                category=category,
                count=count,
                average_ms=round(total / count, 1),
                p50_ms=_percentile(ordered, count, 0.50),
                p95_ms=_percentile(ordered, count, 0.95),
            )
        )
    return out


def _category_order(category: str) -> tuple[int, str]:
    order = ("stt", "llm", "tts", "tool", "http")
    return (order.index(category) if category in order else len(order), category)


def _percentile(ordered: list[tuple[int, Tally]], count: int, q: float) -> float:
    """The representative value of the bin holding the q-th value (nearest rank)."""
    rank = max(1, math.ceil(q * count - 1e-9))
    seen = 0
    for index, tally in ordered:
        seen += tally.count
        if seen >= rank:
            return round(contrib.bin_value(index), 1)
    return round(contrib.bin_value(ordered[-1][0]), 1)


def _tools(tools: dict[str, Tally]) -> list[ToolFigure]:
    return [
        ToolFigure(
            tool_name=name,
            calls=t.count,
            errors=t.errors,
            error_rate=round(t.errors / t.count, 4),
            average_ms=round(t.total / t.count, 1),
        )
        for name, t in _top(tools)
    ]
