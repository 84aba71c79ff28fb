"""Stored journey rows to their /api/v2 shapes (Session, Event, WebEventResponse, AppEventResponse)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sessionary.journey.deployments import SessionRules
from sessionary.journey.store.sessionize import SessionState
from sessionary.journey.wire import ingest_responses as wire_ingest
from sessionary.journey.wire import responses as wire
from sessionary.journey.wire.responses import millis_z

SESSIONS_URI = "/api/v2/journey/sessions"
CONTACTS_URI = "/api/v2/externalcontacts/contacts"
WEB_EVENT = "com.genesys.journey.WebEvent"
APP_EVENT = "com.genesys.journey.AppEvent"
SEGMENT_EVENT = "com.genesys.journey.SegmentAssignmentEvent"
OUTCOME_EVENT = "com.genesys.journey.OutcomeAchievedEvent"
EVENT_TYPES = (WEB_EVENT, APP_EVENT, "com.genesys.journey.WebActionEvent", SEGMENT_EVENT, OUTCOME_EVENT)
_COPIED = (
    "attributes",
    "attributeLists",
    "browser",
    "device",
    "geolocation",
    "ipAddress",
    "ipOrganization",
    "lastPage",
    "mktCampaign",
    "referrer",
    "app",
    "sdkLibrary",
    "networkConnectivity",
    "userAgentString",
    "lastEvent",
    "lastScreen",
    "externalId",
)


@dataclass(frozen=True)
class SessionContext:
    """What a session view needs besides the session: its customer, contact and deployment rules."""

    cookie: str
    contact_id: str | None
    rules: SessionRules


def sort_key(created: datetime, event_id: str) -> tuple[str, str]:
    """How listed events sort (and what a cursor holds): UTC time to the microsecond, then id."""
    return created.astimezone(UTC).isoformat(timespec="microseconds"), event_id


def ref(collection: str, id_: str) -> dict[str, str]:
    return {"id": id_, "selfUri": f"{collection}/{id_}"}


def session_view(state: SessionState, context: SessionContext, now: datetime) -> wire.Session:
    """The Session: stored fields, plus endedDate once the timeout has passed, and idle/away dates."""
    assert state.uuid is not None
    rules = context.rules
    timeout = timedelta(seconds=rules.inactivity_timeout_seconds)
    ended = state.ended or (state.last_date if now >= state.last_date + timeout else None)
    data: dict[str, Any] = {name: state.wire[name] for name in _COPIED if name in state.wire}
    data.update(
        id=state.uuid,
        type=state.type,
        customerId=context.cookie,
        customerIdType="cookie",
        shortId=state.short_id,
        searchTerms=state.wire.get("searchTerms", []),
        segmentAssignments=[
            {"segment": ref("/api/v2/journey/segments", m["id"]), "assignedDate": m["date"]}
            for m in state.wire.get("segments", [])
        ],
        outcomeAchievements=[
            {"outcome": ref("/api/v2/journey/outcomes", m["id"]), "achievedDate": m["date"]}
            for m in state.wire.get("outcomes", [])
        ],
        durationInSeconds=state.duration,
        eventCount=state.event_count,
        authenticated=state.authenticated,
        selfUri=f"{SESSIONS_URI}/{state.uuid}",
        createdDate=state.created,
        endedDate=ended,
        idleDate=state.last_date + timedelta(seconds=rules.idle_after_seconds),
        awayDate=state.last_date + timedelta(seconds=rules.away_after_seconds),
    )
    data["pageviewCount" if state.type == "web" else "screenviewCount"] = (
        state.pageview_count if state.type == "web" else state.screenview_count
    )
    if context.contact_id:
        data["externalContact"] = ref(CONTACTS_URI, context.contact_id)
    return wire.Session.model_validate(data)


def response_session(state: SessionState) -> dict[str, Any]:
    """WebEventResponseSession / AppEventResponseSession: the session after the event."""
    data: dict[str, Any] = {
        "id": state.uuid,
        "durationInSeconds": state.duration,
        "eventCount": state.event_count,
        "selfUri": f"{SESSIONS_URI}/{state.uuid}",
        "createdDate": state.created,
        "referrer": state.wire.get("referrer"),
    }
    if state.type == "web":
        data["pageviewCount"] = state.pageview_count
    else:
        data["screenviewCount"] = state.screenview_count
    return data


def web_response(
    payload: dict[str, Any], state: SessionState, created: datetime
) -> wire_ingest.WebEventResponse:
    keys = ("eventName", "page", "userAgentString", "browser", "device", "searchQuery", "ipOrganization")
    data = {k: payload[k] for k in keys if k in payload}
    for name in ("geolocation", "mktCampaign", "referrer", "externalId"):
        if name in payload:
            data[name] = payload[name]
    data.update(
        customerId=payload["customerId"],
        customerIdType="cookie",
        session=response_session(state),
        attributes=payload.get("attributes", {}),
        traits=payload.get("traits", {}),
        authenticated=payload.get("authenticated", False),
        createdDate=created,
    )
    return wire_ingest.WebEventResponse.model_validate(data)


def app_response(
    event_id: str, payload: dict[str, Any], state: SessionState, created: datetime
) -> wire_ingest.AppEventResponse:
    keys = ("eventName", "screenName", "app", "device", "ipOrganization", "geolocation", "sdkLibrary")
    data = {k: payload[k] for k in keys if k in payload}
    for name in ("networkConnectivity", "mktCampaign", "searchQuery", "externalId"):
        if name in payload:
            data[name] = payload[name]
    data.update(
        id=event_id,
        customerId=payload["customerId"],
        customerIdType="cookie",
        session=response_session(state),
        attributes=payload.get("attributes", {}),
        traits=payload.get("traits", {}),
        createdDate=created,
    )
    return wire_ingest.AppEventResponse.model_validate(data)


def event_view(
    event_id: str,
    kind: str,
    created: datetime,
    payload: dict[str, Any],
    session: wire.EventSession,
    cookie: str,
) -> wire.Event:
    """A stored web or app event as an Event of the listing."""
    body = {k: v for k, v in payload.items() if k not in ("customerId", "externalId")}
    body.setdefault("attributes", {})
    body.setdefault("traits", {})
    base = _event_base(event_id, created, session, cookie)
    if kind == "web":
        return wire.Event.model_validate({**base, "eventType": WEB_EVENT, "webEvent": body})
    return wire.Event.model_validate({**base, "eventType": APP_EVENT, "appEvent": body})


def _event_base(event_id: str, created: datetime, session: wire.EventSession, cookie: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "correlationId": event_id,
        "customerId": cookie,
        "customerIdType": "cookie",
        "session": session,
        "createdDate": created,
    }


def rule_events(
    state: SessionState, session: wire.EventSession, cookie: str, names: dict[str, str]
) -> Iterator[tuple[tuple[str, str], wire.Event]]:
    """The SegmentAssignmentEvent / OutcomeAchievedEvent of each rule the session matched, with
    deterministic ids (session uuid + rule id) and the time of the event that made it match."""
    for field, kind in (("segments", SEGMENT_EVENT), ("outcomes", OUTCOME_EVENT)):
        for match in state.wire.get(field, []):
            event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{state.uuid}/{match['id']}"))
            created = datetime.fromisoformat(match["date"].replace("Z", "+00:00"))
            data = {**_event_base(event_id, created, session, cookie), "eventType": kind}
            if kind == SEGMENT_EVENT:
                data["segmentAssignmentEvent"] = {"segment": ref("/api/v2/journey/segments", match["id"])}
            else:
                # An outcome deleted since keeps its id for a name.
                outcome = {
                    **ref("/api/v2/journey/outcomes", match["id"]),
                    "displayName": names.get(match["id"], match["id"]),
                }
                data["outcomeAchievedEvent"] = {
                    "outcome": outcome,
                    "visitCreatedDate": millis_z(state.created),
                }
            # Right after the event that made the rule match (same time, the event's id as a prefix).
            key = (sort_key(created, "")[0], f"{match['event']}/{match['id']}")
            yield key, wire.Event.model_validate(data)
