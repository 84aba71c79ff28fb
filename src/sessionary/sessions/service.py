"""Reading sessions: the Syllable list (filters, order, paging, projection), the console's list (exact-value
filters) and its filter options, and get by id."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session as DBSession

from sessionary import listing
from sessionary.errors import NotFound
from sessionary.listing import Column, Kind, ListParams, Page
from sessionary.sessions import counts, filters
from sessionary.sessions.filters import SessionFilter
from sessionary.sessions.models import Session
from sessionary.sessions.schemas import SessionProperties, SessionRead

_STRING_PROPERTIES = (
    "conversation_id",
    "channel_manager_service",
    "channel_manager_sid",
    "agent_type",
    "source",
    "target",
)
# Few distinct values per organization, each indexed as (organization_id, column, timestamp).
NAME_PROPERTIES = ("agent_name", "agent_id", "prompt_name", "prompt_id", "channel_manager_type")
COLUMNS: dict[str, Column] = {
    "timestamp": Column(Session.timestamp, Kind.DATETIME),
    "session_id": Column(Session.id, Kind.INTEGER),
    "duration": Column(Session.duration, Kind.NUMBER),
    "is_outbound": Column(Session.is_outbound, Kind.BOOLEAN),
    "is_legacy": Column(Session.is_legacy, Kind.BOOLEAN),
    "is_test": Column(Session.is_test, Kind.BOOLEAN),
    **{name: Column(getattr(Session, name), Kind.STRING) for name in _STRING_PROPERTIES},
    **{name: Column(getattr(Session, name), Kind.NAME) for name in NAME_PROPERTIES},
}
assert set(COLUMNS) == {p.value for p in SessionProperties}, "every SessionProperties value needs a column"

# A stored session as the reads here return it: other packages name this type, never import the model.
SessionRow: TypeAlias = Session

_CANONICAL_ID = re.compile(r"[1-9][0-9]{0,17}")  # ASCII digits, no leading zero, fits 64 bits
_PLAIN_FIELDS = tuple(
    name for name in SessionRead.model_fields if name not in ("session_id", "session_label_id")
)


def _count(db: DBSession, request: listing.CountRequest) -> int:
    """The Syllable list's total_count from the maintained counts (it lists every session of the
    organization: no other condition than the request's)."""
    return counts.count(
        db,
        organization_id=request.scope_value,
        names=request.names,
        start=request.start,
        end=request.end,
    )


_LISTING = listing.Listing(
    Session, Session.organization_id, COLUMNS, COLUMNS["session_id"], time="timestamp", counter=_count
)


def list_sessions(db: DBSession, *, organization_id: int, params: ListParams) -> Page[Session]:
    """One page of the organization's sessions, filtered and ordered as `params` say."""
    return _LISTING.page(db, organization_id=organization_id, params=params)


def filtered_page(
    db: DBSession,
    *,
    organization_id: int,
    f: SessionFilter,
    params: ListParams,
    extra: Sequence[ColumnElement[bool]] = (),
) -> Page[Session]:
    """One page of the sessions the exact-value filter keeps (the console's list), `extra` conditions
    narrowing them further (e.g. a transcript search), in `params`' order (only its paging and order)."""
    stmt = select(Session).where(*filters.conditions(organization_id, f), *extra)
    stmt = listing.apply_order(stmt, params, COLUMNS, "timestamp", COLUMNS["session_id"])
    names = None if extra else filters.counted_names(f)
    if names is None:
        return listing.fetch_page(db, stmt, params)
    request = listing.CountRequest(organization_id, names, f.start, f.end)
    return listing.fetch_page(db, stmt, params, lambda: _count(db, request))


def name_values(db: DBSession, *, organization_id: int, name: str) -> list[str]:
    """The organization's distinct values of one of NAME_PROPERTIES, sorted: a list to pick a filter
    from (empty when there are too many for one; a loose index scan)."""
    if name not in NAME_PROPERTIES:
        raise ValueError(f"{name} is not one of {NAME_PROPERTIES}")
    scope = listing.Scope(Session.organization_id, organization_id)
    return sorted(listing.distinct_values(db, getattr(Session, name), scope) or [])


def conversation_size(db: DBSession, *, organization_id: int, conversation_id: str) -> int:
    """How many of the organization's sessions belong to the conversation."""
    stmt = select(func.count()).where(
        Session.organization_id == organization_id, Session.conversation_id == conversation_id
    )
    return db.scalar(stmt) or 0


def get_session(db: DBSession, *, organization_id: int, session_id: str) -> Session:
    """The organization's session with this id; NotFound for an unknown id or another organization's."""
    number = int(session_id) if _CANONICAL_ID.fullmatch(session_id) else None
    session = db.get(Session, number) if number is not None else None
    if session is None or session.organization_id != organization_id:
        raise NotFound(f"Session {session_id} not found")
    return session


def to_read(session: Session, fields: list[str] | None = None) -> SessionRead:
    """The wire form of a session; with `fields`, only those (and always `timestamp`) are sent."""
    values: dict[str, Any] = {name: getattr(session, name) for name in _PLAIN_FIELDS}
    values["session_id"] = str(session.id)
    label = session.session_label_id
    values["session_label_id"] = str(label) if label is not None else None
    return listing.wire_form(SessionRead, values, fields, {"timestamp"})
