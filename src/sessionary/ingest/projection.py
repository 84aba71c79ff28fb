"""How events fold into their session, with the same result whatever order they arrive in.

Every field a `session.*` event carries keeps the version (timestamp, then event_id) of the event it came
from, and a value only replaces one of an older version. Start, end and counters are min/max/sums, which
do not depend on order either. So a session is a pure function of its set of events.

The projection works on a plain dict of the session's columns (no ORM on the ingest hot path).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sessionary.eventlog.schemas import EventIn, SessionFields

SESSION_FIELDS = {name: name for name in SessionFields.model_fields}  # data key -> session column
# session.ended data key -> session column
ENDED_FIELDS = {
    "user_terminated": "user_terminated",
    "transfer_voicemail_detected": "transfer_voicemail_detected",
    "duration": "reported_duration",
}
# The columns derived from all of a session's events (min/max/sums, and what follows from them).
_DERIVED = (
    "timestamp",
    "session_type",
    "duration",
    "started_at",
    "first_event_at",
    "last_event_at",
    "ended_at",
    "event_count",
    "field_versions",
)
# Every column the projection writes.
STATE_COLUMNS = (*SESSION_FIELDS.values(), *ENDED_FIELDS.values(), *_DERIVED)
# The columns it reads: the rest it only overwrites, deciding by field_versions alone. Every session field
# is read, so a value sent again unchanged (a traced agent repeats its LLM fields on every LLM call) is no
# change: neither written again nor re-deriving the session's conversation.
READ_COLUMNS = (*_DERIVED, "reported_duration", *SESSION_FIELDS.values())

State = dict[str, Any]


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


def apply_events(state: State, events: Iterable[EventIn]) -> State:
    """Fold new (never before applied) events into `state`; returns the columns whose value changed.

    `state` needs the READ_COLUMNS; the other columns a change names are overwritten without being read.
    """
    versions = dict(state.get("field_versions") or {})
    changes: State = {}
    first, last = state["first_event_at"], state["last_event_at"]
    started, ended = state.get("started_at"), state.get("ended_at")
    count = 0
    for event in events:
        ts = event.timestamp
        count += 1
        first, last = _earliest(first, ts), _latest(last, ts)
        if event.type == "session.started":
            started = _earliest(started, ts)
        if event.type == "session.ended":
            ended = _latest(ended, ts)
            _merge(event, ENDED_FIELDS, versions, changes)
        elif event.type in ("session.started", "session.updated"):
            _merge(event, SESSION_FIELDS, versions, changes)
    if versions != (state.get("field_versions") or {}):
        changes["field_versions"] = versions
    changes.update(first_event_at=first, last_event_at=last, started_at=started, ended_at=ended)
    changes["event_count"] = (state.get("event_count") or 0) + count
    changed = _changed(state, changes)
    state.update(changes)
    derived = _derived(state)  # its columns are none of `changes`'
    changed.update(_changed(state, derived))
    state.update(derived)
    return changed


def _changed(state: State, changes: State) -> State:
    """Those of `changes` whose value `state` does not hold yet."""
    return {name: value for name, value in changes.items() if name not in state or state[name] != value}


def _merge(event: EventIn, columns: dict[str, str], versions: dict[str, str], changes: State) -> None:
    """Take each field the event sets unless a newer event already set it."""
    version = version_of(event)
    data = event.data
    if not versions:  # a session's first fields (a new session's): the event sets every one it carries
        versions.update(dict.fromkeys(data.model_fields_set, version))
        changes.update({columns[name]: getattr(data, name) for name in data.model_fields_set})
        return
    for name in data.model_fields_set:
        if version > versions.get(name, ""):
            versions[name] = version
            changes[columns[name]] = getattr(data, name)


def _derived(state: State) -> State:
    timestamp = state.get("started_at") or state["first_event_at"]
    duration = state.get("reported_duration")
    if duration is None and state.get("ended_at") is not None:
        duration = max(0.0, (state["ended_at"] - timestamp).total_seconds())
    return {
        "timestamp": timestamp,
        "session_type": session_type_for(state.get("channel_manager_type")),
        "duration": duration,
    }


def _earliest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate < current else current


def _latest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current
