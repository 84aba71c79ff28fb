"""How events fold into their session, with the same result whatever order they arrive in.

Every field a `session.*` event carries keeps the version (timestamp, then event_id) of the event it came
from, and a value only replaces one of an older version. Start, end and counters are min/max/sums, which
do not depend on order either. So a session is a pure function of its set of events.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sessionary.ingest.schemas import EventIn, SessionFields
from sessionary.sessions.models import Session

SESSION_FIELDS = {name: name for name in SessionFields.model_fields}  # data key -> Session attribute
# session.ended data key -> Session attribute
ENDED_FIELDS = {
    "user_terminated": "user_terminated",
    "transfer_voicemail_detected": "transfer_voicemail_detected",
    "duration": "reported_duration",
}


def version_of(event: EventIn) -> str:
    """A string that sorts like (timestamp, event_id): the later event wins, ties broken by id."""
    return f"{event.timestamp.isoformat(timespec='microseconds')}|{event.event_id}"  # UTC, fixed width


def session_type_for(channel_manager_type: str | None) -> str:
    """voice | chat | web | app | other, from a channel type such as `voice_sip_v1` or `web_chat_v1`."""
    kind = (channel_manager_type or "").lower()
    if kind in ("web", "app"):
        return kind
    if "voice" in kind or "phone" in kind or "sip" in kind:
        return "voice"
    if "chat" in kind or "sms" in kind or "message" in kind:
        return "chat"
    return "other"


def apply_events(session: Session, events: Iterable[EventIn]) -> None:
    """Fold new (never before applied) events into `session`, then recompute what derives from them."""
    versions = dict(session.field_versions or {})
    values: dict[str, object] = {}
    first, last = session.first_event_at, session.last_event_at
    started, ended = session.started_at, session.ended_at
    count = 0
    for event in events:
        ts = event.timestamp
        count += 1
        first, last = _earliest(first, ts), _latest(last, ts)
        if event.type == "session.started":
            started = _earliest(started, ts)
        if event.type == "session.ended":
            ended = _latest(ended, ts)
            _merge(event, ENDED_FIELDS, versions, values)
        elif event.type in ("session.started", "session.updated"):
            _merge(event, SESSION_FIELDS, versions, values)
    for attr, value in values.items():
        setattr(session, attr, value)
    session.event_count = (session.event_count or 0) + count
    session.first_event_at, session.last_event_at = first, last
    session.started_at, session.ended_at = started, ended
    session.field_versions = versions
    _refresh_derived(session)


def _merge(
    event: EventIn, attrs: dict[str, str], versions: dict[str, str], values: dict[str, object]
) -> None:
    """Take each field the event sets unless a newer event already set it."""
    version = version_of(event)
    for name in event.data.model_fields_set:
        if version > versions.get(name, ""):
            versions[name] = version
            values[attrs[name]] = getattr(event.data, name)


def _refresh_derived(session: Session) -> None:
    session.timestamp = session.started_at or session.first_event_at
    session.session_type = session_type_for(session.channel_manager_type)
    if session.reported_duration is not None:
        session.duration = session.reported_duration
    elif session.ended_at is not None:
        session.duration = max(0.0, (session.ended_at - session.timestamp).total_seconds())
    else:
        session.duration = None


def _earliest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate < current else current


def _latest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current
