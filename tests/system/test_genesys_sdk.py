"""The official `purecloudplatformclientv2` client, unmodified, against a live server: web and app events
posted through JourneyApi, then the session, its events (following nextUri to the end), its outcome
scores and a contact's sessions, asserting on the deserialized values; errors as ApiException."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import PureCloudPlatformClientV2 as G
import pytest
from PureCloudPlatformClientV2.rest import ApiException

from sessionary.db import Database, session_scope
from sessionary.journey import rules
from tests.conftest import Org
from tests.helpers import LiveServer, event, ingest_ok
from tests.journey.builders import UA_IPHONE, cookie, make_deployment


def _api(server: LiveServer, key: str) -> G.JourneyApi:
    client = G.ApiClient(host=server.url)
    client.access_token = key
    return G.JourneyApi(client)


@pytest.fixture
def journey(server: LiveServer, org: Org) -> G.JourneyApi:
    return _api(server, org.read)


@pytest.fixture
def t0() -> datetime:
    """Half an hour ago: inside the one-hour window of the ingest endpoints."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)


def _web_event(t0: datetime, visitor: str, minute: int, path: str, **fields: object) -> G.WebEventRequest:
    body = G.WebEventRequest()
    body.customer_cookie_id = visitor
    body.event_name = "page_viewed"
    page = G.RequestPage()
    page.url = f"https://www.example.com{path}"
    page.title = f"Page {path}"
    body.page = page
    body.user_agent_string = UA_IPHONE
    body.created_date = t0 + timedelta(minutes=minute)
    for name, value in fields.items():
        setattr(body, name, value)
    return body


def _app_event(t0: datetime, visitor: str, minute: int, screen: str) -> G.AppEventRequest:
    body = G.AppEventRequest()
    body.customer_cookie_id = visitor
    body.event_name = "screen_viewed"
    body.screen_name = screen
    app = G.JourneyApp()
    app.name, app.namespace, app.version, app.build_number = "bank", "com.example.bank", "5.9.27", "701"
    body.app = app
    device = G.RequestDevice()
    device.category, device.type, device.os_family, device.os_version = "mobile", "iPhone", "iOS", "17.4"
    body.device = device
    body.created_date = (t0 + timedelta(minutes=minute)).replace(tzinfo=None)  # naive: sent without offset
    return body


def test_sdk_posts_web_events_and_reads_the_session_and_every_event_page(
    journey: G.JourneyApi, database: Database, org: Org, t0: datetime
) -> None:
    deployment = make_deployment(database, org.id, "example.com")
    visitor = cookie()
    landing = "/?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=abc123"
    first = journey.post_journey_deployment_webevents(
        deployment,
        body=_web_event(t0, visitor, 0, landing, referrer_url="https://www.google.com/search?q=red+shoes"),
    )
    assert isinstance(first, G.WebEventResponse)
    assert (first.customer_id, first.customer_id_type, first.event_name) == (visitor, "cookie", "page_viewed")
    assert (first.browser.family, first.device.category, first.device.os_family) == (
        "Mobile Safari",
        "mobile",
        "iOS",
    )
    assert (first.mkt_campaign.source, first.mkt_campaign.click_id, first.mkt_campaign.network) == (
        "google",
        "abc123",
        "google",
    )
    assert first.session.event_count == 1
    for minute in range(1, 6):
        last = journey.post_journey_deployment_webevents(
            deployment, body=_web_event(t0, visitor, minute, f"/p{minute}")
        )
    assert last.session.id == first.session.id
    assert (last.session.event_count, last.session.pageview_count) == (6, 6)
    assert last.session.created_date == t0
    assert last.session.referrer.medium == "paid"  # a click id makes the search visit a paid one

    session = journey.get_journey_session(first.session.id)
    assert isinstance(session, G.Session)
    assert (session.id, session.type, session.customer_id) == (first.session.id, "web", visitor)
    assert (session.event_count, session.pageview_count, session.duration_in_seconds) == (6, 6, 300)
    assert session.created_date == t0
    assert session.last_page.pathname == "/p5"
    assert (session.referrer.name, session.referrer.keywords) == ("Google", "red shoes")
    assert session.mkt_campaign.name == "spring"
    assert session.last_event.event_name == "page_viewed"
    assert session.short_id.isdigit()
    assert session.idle_date == t0 + timedelta(minutes=5, seconds=45)

    events, page = [], journey.get_journey_session_events(session.id, page_size="4")
    while True:
        assert isinstance(page, G.EventListing)
        events += page.entities
        if not page.next_uri:
            break
        cursor = page.next_uri.split("after=")[1].split("&")[0]
        page = journey.get_journey_session_events(session.id, page_size="4", after=cursor)
    assert [e.web_event.page.pathname for e in events] == ["/", "/p1", "/p2", "/p3", "/p4", "/p5"]
    assert {e.event_type for e in events} == {"com.genesys.journey.WebEvent"}
    assert [e.created_date for e in events] == [t0 + timedelta(minutes=m) for m in range(6)]
    assert events[0].web_event.total_pageview_count == 1
    filtered = journey.get_journey_session_events(session.id, event_type="com.genesys.journey.AppEvent")
    assert filtered.entities == []


def test_sdk_posts_app_events_with_a_naive_created_date(
    journey: G.JourneyApi, database: Database, org: Org, t0: datetime
) -> None:
    deployment = make_deployment(database, org.id)
    visitor = cookie()
    answers = [
        journey.post_journey_deployment_appevents(deployment, body=_app_event(t0, visitor, n, s))
        for n, s in enumerate(["Home", "Pay"])
    ]
    assert isinstance(answers[-1], G.AppEventResponse)
    assert answers[-1].session.id == answers[0].session.id
    assert answers[-1].session.screenview_count == 2
    assert answers[-1].app.namespace == "com.example.bank"
    session = journey.get_journey_session(answers[0].session.id)
    assert (session.type, session.last_screen, session.screenview_count) == ("app", "Pay", 2)
    assert session.created_date == t0


def test_sdk_raises_api_exception_for_unknown_ids_and_wrong_keys(
    journey: G.JourneyApi, server: LiveServer, t0: datetime
) -> None:
    with pytest.raises(ApiException) as missing:
        journey.get_journey_session("0f8fad5b-d9cb-469f-a165-70867728950e")
    assert missing.value.status == 404
    with pytest.raises(ApiException) as unknown:
        journey.post_journey_deployment_webevents(
            "0f8fad5b-d9cb-469f-a165-70867728950e", body=_web_event(t0, cookie(), 0, "/")
        )
    assert unknown.value.status == 404
    with pytest.raises(ApiException) as denied:
        _api(server, "sk_wrong").get_journey_session("0f8fad5b-d9cb-469f-a165-70867728950e")
    assert denied.value.status == 401


def test_sdk_reads_outcome_scores_and_a_contacts_web_and_call_sessions(
    journey: G.JourneyApi, server: LiveServer, database: Database, org: Org, t0: datetime
) -> None:
    with session_scope(database.writer) as db:
        outcome = rules.create_rule(
            db, organization_id=org.id, kind="outcome", name="Two pages", conditions=["pageviewCount >= 2"]
        ).id
    deployment = make_deployment(database, org.id)
    email = G.CustomEventAttribute()
    email.data_type, email.value = "string", "SDK.User@example.com"
    first = journey.post_journey_deployment_webevents(
        deployment, body=_web_event(t0, cookie(), 0, "/", traits={"email": email})
    )
    journey.post_journey_deployment_webevents(deployment, body=_web_event(t0, first.customer_id, 1, "/two"))
    with pytest.warns(DeprecationWarning, match="outcomescores"):  # the SDK marks it deprecated
        scores = journey.get_journey_session_outcomescores(first.session.id)
    assert [(s.outcome.id, s.probability) for s in scores.outcome_scores] == [(outcome, 1.0)]
    session = journey.get_journey_session(first.session.id)
    assert session.outcome_achievements[0].outcome.id == outcome
    assert session.outcome_achievements[0].achieved_date == t0 + timedelta(minutes=1)
    contact = session.external_contact.id

    call = {"channel_manager_type": "voice_sip_v1", "is_outbound": False, "source": "sdk.user@example.com"}
    with httpx.Client(base_url=server.url) as http:
        at = (t0 + timedelta(minutes=5)).isoformat()
        ingest_ok(
            http, org.ingest, [event("sdk-call", "session.started", sid="sdk-call", timestamp=at, data=call)]
        )

    listed, page = [], journey.get_externalcontacts_contact_journey_sessions(contact, page_size="1")
    while True:
        assert isinstance(page, G.SessionListing)
        listed += page.entities
        if not page.next_uri:
            break
        cursor = page.next_uri.split("after=")[1].split("&")[0]
        page = journey.get_externalcontacts_contact_journey_sessions(contact, page_size="1", after=cursor)
    assert [s.type for s in listed] == ["conversation", "web"]
    voice, web = listed
    assert (voice.originating_direction, voice.conversation_channels[0].type) == ("Inbound", "Call")
    assert voice.external_contact.id == contact
    assert (web.id, web.pageview_count, web.customer_id) == (first.session.id, 2, first.customer_id)
    merged = journey.get_externalcontacts_contact_journey_sessions(contact, include_merged=True)
    assert [s.id for s in merged.entities] == [s.id for s in listed]
