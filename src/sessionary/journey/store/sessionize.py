"""Sessionization as a pure function of a customer's events of one type (web or app).

Events are taken in (createdDate, event id) order. A new session starts at the first event, after a gap
longer than the inactivity timeout, and at an event landing from a campaign (UTM source/network + name)
other than the session's own. Each session is a fold over its events (counts, last event/page/screen,
latest browser/device/geo, first referrer and campaign, search terms, attributes, rule matches), so
folding in-order events one by one onto the last session gives the same sessions as re-splitting all of
them; a late event is handled by re-splitting the stretch of the timeline it can affect (journey.store).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sessionary.journey.rules import CompiledRule
from sessionary.journey.urls import campaign_key
from sessionary.journey.wire.responses import millis_z

LATEST_WINS = (
    "browser",
    "device",
    "geolocation",
    "ipAddress",
    "ipOrganization",
    "userAgentString",
    "sdkLibrary",
    "networkConnectivity",
    "externalId",
    "app",
)
MAX_LIST = 100  # values kept per attribute list, search terms and event names


class StoredEvent(NamedTuple):
    """One event as sessionization sees it (a tuple: cheap to build and to pass between processes)."""

    id: str
    created: datetime
    kind: str  # web | app
    name: str
    payload: dict[str, Any]

    @property
    def key(self) -> tuple[datetime, str]:
        return (self.created, self.id)


@dataclass
class SessionState:
    """One session: the columns of journey_session (and its `session` row) and the JSON `wire` part."""

    type: str
    created: datetime
    first_event_id: str
    last_date: datetime
    last_event_id: str
    ended: datetime | None = None
    event_count: int = 0
    pageview_count: int = 0
    screenview_count: int = 0
    authenticated: bool = False
    wire: dict[str, Any] = field(default_factory=dict)
    # Identity, kept when a stored session is re-derived: None for a session not stored yet.
    row_id: int | None = None
    uuid: str | None = None
    short_id: str | None = None
    stored_created: datetime | None = None  # `created` as stored: an unchanged start leaves its indexes be

    @property
    def first_key(self) -> tuple[datetime, str]:
        return (self.created, self.first_event_id)

    @property
    def last_key(self) -> tuple[datetime, str]:
        return (self.last_date, self.last_event_id)

    @property
    def duration(self) -> int:
        return int((self.last_date - self.created).total_seconds())

    def derived(self) -> tuple[Any, ...]:
        """Everything the events decide (not the identity): equal for equal event sets."""
        return (
            self.type,
            self.created,
            self.first_event_id,
            self.last_date,
            self.last_event_id,
            self.ended,
            self.event_count,
            self.pageview_count,
            self.screenview_count,
            self.authenticated,
            self.wire,
        )

    def view(self) -> dict[str, Any]:
        """The session as rules see it: the wire fields plus counts, type and duration."""
        return {
            **self.wire,
            "type": self.type,
            "eventCount": self.event_count,
            "pageviewCount": self.pageview_count,
            "screenviewCount": self.screenview_count,
            "authenticated": self.authenticated,
            "durationInSeconds": self.duration,
        }


def starts_new(session: SessionState | None, event: StoredEvent, timeout: timedelta) -> bool:
    """Whether `event` (later than every event of `session`) begins a session of its own."""
    if session is None or event.created - session.last_date > timeout:
        return True
    landing = campaign_key(event.payload.get("mktCampaign"))
    return landing is not None and landing != campaign_key(session.wire.get("mktCampaign"))


def begin(event: StoredEvent) -> SessionState:
    """A new session whose first event is `event` (not yet folded in)."""
    session = SessionState(
        type=event.kind,
        created=event.created,
        first_event_id=event.id,
        last_date=event.created,
        last_event_id=event.id,
    )
    for name in ("mktCampaign", "referrer"):
        if event.payload.get(name):
            session.wire[name] = event.payload[name]
    return session


def apply(session: SessionState, event: StoredEvent, rules: Sequence[CompiledRule] = ()) -> None:
    """Fold `event` (the latest of the session so far) into `session`."""
    payload, wire = event.payload, session.wire
    session.event_count += 1
    session.pageview_count += event.name == "page_viewed"
    session.screenview_count += event.name == "screen_viewed"
    session.authenticated = session.authenticated or bool(payload.get("authenticated"))
    session.last_date, session.last_event_id = event.created, event.id
    wire["lastEvent"] = {"id": event.id, "eventName": event.name, "createdDate": millis_z(event.created)}
    if "page" in payload:
        wire["lastPage"] = payload["page"]
    if "screenName" in payload:
        wire["lastScreen"] = payload["screenName"]
    for name in LATEST_WINS:
        if payload.get(name) is not None:
            wire[name] = payload[name]
    if payload.get("searchQuery"):
        _add_distinct(wire.setdefault("searchTerms", []), payload["searchQuery"])
    _add_distinct(wire.setdefault("eventNames", []), event.name)
    _project_attributes(wire, payload.get("attributes") or {})
    if rules:
        _match_rules(session, rules, event)


def _add_distinct(values: list[str], value: str) -> None:
    if value not in values and len(values) < MAX_LIST:
        values.append(value)


def _project_attributes(wire: dict[str, Any], attributes: dict[str, Any]) -> None:
    if not attributes:
        return
    latest = wire.setdefault("attributes", {})
    lists = wire.setdefault("attributeLists", {})
    for name, attribute in attributes.items():
        latest[name] = attribute
        entry = lists.setdefault(name, {"dataType": attribute["dataType"], "values": []})
        _add_distinct(entry["values"], attribute["value"])


def _match_rules(session: SessionState, rules: Sequence[CompiledRule], event: StoredEvent) -> None:
    """Record each rule the session matches for the first time, with the event that made it match."""
    view: dict[str, Any] | None = None
    for rule in rules:
        key = "segments" if rule.kind == "segment" else "outcomes"
        matched = session.wire.get(key, [])
        if any(m["id"] == rule.id for m in matched):
            continue
        view = view or session.view()
        if rule.holds(view, session.wire.get("eventNames", [])):
            match = {
                "id": rule.id,
                "date": event.created.isoformat(timespec="microseconds"),
                "event": event.id,
            }
            session.wire[key] = [*matched, match]


def extend(
    last: SessionState | None,
    events: Iterable[StoredEvent],
    timeout: timedelta,
    rules: Sequence[CompiledRule] = (),
) -> list[SessionState]:
    """Fold events (sorted, all later than `last`) onto the customer's last session; returns `last`
    (if given) followed by the sessions the events began.

    `ended` is stored only for a session a new campaign cut short; one that timed out has ended at its
    last event as soon as the timeout has passed, which readers derive from the clock."""
    sessions = [last] if last is not None else []
    for event in events:
        current = sessions[-1] if sessions else None
        if starts_new(current, event, timeout):
            if current is not None and event.created - current.last_date <= timeout:
                current.ended = current.last_date  # a new campaign ended it before its timeout
            sessions.append(begin(event))
        apply(sessions[-1], event, rules)
    return sessions


def sessionize(
    events: Iterable[StoredEvent], timeout: timedelta, rules: Sequence[CompiledRule] = ()
) -> list[SessionState]:
    """The sessions of a set of events of one customer and type (any order)."""
    return extend(None, sorted(events, key=lambda e: e.key), timeout, rules)
