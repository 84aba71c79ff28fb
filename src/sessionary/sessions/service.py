"""Reading sessions: the Syllable list (filters, order, paging, projection) and get by id."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session as DBSession

from sessionary import listing
from sessionary.errors import NotFound
from sessionary.listing import Column, Kind, ListParams, Page
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

_CANONICAL_ID = re.compile(r"[1-9][0-9]{0,17}")  # ASCII digits, no leading zero, fits 64 bits
_PLAIN_FIELDS = tuple(
    name for name in SessionRead.model_fields if name not in ("session_id", "session_label_id")
)


_LISTING = listing.Listing(Session, Session.organization_id, COLUMNS, COLUMNS["session_id"])


def list_sessions(db: DBSession, *, organization_id: int, params: ListParams) -> Page[Session]:
    """One page of the organization's sessions, filtered and ordered as `params` say."""
    return _LISTING.page(db, organization_id=organization_id, params=params)


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
