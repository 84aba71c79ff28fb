"""The session filters the console, the metrics endpoint and the export share: exact values, ranges.

Unlike the Syllable list's paired search (substring matches), these compare exactly, as a value picked
from a list of the organization's own values does; every one of them is served by an index or a rollup.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import ColumnElement, String, column, exists, select, table

from sessionary.errors import InvalidRequest
from sessionary.listing import parse_datetime
from sessionary.sessions.models import Session

UNLABELED = "none"


class Direction(StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class LabelCodeFilter(StrEnum):
    GOOD = "GOOD"
    OK = "OK"
    BAD = "BAD"
    NA = "N/A"
    none = UNLABELED


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions: all given conditions hold (None = no condition). start inclusive, end exclusive."""

    start: datetime | None = None
    end: datetime | None = None
    channel_type: str | None = None
    session_type: str | None = None
    agent: str | None = None
    prompt: str | None = None
    direction: Direction | None = None
    is_test: bool | None = None
    label_code: LabelCodeFilter | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    conversation_id: str | None = None

    def with_range(self, start: datetime | None, end: datetime | None) -> SessionFilter:
        return replace(self, start=start, end=end)

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


def conditions(organization_id: int, f: SessionFilter) -> list[ColumnElement[bool]]:
    """The WHERE conditions on `session` for the organization and the filter."""
    where: list[ColumnElement[bool]] = [Session.organization_id == organization_id]
    exact: list[tuple[Any, Any]] = [
        (Session.channel_manager_type, f.channel_type),
        (Session.session_type, f.session_type),
        (Session.agent_name, f.agent),
        (Session.prompt_name, f.prompt),
        (Session.conversation_id, f.conversation_id),
        (Session.is_test, f.is_test),
    ]
    where += [column == value for column, value in exact if value is not None]
    if f.direction is not None:
        where.append(Session.is_outbound.is_(f.direction is Direction.outbound))
    if f.start is not None:
        where.append(Session.timestamp >= f.start)
    if f.end is not None:
        where.append(Session.timestamp < f.end)
    if f.min_duration is not None:
        where.append(Session.duration >= f.min_duration)
    if f.max_duration is not None:
        where.append(Session.duration <= f.max_duration)
    if f.label_code is not None:
        where.append(_label_condition(organization_id, f.label_code))
    return where


# The filter's exact-value fields that session_count counts by (sessions/counts.py), by column.
_COUNTED = {"agent": "agent_name", "prompt": "prompt_name", "channel_type": "channel_manager_type"}


def counted_names(f: SessionFilter) -> dict[str, list[str]] | None:
    """The filter as session_count's name conditions, or None when it has a condition those cannot hold
    (any but the time range and the fields of _COUNTED)."""
    others = [x.name for x in fields(f) if x.name not in ("start", "end", *_COUNTED)]
    if any(getattr(f, name) is not None for name in others):
        return None
    return {column: [getattr(f, name)] for name, column in _COUNTED.items() if getattr(f, name) is not None}


# The two columns of labels.models.SessionLabel this filter reads, named here so that sessions does not
# import the labels package (which imports sessions: no package cycle).
_label = table("session_label", column("id"), column("code", String))


def _label_condition(organization_id: int, code: LabelCodeFilter) -> ColumnElement[bool]:
    """The session's newest label has this code (`none`: the session has no label)."""
    if code is LabelCodeFilter.none:
        return Session.session_label_id.is_(None)
    newest = (
        select(_label.c.id)
        .where(_label.c.id == Session.session_label_id, _label.c.code == code.value)
        .correlate(Session)
    )
    return exists(newest)


def filter_dependency(
    start_datetime: Annotated[str | None, Query(description="Inclusive lower bound (ISO 8601)")] = None,
    end_datetime: Annotated[str | None, Query(description="Exclusive upper bound (ISO 8601)")] = None,
    channel_manager_type: Annotated[str | None, Query(max_length=200)] = None,
    session_type: Annotated[str | None, Query(max_length=16, description="voice, chat, web, app")] = None,
    agent_name: Annotated[str | None, Query(max_length=200)] = None,
    prompt_name: Annotated[str | None, Query(max_length=200)] = None,
    direction: Annotated[Direction | None, Query()] = None,
    is_test: Annotated[bool | None, Query()] = None,
    label_code: Annotated[LabelCodeFilter | None, Query(description="newest label's code; none")] = None,
    min_duration: Annotated[float | None, Query(ge=0, le=1e9, description="Seconds")] = None,
    max_duration: Annotated[float | None, Query(ge=0, le=1e9, description="Seconds")] = None,
    conversation_id: Annotated[str | None, Query(max_length=200)] = None,
) -> SessionFilter:
    """A FastAPI dependency reading the filter from query parameters (exact values)."""
    texts = {
        "channel_manager_type": channel_manager_type,
        "session_type": session_type,
        "agent_name": agent_name,
        "prompt_name": prompt_name,
        "conversation_id": conversation_id,
    }
    for name, value in texts.items():
        if value is not None and "\x00" in value:
            raise InvalidRequest(f"{name} must not contain the NUL character")
    return SessionFilter(
        start=parse_datetime("start_datetime", start_datetime) if start_datetime else None,
        end=parse_datetime("end_datetime", end_datetime) if end_datetime else None,
        channel_type=channel_manager_type,
        session_type=session_type,
        agent=agent_name,
        prompt=prompt_name,
        direction=direction,
        is_test=is_test,
        label_code=label_code,
        min_duration=min_duration,
        max_duration=max_duration,
        conversation_id=conversation_id,
    )
