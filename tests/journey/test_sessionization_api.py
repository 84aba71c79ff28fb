"""Sessionization through the webevents/appevents endpoints: timeout and campaign splits, late and
out-of-order events, counters and projections, dates, shortId, and the /api/v1 view of the same row."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from sessionary.db import Database
from tests.conftest import Org
from tests.helpers import list_sessions
from tests.journey.builders import (
    app_body,
    bearer,
    cookie,
    get_session,
    iso,
    make_deployment,
    minutes,
    now,
    post_app,
    web,
    web_ok,
)

SITE = "https://www.example.com"


@pytest.fixture
def deployment_id(database: Database, org: Org) -> str:
    return make_deployment(database, org.id, "example.com")


def _sessions_of(responses: list[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for response in responses:
        if response["session"]["id"] not in seen:
            seen.append(response["session"]["id"])
    return seen


def test_a_gap_longer_than_the_timeout_starts_a_new_session_and_the_old_one_ends_at_its_last_event(
    client: httpx.Client, org: Org, deployment_id: str
) -> None:
    visitor, t0 = cookie(), now() - minutes(45)
    answers = [
        web_ok(client, deployment_id, web(visitor, t0 + minutes(m), url=f"{SITE}/p{m}")) for m in (0, 10, 31)
    ]
    first, second = _sessions_of(answers)
    assert [a["session"]["id"] for a in answers] == [first, first, second]
    old = get_session(client, org.read, first)
    assert (old["eventCount"], old["pageviewCount"], old["durationInSeconds"]) == (2, 2, 600)
    assert old["createdDate"] == iso(t0).replace("Z", ".000Z")
    assert old["endedDate"] == iso(t0 + minutes(10)).replace("Z", ".000Z")  # last activity
    new = get_session(client, org.read, second)
    assert "endedDate" not in new  # its last event was 14 minutes ago: still open
    assert new["lastPage"]["pathname"] == "/p31"


def test_a_landing_from_another_campaign_starts_a_new_session_and_ends_the_open_one(
    client: httpx.Client, org: Org, deployment_id: str
) -> None:
    visitor, t0 = cookie(), now() - minutes(5)
    spring = f"{SITE}/?utm_source=google&utm_medium=cpc&utm_campaign=spring"
    answers = [
        web_ok(client, deployment_id, web(visitor, t0, url=spring)),
        web_ok(
            client, deployment_id, web(visitor, t0 + minutes(1), url=f"{SITE}/shoes")
        ),  # no campaign: same
        web_ok(client, deployment_id, web(visitor, t0 + minutes(2), url=spring)),  # same campaign: same
        web_ok(
            client,
            deployment_id,
            web(visitor, t0 + minutes(3), url=f"{SITE}/?utm_source=newsletter&utm_campaign=may"),
        ),
    ]
    first, second = _sessions_of(answers)
    assert [a["session"]["id"] for a in answers] == [first] * 3 + [second]
    old, new = get_session(client, org.read, first), get_session(client, org.read, second)
    assert old["mktCampaign"] == {"source": "google", "medium": "cpc", "name": "spring"}
    assert old["endedDate"] == iso(t0 + minutes(2)).replace("Z", ".000Z")
    assert new["mktCampaign"] == {"source": "newsletter", "name": "may"}
    assert "endedDate" not in new


def _journey_ids(client: httpx.Client, org: Org, visitor: str) -> list[str]:
    """The ids of the visitor's sessions, as /api/v1 lists them (source = the customer cookie)."""
    listed = list_sessions(client, org.read, search_fields="source", search_field_values=visitor)
    return sorted(item["channel_manager_sid"] for item in listed["items"])


def _view(session: dict[str, Any]) -> dict[str, Any]:
    """A session without what the server picks at random (id, shortId, event ids)."""
    skip = {"id", "shortId", "selfUri", "lastEvent"}
    return {k: v for k, v in session.items() if k not in skip} | {
        "lastEventName": session["lastEvent"]["eventName"]
    }


def test_out_of_order_events_give_the_same_sessions_as_in_order_ones(
    client: httpx.Client, org: Org, deployment_id: str
) -> None:
    t0 = now() - minutes(58)
    steps = [0, 2, 3, 7, 30, 31, 33, 40, 52]  # sessions: 0-7, 30-52 (gap 23 > 20)

    def bodies(visitor: str) -> list[dict[str, Any]]:
        return [
            web(
                visitor,
                t0 + minutes(m),
                "page_viewed" if m % 2 else "form_submitted",
                url=f"{SITE}/p{m}",
                searchQuery=f"q{m % 3}",
                attributes={"cart": {"dataType": "number", "value": str(m)}},
            )
            for m in steps
        ]

    in_order, shuffled = cookie(), cookie()
    ordered_ids = _sessions_of([web_ok(client, deployment_id, b) for b in bodies(in_order)])
    mixed = bodies(shuffled)
    random.Random(4).shuffle(mixed)
    for body in mixed:
        web_ok(client, deployment_id, body)
    mixed_ids = _journey_ids(client, org, shuffled)
    assert len(ordered_ids) == 2
    assert _journey_ids(client, org, in_order) == sorted(ordered_ids)
    expected = sorted(
        (_view(get_session(client, org.read, s)) for s in ordered_ids), key=lambda s: s["createdDate"]
    )
    got = sorted(
        (_view(get_session(client, org.read, s)) for s in set(mixed_ids)), key=lambda s: s["createdDate"]
    )
    # Sessions re-derived on a late event keep an id: the final two are among the ids answered.
    assert len(got) == 2
    for session in (*expected, *got):
        session.pop("customerId")
    assert got == expected
    assert expected[0]["attributes"] == {"cart": {"dataType": "number", "value": "7"}}
    assert expected[0]["attributeLists"]["cart"]["values"] == ["0", "2", "3", "7"]
    assert expected[0]["searchTerms"] == ["q0", "q2", "q1"]
    assert (expected[0]["eventCount"], expected[0]["pageviewCount"]) == (4, 2)


def test_a_late_event_bridging_two_sessions_merges_them_and_the_first_keeps_its_id(
    client: httpx.Client, org: Org, deployment_id: str
) -> None:
    visitor, t0 = cookie(), now() - minutes(50)
    first = web_ok(client, deployment_id, web(visitor, t0))["session"]["id"]
    second = web_ok(client, deployment_id, web(visitor, t0 + minutes(30)))["session"]["id"]
    assert first != second
    late = web_ok(client, deployment_id, web(visitor, t0 + minutes(15), url=f"{SITE}/middle"))
    assert late["session"]["id"] == first
    assert late["session"]["eventCount"] == 3
    merged = get_session(client, org.read, first)
    assert (merged["eventCount"], merged["durationInSeconds"]) == (3, 1800)
    assert merged["lastPage"]["pathname"] == "/"  # the latest event is the one at +30
    gone = client.get(f"/api/v2/journey/sessions/{second}", headers=bearer(org.read))
    assert gone.status_code == 404


def test_a_late_event_from_another_campaign_splits_the_session_it_lands_in(
    client: httpx.Client, org: Org, deployment_id: str
) -> None:
    visitor, t0 = cookie(), now() - minutes(30)
    first = web_ok(client, deployment_id, web(visitor, t0))["session"]["id"]
    web_ok(client, deployment_id, web(visitor, t0 + minutes(10)))
    late = web_ok(
        client, deployment_id, web(visitor, t0 + minutes(5), url=f"{SITE}/?utm_source=bing&utm_campaign=x")
    )
    assert late["session"]["id"] != first
    assert late["session"]["eventCount"] == 2  # the late landing and the event after it
    kept = get_session(client, org.read, first)
    assert (kept["eventCount"], kept["endedDate"]) == (1, iso(t0).replace("Z", ".000Z"))


def test_idle_and_away_dates_follow_the_last_activity_and_short_id_has_four_digits(
    client: httpx.Client, org: Org, deployment_id: str
) -> None:
    visitor, t0 = cookie(), now() - minutes(1)
    session_id = web_ok(client, deployment_id, web(visitor, t0))["session"]["id"]
    session = get_session(client, org.read, session_id)
    assert session["idleDate"] == iso(t0 + minutes(0.75)).replace("Z", ".000Z")
    assert session["awayDate"] == iso(t0 + minutes(1)).replace("Z", ".000Z")
    assert len(session["shortId"]) == 4
    assert session["shortId"].isdigit()
    assert "endedDate" not in session


def test_open_sessions_of_an_organization_have_distinct_short_ids(
    client: httpx.Client, org: Org, deployment_id: str
) -> None:
    t0 = now() - minutes(2)
    ids = [web_ok(client, deployment_id, web(cookie(), t0))["session"]["id"] for _ in range(30)]
    short = [get_session(client, org.read, s)["shortId"] for s in ids]
    assert len(set(short)) == 30


def test_authenticated_external_id_and_app_sessions_are_kept_apart_from_web_ones(
    client: httpx.Client, org: Org, deployment_id: str
) -> None:
    visitor, t0 = cookie(), now() - minutes(10)
    web_id = web_ok(client, deployment_id, web(visitor, t0, externalId="crm-42"))["session"]["id"]
    answers = []
    for n, screen in enumerate(["Home", "Accounts", "Transfer"]):
        response = post_app(client, deployment_id, app_body(visitor, t0 + minutes(n), screen=screen))
        assert response.status_code == 201, response.text
        answers.append(response.json())
    app_id = answers[0]["session"]["id"]
    assert {a["session"]["id"] for a in answers} == {app_id} != {web_id}
    assert answers[-1]["session"]["screenviewCount"] == 3
    app_session = get_session(client, org.read, app_id)
    assert (app_session["type"], app_session["lastScreen"], app_session["screenviewCount"]) == (
        "app",
        "Transfer",
        3,
    )
    assert app_session["app"]["namespace"] == "com.example.bank"
    assert app_session["authenticated"] is False
    web_session = get_session(client, org.read, web_id)
    assert (web_session["authenticated"], web_session["externalId"]) == (True, "crm-42")


def test_a_journey_session_is_listed_on_api_v1_as_a_web_session(
    client: httpx.Client, org: Org, deployment_id: str
) -> None:
    visitor = cookie()
    answer = web_ok(client, deployment_id, web(visitor, now() - minutes(3)))
    listed = list_sessions(client, org.read, search_fields="channel_manager_type", search_field_values="web")
    (item,) = [i for i in listed["items"] if i["channel_manager_sid"] == answer["session"]["id"]]
    assert (item["channel_manager_service"], item["channel_manager_type"], item["source"]) == (
        "journey",
        "web",
        visitor,
    )
    assert item["duration"] == 0.0
