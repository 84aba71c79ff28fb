"""Session debug: the dialog as messages with the tool calls each turn led to."""

from __future__ import annotations

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session as DBSession

from sessionary.debug.schemas import (
    DialogMessage,
    DialogToolCall,
    SessionData,
    SessionMessage,
    ToolResultData,
)
from sessionary.errors import Conflict, NotFound
from sessionary.eventlog.models import Event
from sessionary.sessions.models import Session
from sessionary.transcripts.service import session_events


def by_session_id(db: DBSession, *, organization_id: int, session_id: int) -> SessionData:
    """The debug view of the organization's session with this id."""
    session, events = session_events(
        db, organization_id=organization_id, session_id=str(session_id), types=("transcript", "tool_call")
    )
    return _session_data(session, events)


def by_sid(db: DBSession, *, organization_id: int, service: str, sid: str) -> SessionData:
    """The debug view of the session the producer calls (channel_manager_service, channel_manager_sid)."""
    stmt = select(Session.id).where(
        Session.organization_id == organization_id,
        Session.channel_manager_service == service,
        Session.channel_manager_sid == sid,
    )
    found = db.scalar(stmt)
    if found is None:
        raise NotFound(f"Session {service}/{sid} not found")
    return by_session_id(db, organization_id=organization_id, session_id=found)


def by_sid_segments(db: DBSession, *, organization_id: int, segments: list[str]) -> SessionData:
    """The debug view of the session named by the path segments after `/sid/`: exactly two are
    (service, sid); more come from a client that did not percent-encode a `/` of an id, and every split
    is tried (Conflict when two sessions match: the client must send `/` as `%2F`)."""
    if len(segments) == 2:
        return by_sid(db, organization_id=organization_id, service=segments[0], sid=segments[1])
    splits = [("/".join(segments[:i]), "/".join(segments[i:])) for i in range(1, len(segments))]
    stmt = select(Session.id, Session.channel_manager_service, Session.channel_manager_sid).where(
        Session.organization_id == organization_id,
        tuple_(Session.channel_manager_service, Session.channel_manager_sid).in_(splits),
    )
    found = db.execute(stmt.limit(2)).all()
    joined = "/".join(segments)
    if not found:
        raise NotFound(f"Session {joined} not found")
    if len(found) > 1:
        raise Conflict(
            f"{joined} names two sessions ({found[0][1]} / {found[0][2]} and {found[1][1]} / {found[1][2]}): "
            "send a '/' inside an id as %2F"
        )
    return by_session_id(db, organization_id=organization_id, session_id=found[0][0])


def tool_result(db: DBSession, *, organization_id: int, session_id: int, tool_call_id: str) -> ToolResultData:
    """The result of one tool call of the session (the latest call with this id)."""
    _session, events = session_events(
        db, organization_id=organization_id, session_id=str(session_id), types=("tool_call",)
    )
    calls = [e for e in events if e.data.get("tool_call_id") == tool_call_id]
    if not calls:
        raise NotFound(f"Tool call {tool_call_id} not found in session {session_id}")
    return ToolResultData(
        tool_name=calls[-1].data["tool_name"], tool_result=calls[-1].data.get("tool_result")
    )


def _session_data(session: Session, events: list[Event]) -> SessionData:
    messages: list[SessionMessage] = []
    for event in events:
        if event.type == "transcript":
            dialog = DialogMessage(text=event.data.get("text", ""))
            messages.append(
                SessionMessage(
                    role=event.data["source"], dialog=dialog, tool_calls=[], timestamp=event.timestamp
                )
            )
        else:
            if not messages:  # a tool call before any turn: the agent's, with no words
                messages.append(
                    SessionMessage(
                        role="agent", dialog=DialogMessage(text=""), tool_calls=[], timestamp=event.timestamp
                    )
                )
            messages[-1].tool_calls.append(_tool_call(event))
    return SessionData(
        session_id=session.id,
        source=session.source or "",
        target=session.target or "",
        is_test=bool(session.is_test),
        messages=messages,
    )


def _tool_call(event: Event) -> DialogToolCall:
    data = event.data
    return DialogToolCall(
        tool_call_id=data["tool_call_id"],
        tool_name=data["tool_name"],
        tool_arguments=data.get("tool_request"),
        tool_result=data.get("tool_result"),
        timestamp=event.timestamp,
    )
