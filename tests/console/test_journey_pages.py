"""Journey (web/app) sessions in the console: their list columns, the journey block of the session page
(page trail, campaign, referrer, device) and the same customer's other sessions, visits and calls."""

from __future__ import annotations

import re

import httpx
import pytest

from sessionary.db import Database
from sessionary.journey.read.conversations import native_id
from tests.conftest import Org
from tests.console.data import session_ids
from tests.console.helpers import signed_in
from tests.console.journey_data import Customer, build_customer
from tests.helpers import LiveServer
from tests.journey.builders import bearer


@pytest.fixture
def customer(client: httpx.Client, database: Database, org: Org) -> Customer:
    return build_customer(client, database, org.id, ingest_key=org.ingest, read_key=org.read)


def _row(html: str, session_id: str) -> list[str]:
    """The cells of the list row linking to this session, tags stripped."""
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        if f'href="/sessions/{session_id}"' in row:
            return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    raise AssertionError(f"no row for session {session_id}")


def _others(html: str) -> list[str]:
    block = html.split('id="customer-h"', 1)
    return re.findall(r'href="/sessions/(\d+)"', block[1]) if len(block) == 2 else []


def test_the_list_shows_journey_columns(server: LiveServer, org: Org, customer: Customer) -> None:
    with signed_in(server.url, org.read) as http:
        page = http.get("/sessions", params={"range": "all"})
    assert page.status_code == 200
    for header in ("Pages", "Referrer", "Campaign", "Device"):
        assert f">{header}<" in page.text
    visit = _row(page.text, customer.visit)
    assert visit[-4:] == ["3", "email / google.com", "newsletter / Spring Sale", "mobile / iOS"]
    call = _row(page.text, customer.call)
    assert call[-4:] == ["", "", "", ""]


def test_a_visit_shows_its_trail_and_the_customers_other_sessions(
    server: LiveServer, org: Org, customer: Customer
) -> None:
    with signed_in(server.url, org.read) as http:
        page = http.get(f"/sessions/{customer.visit}")
    assert page.status_code == 200
    trail = page.text.split("Page trail", 1)[1].split("</ol>", 1)[0]
    assert re.findall(r"</time> (\w[\w ]*) <small>", trail) == ["Spring sale", "Shoes", "Checkout"]
    assert "0:00" in trail
    assert "2:00" in trail
    for fact in ("newsletter / Spring Sale", "email / google.com", "mobile / iOS"):
        assert fact in page.text
    # Newest first: the call, then the other visit; never the stranger's call nor the page's own session.
    assert _others(page.text) == [customer.call, customer.other_visit]


def test_a_call_from_the_contacts_number_links_back_to_the_visits(
    server: LiveServer, org: Org, other_org: Org, customer: Customer
) -> None:
    with signed_in(server.url, org.read) as http:
        call = http.get(f"/sessions/{customer.call}")
        stranger = http.get(f"/sessions/{customer.stranger_call}")
    assert _others(call.text) == [customer.other_visit, customer.visit]
    assert "Page trail" not in call.text
    assert 'id="customer-h"' not in stranger.text
    with signed_in(server.url, other_org.read) as http:
        assert http.get(f"/sessions/{customer.visit}").status_code == 404


def test_a_visits_other_sessions_are_its_contacts_sessions_on_api_v2(
    server: LiveServer, client: httpx.Client, org: Org, customer: Customer
) -> None:
    """The console's block and GET .../contacts/{id}/journey/sessions read one query: they must agree."""
    by_sid = session_ids(client, org.read)  # a journey session's sid is its /api/v2 id
    visit_uuid = next(sid for sid, number in by_sid.items() if number == customer.visit)
    visit = client.get(f"/api/v2/journey/sessions/{visit_uuid}", headers=bearer(org.read)).json()
    contact = visit["externalContact"]["id"]
    listed = client.get(
        f"/api/v2/externalcontacts/contacts/{contact}/journey/sessions",
        params={"includeMerged": "true"},
        headers=bearer(org.read),
    ).json()["entities"]
    on_api = {by_sid.get(e["id"]) or str(native_id(e["id"])) for e in listed}
    with signed_in(server.url, org.read) as http:
        page = http.get(f"/sessions/{customer.visit}")
    assert (
        on_api
        == {customer.visit, *_others(page.text)}
        == {customer.visit, customer.other_visit, customer.call}
    )


def test_metrics_count_journeys_pageviews_media_and_campaigns(
    client: httpx.Client, org: Org, customer: Customer
) -> None:
    response = client.get("/api/v1/metrics", headers=org.headers("read"))
    assert response.status_code == 200, response.text
    journey = response.json()["journey"]
    assert (journey["sessions"], journey["pageviews"]) == (2, 4)
    assert journey["top_referrer_media"] == [{"name": "email", "sessions": 1}]
    assert journey["top_campaigns"] == [{"name": "Spring Sale", "sessions": 1}]
    voice_only = client.get("/api/v1/metrics", params={"session_type": "voice"}, headers=org.headers("read"))
    assert voice_only.json()["journey"]["sessions"] == 0
