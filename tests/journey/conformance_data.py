"""Realistic /api/v2 traffic of one organization for the wire conformance test: web visits (search, paid
and social referrers, UTM campaigns, browser and device sent or parsed from the user agent or neither,
geolocation, traits, attributes), app visits, segments and outcomes achieved, a contact with web and app
sessions and native calls, chats and messages read through /api/v2, and errors of each status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from sessionary.db import Database, session_scope
from sessionary.journey import rules
from sessionary.journey.read.conversations import native_uuid
from tests.conftest import Org, make_org
from tests.helpers import event, ingest_ok, list_sessions
from tests.journey import mmdb
from tests.journey.builders import (
    UA_CHROME,
    UA_IPHONE,
    app_body,
    bearer,
    cookie,
    make_deployment,
    minutes,
    now,
    web,
)


@dataclass
class Responses:
    """The responses the organization's calls got, by operation (ErrorBody ones under `error`)."""

    org: Org
    by_operation: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    web_sessions: list[str] = field(default_factory=list)
    app_sessions: list[str] = field(default_factory=list)
    native_sessions: list[str] = field(default_factory=list)
    contact: str = ""

    def record(self, operation: str, response: httpx.Response, status: int) -> dict[str, Any]:
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        key = "error" if status >= 400 else operation
        self.by_operation.setdefault(key, []).append(body)
        return body


def _attr(value: str, kind: str = "string") -> dict[str, str]:
    return {"dataType": kind, "value": value}


def _web_visits(http: httpx.Client, deployment: str, seen: Responses) -> None:
    """Visits whose events carry every optional part a browser may send, or none of them (no user agent,
    no title, a page and a referrer without a host)."""
    t0, ann, bob, cid, dan = now() - minutes(50), cookie(), cookie(), cookie(), cookie()
    paid = "https://www.example.com/shoes?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=x1#top"
    tablet = {
        "category": "tablet",
        "type": "iPad",
        "osFamily": "iOS",
        "osVersion": "17",
        "screenHeight": 1024,
    }
    desktop = {"category": "desktop", "type": "Other", "osFamily": "Linux", "osVersion": "6"}
    cart = {"url": "https://www.example.com/cart", "title": "Cart", "lang": "en", "keywords": "k"}
    sent = [
        (
            ann,
            None,
            web(
                ann,
                t0,
                url=paid,
                userAgentString=UA_CHROME,
                ipAddress=mmdb.PARIS,
                referrerUrl="https://www.google.com/search?q=red+shoes",
                searchQuery="red shoes",
                attributes={"plan": _attr("gold"), "visits": _attr("3", "number")},
                traits={"email": _attr("ann@example.com")},
            ),
        ),
        (
            ann,
            None,
            web(
                ann,
                t0 + minutes(1),
                "form_submitted",
                page=cart,
                externalId="crm-ann",
                userAgentString=UA_CHROME,
                attributes={"plan": _attr("platinum")},
            ),
        ),
        (ann, None, web(ann, t0 + minutes(2), "order_completed", url="https://shop.example.com/done")),
        (
            bob,
            UA_IPHONE,
            web(
                bob,
                t0,
                referrerUrl="https://m.facebook.com/",
                ipAddress=mmdb.NO_CITY,
                browser={"family": "Firefox", "version": "126.0", "lang": "de-DE"},
                device=desktop,
            ),
        ),
        (
            bob,
            UA_IPHONE,
            web(
                bob,
                t0 + minutes(1),
                url="https://www.example.com/x?q=1",
                referrerUrl="android-app://gm/",
                device={**tablet, "fingerprint": "f1"},
            ),
        ),
        (cid, None, web(cid, t0, userAgentString="curl/8.5.0", referrerUrl="https://www.example.com/from")),
        (dan, None, {**web(dan, t0, referrerUrl="/relative"), "page": {"url": "/local/page"}}),
    ]
    for _visitor, agent, body in sent:
        answer = seen.record(
            "postJourneyDeploymentWebevents",
            http.post(
                f"/api/v2/journey/deployments/{deployment}/webevents",
                json=body,
                headers={"User-Agent": agent or ""},
            ),
            201,
        )
        if answer["session"]["id"] not in seen.web_sessions:
            seen.web_sessions.append(answer["session"]["id"])


def _app_visits(http: httpx.Client, deployment: str, seen: Responses) -> None:
    """App events with every optional part, and devices without isMobile sent with the official client's
    user agent (which tells nothing of the device) or none."""
    t0, first, second = now() - minutes(40), cookie(), cookie()
    network = {"carrier": "Orange", "bluetoothEnabled": False, "cellularEnabled": True, "wifiEnabled": False}
    traits = {"cellPhone": _attr("+1 804 222 0001"), "email": _attr("ann@example.com")}
    sent = [
        (
            UA_IPHONE,
            app_body(
                first,
                t0,
                sdkLibrary={"name": "genesys-ios", "version": "1.2"},
                referrerUrl="https://a.example/?utm_source=mail",
                networkConnectivity=network,
                traits=traits,
            ),
        ),
        (
            "PureCloud SDK/python",
            app_body(
                first,
                t0 + minutes(1),
                "paid",
                "Pay",
                searchQuery="balance",
                attributes={"tier": _attr("b")},
                externalId="crm-app",
            ),
        ),
        ("", app_body(second, t0, "screen_viewed", "Home")),
    ]
    sent[0][1]["device"].update(isMobile=True, fingerprint="ff", manufacturer="Apple")
    for agent, body in sent:
        answer = seen.record(
            "postJourneyDeploymentAppevents",
            http.post(
                f"/api/v2/journey/deployments/{deployment}/appevents",
                json=body,
                headers={"User-Agent": agent},
            ),
            201,
        )
        if answer["session"]["id"] not in seen.app_sessions:
            seen.app_sessions.append(answer["session"]["id"])


def _natives(http: httpx.Client, org: Org, seen: Responses) -> None:
    """A call from the contact's phone, a web chat from its email, an SMS thread and a call with no source."""
    at = now() - minutes(30)
    stamp = at.isoformat()
    made = [
        (
            "call-1",
            {
                "channel_manager_type": "voice_sip_v1",
                "is_outbound": False,
                "source": "+18042220001",
                "conversation_id": "conv-1",
            },
        ),
        ("chat-1", {"channel_manager_type": "webchat", "source": "ann@example.com"}),
        ("sms-1", {"channel_manager_type": "sms_twilio", "is_outbound": True, "source": "+18042220001"}),
        ("call-2", {"channel_manager_type": "voice_sip_v1"}),
    ]
    events = []
    for sid, data in made:
        events.append(event(f"{sid}-s", "session.started", sid=sid, timestamp=stamp, data=data))
        events.append(
            event(f"{sid}-t", "transcript", sid=sid, timestamp=(at + timedelta(seconds=5)).isoformat())
        )
    events.append(
        event(
            "call-1-e",
            "session.ended",
            sid="call-1",
            timestamp=(at + minutes(2)).isoformat(),
            data={"user_terminated": True},
        )
    )
    ingest_ok(http, org.ingest, events)
    listed = list_sessions(http, org.read, limit=10)["items"]
    seen.native_sessions = [
        native_uuid(int(s["session_id"])) for s in listed if s["channel_manager_service"] != "journey"
    ]
    assert len(seen.native_sessions) == len(made)


def _reads(http: httpx.Client, seen: Responses) -> None:
    """Every read: each session, its events a page at a time, its outcome scores; the contact's sessions."""
    auth = bearer(seen.org.read)
    for session_id in seen.web_sessions + seen.app_sessions + seen.native_sessions:
        url = f"/api/v2/journey/sessions/{session_id}"
        session = seen.record("getJourneySession", http.get(url, headers=auth), 200)
        if "externalContact" in session and not seen.contact:
            seen.contact = session["externalContact"]["id"]
        page = seen.record("getJourneySessionEvents", http.get(f"{url}/events?pageSize=2", headers=auth), 200)
        while "nextUri" in page:
            page = seen.record("getJourneySessionEvents", http.get(page["nextUri"], headers=auth), 200)
        seen.record("getJourneySessionOutcomescores", http.get(f"{url}/outcomescores", headers=auth), 200)
    assert seen.contact
    contact_url = f"/api/v2/externalcontacts/contacts/{seen.contact}/journey/sessions"
    for merged in ("false", "true"):
        page = seen.record(
            "getExternalcontactsContactJourneySessions",
            http.get(contact_url, params={"pageSize": "2", "includeMerged": merged}, headers=auth),
            200,
        )
        while "nextUri" in page:
            page = seen.record(
                "getExternalcontactsContactJourneySessions", http.get(page["nextUri"], headers=auth), 200
            )


def _errors(http: httpx.Client, deployment: str, narrow: str, seen: Responses) -> None:
    """A 400, 401, 403, 404, 405 and 413 of each kind the face gives."""
    ingest = f"/api/v2/journey/deployments/{deployment}/webevents"
    session = f"/api/v2/journey/sessions/{seen.web_sessions[0]}"
    auth = bearer(seen.org.read)
    old = web(cookie(), now() - timedelta(days=3))
    calls = [
        (http.post(ingest, json={"eventName": "x y"}), 400),
        (http.post(ingest, json=old), 400),
        (http.post(ingest, content=b"{not json", headers={"Content-Type": "application/json"}), 400),
        (http.post(ingest, json={**old, "page": {"url": "https://x.example/" + "a" * 300_000}}), 413),
        (http.post(f"/api/v2/journey/deployments/{narrow}/webevents", json=web(cookie(), now())), 403),
        (http.post("/api/v2/journey/deployments/nope/webevents", json=web(cookie(), now())), 404),
        (http.get(ingest), 405),
        (http.get(session), 401),
        (http.get(session, headers=bearer("wrong")), 401),
        (http.get(session, headers=bearer(seen.org.ingest)), 403),
        (http.get("/api/v2/journey/sessions/5e551000-0000-0000-0000-000000000000", headers=auth), 404),
        (http.get(f"{session}/events", params={"eventType": "nope"}, headers=auth), 400),
        (http.get(f"{session}/events", params={"pageSize": "0"}, headers=auth), 400),
        (http.get(f"{session}/events", params={"after": "zz"}, headers=auth), 400),
        (http.get("/api/v2/externalcontacts/contacts/nobody/journey/sessions", headers=auth), 404),
        (http.get("/api/v2/no/such/path", headers=auth), 404),
    ]
    for response, status in calls:
        seen.record("error", response, status)


def record_everything(http: httpx.Client, database: Database) -> Responses:
    """One organization's worth of realistic /api/v2 traffic, every response kept."""
    org = make_org(database)
    with session_scope(database.writer) as db:
        rules.create_rule(
            db,
            organization_id=org.id,
            kind="segment",
            name="Searchers",
            conditions=["referrer.medium == paid"],
        )
        rules.create_rule(
            db,
            organization_id=org.id,
            kind="outcome",
            name="Bought",
            conditions=["eventName == order_completed"],
        )
        rules.create_rule(
            db, organization_id=org.id, kind="outcome", name="Paid in app", conditions=["eventName == paid"]
        )
        rules.create_rule(
            db, organization_id=org.id, kind="outcome", name="Never", conditions=["eventCount > 99"]
        )
    deployment = make_deployment(database, org.id)
    narrow = make_deployment(database, org.id, "elsewhere.example")
    seen = Responses(org)
    _web_visits(http, deployment, seen)
    _app_visits(http, deployment, seen)
    _natives(http, org, seen)
    _reads(http, seen)
    _errors(http, deployment, narrow, seen)
    return seen
