"""Native (voice, chat) sessions on the /api/v2 face, as Genesys conversation sessions.

Their /api/v2 id is a UUID derived from the integer session id, reversibly, so that no column or look-up
table is needed: the fixed prefix `5e551000-0000-0000-0000-` and the id in the last 12 hex digits. The
version nibble is 0, so such an id can never equal a journey session's random (version 4) UUID.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DBSession

from sessionary.eventlog.models import Event
from sessionary.journey.read.views import CONTACTS_URI, SESSIONS_URI, ref
from sessionary.journey.wire import responses as wire
from sessionary.sessions.models import Session

PREFIX = "5e551000-0000-0000-0000-"
_NATIVE = re.compile(r"^5e551000-0000-0000-0000-([0-9a-f]{12})$")
_MAX = 16**12 - 1


def native_uuid(session_id: int) -> str:
    """The /api/v2 id of native session `session_id`."""
    if not 0 < session_id <= _MAX:
        raise ValueError(f"session id {session_id} does not fit 48 bits")
    return f"{PREFIX}{session_id:012x}"


def native_id(value: str) -> int | None:
    """The integer session id an /api/v2 id stands for, or None when it is not a derived one."""
    match = _NATIVE.match(value.strip().lower())
    number = int(match.group(1), 16) if match else 0
    return number or None


def channel(session: Session) -> dict[str, Any]:
    """The ConversationChannel of a native session, from its type and channel type."""
    kind = (session.channel_manager_type or "").lower()
    platform = session.channel_manager_service
    if session.session_type == "voice":
        return {"type": "Call", "platform": platform}
    if "sms" in kind:
        return {"type": "Messaging", "messageType": "Sms", "platform": platform}
    if "whatsapp" in kind:
        return {"type": "Messaging", "messageType": "WhatsApp", "platform": platform}
    if "web" in kind:
        return {"type": "Webchat", "platform": platform}
    if session.session_type == "chat":
        return {"type": "Chat", "platform": platform}
    return {"type": "Unknown", "platform": platform}


def _customer(source: str | None, voice: bool) -> dict[str, Any]:
    if not source:
        return {}
    kind = "email" if "@" in source else "phone" if voice or source.startswith("+") else "other"
    return {"customerId": source, "customerIdType": kind}


def last_events(db: DBSession, *, session_ids: Sequence[int]) -> dict[int, wire.LastEvent]:
    """The latest stored event of each of these native sessions (its producer's id and type), one query."""
    if not session_ids:
        return {}
    rank = (
        func.row_number()
        .over(partition_by=Event.session_id, order_by=(Event.timestamp.desc(), Event.id.desc()))
        .label("rank")
    )
    ranked = (
        select(Event.session_id, Event.event_id, Event.type, Event.timestamp, rank)
        .where(Event.session_id.in_(session_ids))
        .subquery()
    )
    rows = db.execute(select(ranked).where(ranked.c.rank == 1))
    return {
        row.session_id: wire.LastEvent(id=row.event_id, event_name=row.type, created_date=row.timestamp)
        for row in rows
    }


def _fallback_last_event(session: Session) -> wire.LastEvent:
    """A session is made by its events, so this is for a session whose events were deleted."""
    return wire.LastEvent(
        id=native_uuid(session.id), event_name="unknown", created_date=session.last_event_at
    )


def conversation_view(
    session: Session, contact_id: str | None, last_event: wire.LastEvent | None
) -> wire.Session:
    """A native session as a Genesys conversation Session; lastEvent is its latest stored event
    (`eventName` the native event type: `transcript`, `session.ended`, ...)."""
    session_uuid = native_uuid(session.id)
    direction = {True: "Outbound", False: "Inbound"}.get(session.is_outbound, "Unknown")  # type: ignore[arg-type]
    ended = session.ended_at
    if ended is None and session.duration is not None:
        ended = session.timestamp + timedelta(seconds=session.duration)
    data: dict[str, Any] = {
        "id": session_uuid,
        "type": "conversation",
        **_customer(session.source, session.session_type == "voice"),
        "conversation": ref("/api/v2/conversations", session.conversation_id or session.channel_manager_sid),
        "conversationChannels": [channel(session)],
        "originatingDirection": direction,
        "durationInSeconds": int(session.duration) if session.duration is not None else None,
        "eventCount": session.event_count,
        "authenticated": False,
        "selfUri": f"{SESSIONS_URI}/{session_uuid}",
        "createdDate": session.timestamp,
        "endedDate": ended,
        "segmentAssignments": [],
        "outcomeAchievements": [],
        "lastEvent": last_event or _fallback_last_event(session),
    }
    if contact_id:
        data["externalContact"] = ref(CONTACTS_URI, contact_id)
    return wire.Session.model_validate(data)
