"""Segments and outcomes: rules over session fields recorded on the session, listed as events, scored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sessionary.db import Database, session_scope
from sessionary.journey import rules
from tests.conftest import Org
from tests.journey.builders import (
    bearer,
    cookie,
    get_session,
    iso,
    make_deployment,
    minutes,
    now,
    web,
    web_ok,
)

SEGMENT_EVENT = "com.genesys.journey.SegmentAssignmentEvent"
OUTCOME_EVENT = "com.genesys.journey.OutcomeAchievedEvent"


def _rule(database: Database, org: Org, kind: str, name: str, *conditions: str) -> str:
    with session_scope(database.writer) as db:
        return rules.create_rule(db, organization_id=org.id, kind=kind, name=name, conditions=conditions).id


@pytest.fixture
def visit(client: httpx.Client, database: Database, org: Org) -> dict[str, Any]:
    """A search visit of three page views and an order; the rules made before it."""
    ids = {
        "searchers": _rule(database, org, "segment", "Searchers", "referrer.medium == search"),
        "engaged": _rule(database, org, "segment", "Engaged", "pageviewCount >= 3"),
        "mobile": _rule(database, org, "segment", "Mobile", "device.category == mobile"),
        "bought": _rule(database, org, "outcome", "Bought", "eventName == order_completed"),
        "newsletter": _rule(
            database, org, "outcome", "Newsletter", "pageviewCount >= 2", "eventName == joined"
        ),
    }
    deployment, visitor, t0 = make_deployment(database, org.id), cookie(), now() - minutes(10)
    first = web(visitor, t0, referrerUrl="https://www.bing.com/search?q=boots")
    session_id = web_ok(client, deployment, first)["session"]["id"]
    for m, name in ((1, "page_viewed"), (2, "page_viewed"), (3, "order_completed")):
        web_ok(client, deployment, web(visitor, t0 + minutes(m), name))
    return {"ids": ids, "session": session_id, "t0": t0}


def _date(value: Any) -> str:
    return iso(value).replace("Z", ".000Z")


def test_the_session_records_each_segment_and_outcome_when_it_first_matched(
    client: httpx.Client, org: Org, visit: dict[str, Any]
) -> None:
    session = get_session(client, org.read, visit["session"])
    ids, t0 = visit["ids"], visit["t0"]
    assert [(a["segment"]["id"], a["assignedDate"]) for a in session["segmentAssignments"]] == [
        (ids["searchers"], _date(t0)),
        (ids["engaged"], _date(t0 + minutes(2))),
    ]
    assert [(a["outcome"]["id"], a["achievedDate"]) for a in session["outcomeAchievements"]] == [
        (ids["bought"], _date(t0 + minutes(3)))
    ]


def test_rule_events_appear_in_the_event_listing_in_time_order(
    client: httpx.Client, org: Org, visit: dict[str, Any]
) -> None:
    url = f"/api/v2/journey/sessions/{visit['session']}/events"
    listed = client.get(url, headers=bearer(org.read)).json()["entities"]
    kinds = [e["eventType"].rsplit(".", 1)[1] for e in listed]
    assert kinds == [
        "WebEvent",
        "SegmentAssignmentEvent",
        "WebEvent",
        "WebEvent",
        "SegmentAssignmentEvent",
        "WebEvent",
        "OutcomeAchievedEvent",
    ]
    only = client.get(
        url, params={"eventType": f"{SEGMENT_EVENT},{OUTCOME_EVENT}"}, headers=bearer(org.read)
    ).json()
    assert [e["eventType"] for e in only["entities"]] == [SEGMENT_EVENT, SEGMENT_EVENT, OUTCOME_EVENT]
    outcome = only["entities"][-1]["outcomeAchievedEvent"]["outcome"]
    assert (outcome["id"], outcome["displayName"]) == (visit["ids"]["bought"], "Bought")
    paged = client.get(url, params={"pageSize": "3"}, headers=bearer(org.read)).json()
    second = client.get(paged["nextUri"], headers=bearer(org.read)).json()
    third = client.get(second["nextUri"], headers=bearer(org.read)).json()
    assert [e["id"] for e in paged["entities"] + second["entities"] + third["entities"]] == [
        e["id"] for e in listed
    ]


def test_outcome_scores_are_one_when_achieved_else_the_share_of_conditions_met(
    client: httpx.Client, org: Org, visit: dict[str, Any]
) -> None:
    response = client.get(
        f"/api/v2/journey/sessions/{visit['session']}/outcomescores", headers=bearer(org.read)
    )
    assert response.status_code == 200, response.text
    scores = {s["outcome"]["id"]: s["probability"] for s in response.json()["outcomeScores"]}
    assert scores == {visit["ids"]["bought"]: 1.0, visit["ids"]["newsletter"]: 0.5}
