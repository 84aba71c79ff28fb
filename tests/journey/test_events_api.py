"""GET /api/v2/journey/sessions/{id}/events: cursor pages (pageSize, after, nextUri; limit, before),
the eventType filter, and 400s naming a bad parameter."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sessionary.db import Database
from tests.conftest import Org
from tests.journey.builders import bearer, cookie, make_deployment, minutes, now, web, web_ok

WEB = "com.genesys.journey.WebEvent"


@pytest.fixture
def session_id(client: httpx.Client, database: Database, org: Org) -> str:
    """A web session of seven events (the fourth and fifth at the same instant)."""
    deployment = make_deployment(database, org.id)
    visitor, t0 = cookie(), now() - minutes(30)
    offsets = [0, 1, 2, 3, 3, 5, 8]
    ids = {
        web_ok(client, deployment, web(visitor, t0 + minutes(m), url=f"https://a.example/{n}"))["session"][
            "id"
        ]
        for n, m in enumerate(offsets)
    }
    (only,) = ids
    return only


def _get(client: httpx.Client, org: Org, url: str, **params: str) -> httpx.Response:
    return client.get(url, params=params or None, headers=bearer(org.read))


def _page(client: httpx.Client, org: Org, url: str, **params: str) -> dict[str, Any]:
    response = _get(client, org, url, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_following_next_uri_walks_every_event_once_oldest_first(
    client: httpx.Client, org: Org, session_id: str
) -> None:
    url = f"/api/v2/journey/sessions/{session_id}/events"
    page = _page(client, org, url, pageSize="3")
    sizes, seen = [], []
    while True:
        sizes.append(len(page["entities"]))
        seen += [(e["createdDate"], e["webEvent"]["page"]["pathname"]) for e in page["entities"]]
        assert {e["session"]["id"] for e in page["entities"]} == {session_id}
        if "nextUri" not in page:
            break
        page = _page(client, org, page["nextUri"])
    assert sizes == [3, 3, 1]
    assert [date for date, _ in seen] == sorted(date for date, _ in seen)
    assert sorted(path for _, path in seen) == [f"/{n}" for n in range(7)]
    totals = [e["webEvent"]["totalEventCount"] for e in _page(client, org, url, pageSize="200")["entities"]]
    assert sorted(totals) == list(range(1, 8))  # the customer's count when each event was received


def test_limit_and_before_are_accepted_as_the_older_paging_names(
    client: httpx.Client, org: Org, session_id: str
) -> None:
    url = f"/api/v2/journey/sessions/{session_id}/events"
    everything = _page(client, org, url, pageSize="200")["entities"]
    first_two = _page(client, org, url, limit="2")
    assert [e["id"] for e in first_two["entities"]] == [e["id"] for e in everything[:2]]
    after = _page(client, org, first_two["nextUri"])
    cursor = after["nextUri"].split("after=")[1]
    before = _page(client, org, url, limit="2", before=cursor)  # the two events before the fourth
    assert [e["id"] for e in before["entities"]] == [e["id"] for e in everything[1:3]]
    earliest = _page(client, org, before["previousUri"])
    assert [e["id"] for e in earliest["entities"]] == [everything[0]["id"]]
    assert "previousUri" not in earliest


def test_the_event_type_filter_takes_a_comma_list_of_journey_types(
    client: httpx.Client, org: Org, session_id: str
) -> None:
    url = f"/api/v2/journey/sessions/{session_id}/events"
    web_only = _page(client, org, url, eventType=f"{WEB},com.genesys.journey.SegmentAssignmentEvent")
    assert {e["eventType"] for e in web_only["entities"]} == {WEB}
    assert len(web_only["entities"]) == 7
    assert _page(client, org, url, eventType="com.genesys.journey.AppEvent")["entities"] == []
    bad = _get(client, org, url, eventType="com.genesys.journey.Nope")
    assert bad.status_code == 400
    assert bad.json()["message"].startswith("eventType")


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"pageSize": "0"}, "pageSize"),
        ({"pageSize": "201"}, "pageSize"),
        ({"pageSize": "ten"}, "pageSize"),
        ({"limit": "-1"}, "limit"),
        ({"after": "%%%"}, "after"),
        ({"after": "bm90LWEtY3Vyc29y"}, "after"),
    ],
)
def test_a_bad_paging_parameter_is_400_naming_it(
    client: httpx.Client, org: Org, session_id: str, params: dict[str, str], named: str
) -> None:
    response = _get(client, org, f"/api/v2/journey/sessions/{session_id}/events", **params)
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith(named)


def test_another_organizations_key_sees_no_session_and_no_events(
    client: httpx.Client, other_org: Org, session_id: str
) -> None:
    for suffix in ("", "/events", "/outcomescores"):
        response = _get(client, other_org, f"/api/v2/journey/sessions/{session_id}{suffix}")
        assert response.status_code == 404
