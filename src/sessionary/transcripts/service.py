"""A session's transcript, timeline and latency, read from its events in time order."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from sessionary.eventlog.models import Event
from sessionary.sessions import service as sessions
from sessionary.sessions.models import Session
from sessionary.transcripts import formatting as fmt
from sessionary.transcripts.schemas import (
    InspectLatencyResponse,
    LatencyEntry,
    SessionAction,
    SessionText,
    SessionTimelineResponse,
    SessionTranscriptionResponse,
    SummaryEntry,
    TimelineEvent,
)


def session_events(
    db: DBSession, *, organization_id: int, session_id: str, types: tuple[str, ...]
) -> tuple[Session, list[Event]]:
    """The organization's session (else NotFound) and its events of these types, in time order."""
    session = sessions.get_session(db, organization_id=organization_id, session_id=session_id)
    stmt = (
        select(Event)
        .where(Event.session_id == session.id, Event.type.in_(types))
        .order_by(Event.timestamp, Event.id)
    )
    return session, list(db.scalars(stmt))


def transcript(db: DBSession, *, organization_id: int, session_id: str) -> SessionTranscriptionResponse:
    """The session's turns and tool actions, each in time order."""
    session, events = session_events(
        db, organization_id=organization_id, session_id=session_id, types=("transcript", "tool_call")
    )
    texts = [_text(e) for e in events if e.type == "transcript"]
    actions = [_action(e) for e in events if e.type == "tool_call"]
    return SessionTranscriptionResponse(session_id=str(session.id), transcription=texts, actions=actions)


def _text(event: Event) -> SessionText:
    data = event.data
    return SessionText(
        timestamp=event.timestamp, lang=data.get("lang"), source=data.get("source"), text=data.get("text")
    )


def _action(event: Event) -> SessionAction:
    data = event.data
    return SessionAction(
        timestamp=event.timestamp,
        tool_name=data.get("tool_name"),
        tool_request=fmt.payload(data.get("tool_request")),
        tool_result=fmt.payload(data.get("tool_result")),
        tool_error=fmt.payload(data.get("tool_error")),
        duration_ms=fmt.usable_ms(data.get("duration_ms")),
    )


def timeline(db: DBSession, *, organization_id: int, session_id: str) -> SessionTimelineResponse:
    """Transcript, tool and latency events merged in time order, offsets from the session's start."""
    session, events = session_events(
        db,
        organization_id=organization_id,
        session_id=session_id,
        types=("transcript", "tool_call", "latency"),
    )
    events = _without_tool_latency_duplicates(events)
    out: list[TimelineEvent] = []
    turn: int | None = None
    for event in events:
        if event.type == "transcript":
            turn = 0 if turn is None else turn + 1
        out.append(_timeline_event(event, session, turn))
    return SessionTimelineResponse(session_id=str(session.id), session_start=session.timestamp, events=out)


def _without_tool_latency_duplicates(events: list[Event]) -> list[Event]:
    """Drop each tool call's own `tool` latency (same label as its tool_name, the nearest in time)."""
    latencies: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if event.type == "latency" and event.data.get("category") == "tool":
            latencies[event.data.get("label", "")].append(event)
    dropped: set[int] = set()
    for call in (e for e in events if e.type == "tool_call"):
        candidates = [e for e in latencies.get(call.data.get("tool_name", ""), []) if e.id not in dropped]
        if candidates:
            nearest = min(candidates, key=lambda e: abs((e.timestamp - call.timestamp).total_seconds()))
            dropped.add(nearest.id)
    return [e for e in events if e.id not in dropped]


def _timeline_event(event: Event, session: Session, turn: int | None) -> TimelineEvent:
    data: dict[str, Any] = event.data
    common = {
        "timestamp": event.timestamp,
        "offset": fmt.offset(event.timestamp - session.timestamp),
        "turn_index": turn,
    }
    if event.type == "transcript":
        return TimelineEvent(
            kind="transcript",
            source=data.get("source"),
            text=data.get("text"),
            lang=data.get("lang"),
            **common,
        )
    if event.type == "tool_call":
        return TimelineEvent(
            kind="tool",
            category="tool",
            label=data.get("tool_name"),
            duration_ms=fmt.usable_ms(data.get("duration_ms")),
            tool_request=fmt.payload(data.get("tool_request")),
            tool_result=fmt.payload(data.get("tool_result")),
            tool_error=fmt.payload(data.get("tool_error")),
            **common,
        )
    return TimelineEvent(
        kind="latency",
        category=data["category"],
        label=data["label"],
        metadata=data.get("metadata"),
        duration_ms=fmt.usable_ms(data.get("value"), data.get("unit")),
        **common,
    )


def latency(db: DBSession, *, organization_id: int, session_id: str) -> InspectLatencyResponse:
    """Every latency measurement in time order, and count/sum/average per category and per label."""
    session, events = session_events(
        db, organization_id=organization_id, session_id=session_id, types=("latency",)
    )
    usable = [
        (e, ms) for e in events if (ms := fmt.usable_ms(e.data.get("value"), e.data.get("unit"))) is not None
    ]
    entries = [_latency_entry(e, ms, session) for e, ms in usable]
    return InspectLatencyResponse(session_id=str(session.id), timeline=entries, summary=_summary(usable))


def _latency_entry(event: Event, ms: float, session: Session) -> LatencyEntry:
    data = event.data
    start = data.get("measurement_start")
    return LatencyEntry(
        timestamp=event.timestamp,
        measurement_start=start or event.timestamp,
        category=data["category"],
        label=data["label"],
        metadata=data.get("metadata"),
        unit_type=data["unit"],
        value=data["value"],
        value_str=fmt.human_ms(ms),
        time_delta=fmt.precise_offset(event.timestamp - session.timestamp),
    )


def _summary(events: list[tuple[Event, float]]) -> list[SummaryEntry]:
    """One entry per category (sub_category null), then one per (category, label)."""
    groups: dict[tuple[str, str | None], list[float]] = defaultdict(list)
    for event, ms in events:
        groups[(event.data["category"], None)].append(ms)
        groups[(event.data["category"], event.data["label"])].append(ms)
    ordered = sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] is not None, item[0][1] or ""))
    return [_summary_entry(category, label, values) for (category, label), values in ordered]


def _summary_entry(category: str, label: str | None, values: list[float]) -> SummaryEntry:
    total = sum(values)
    average = total / len(values)
    return SummaryEntry(
        category=category,
        sub_category=label,
        event_count=len(values),
        sum_ms=round(total, 3),
        sum_str=fmt.human_ms(total),
        average_ms=round(average, 3),
        average_str=fmt.human_ms(average),
    )
