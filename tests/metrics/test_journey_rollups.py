"""Journey figures from the rollups: equal to journey_session grouped directly, through inserts, late
re-derivations (new page views, medium, campaign, start day), deletions (merged sessions) and a deleted
session's id given to a new one, with every kind of filter; and a deletion alone is seen as pending."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sessionary.db import Database, session_scope
from sessionary.metrics import catchup, rollup
from sessionary.metrics.models import MetricsSessionState
from sessionary.sessions.filters import Direction, LabelCodeFilter, SessionFilter
from tests.conftest import Org
from tests.metrics.journey_data import (
    add_session,
    delete_sessions,
    direct_journey_figures,
    journey_owner,
    rederive,
)

DAY1 = datetime(2024, 6, 20, 9, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
BEFORE = DAY1 - timedelta(days=1)  # outside the range
RANGE = {"start_datetime": "2024-06-20T00:00:00Z", "end_datetime": "2024-06-22T00:00:00Z"}
SPAN = SessionFilter(start=datetime(2024, 6, 20, tzinfo=UTC), end=datetime(2024, 6, 22, tzinfo=UTC))
# (query parameters, the same filter, whether the rollups answer it)
FILTERS = [
    ({}, {}, True),
    ({"session_type": "web"}, {"session_type": "web"}, True),
    ({"channel_manager_type": "app"}, {"channel_type": "app"}, True),
    ({"is_test": "false"}, {"is_test": False}, True),
    ({"session_type": "web", "is_test": "true"}, {"session_type": "web", "is_test": True}, True),
    ({"agent_name": "Front Desk"}, {"agent": "Front Desk"}, True),
    ({"direction": "inbound"}, {"direction": Direction.inbound}, True),
    ({"min_duration": "30"}, {"min_duration": 30.0}, False),
    ({"label_code": "none"}, {"label_code": LabelCodeFilter.none}, False),
]


def overview(client: httpx.Client, org: Org, params: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/v1/metrics", params={**RANGE, **params}, headers=org.headers("read"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_exact(
    client: httpx.Client,
    database: Database,
    org: Org,
    params: dict[str, str],
    f: dict[str, Any],
    rolled: bool,
) -> dict[str, Any]:
    """The endpoint's journey figures are journey_session's; by the rollups when they answer the filter,
    and then every other figure is the sessions' too. Returns the direct figures."""
    body = overview(client, org, params)
    with session_scope(database.reader) as db:
        expected = direct_journey_figures(db, org.id, SessionFilter(start=SPAN.start, end=SPAN.end, **f))
    assert body["source"] == ("rollup" if rolled else "sessions")
    assert body["journey"] == expected
    if rolled:
        from_sessions = overview(client, org, {**params, "min_duration": "0"})
        assert from_sessions["source"] == "sessions"
        assert {k: v for k, v in body.items() if k != "source"} == {
            k: v for k, v in from_sessions.items() if k != "source"
        }
    return expected


@pytest.mark.parametrize(("params", "f", "rolled"), FILTERS)
def test_rollups_give_journey_session_figures_through_changes_and_deletes(
    client: httpx.Client,
    database: Database,
    org: Org,
    params: dict[str, str],
    f: dict[str, Any],
    rolled: bool,
) -> None:
    owner = journey_owner(database, org.id)

    def check() -> None:
        assert_exact(client, database, org, params, f, rolled)
        unfiltered = assert_exact(client, database, org, {}, {}, True)
        seen.append(json.dumps(unfiltered, sort_keys=True))

    seen: list[str] = []
    with session_scope(database.writer) as db:
        j1 = add_session(db, org.id, owner, at=DAY1, journey=(3, "email", "Spring"), duration=10)
        j2 = add_session(db, org.id, owner, at=DAY1, journey=(1, "search", None), duration=45)
        j3 = add_session(db, org.id, owner, at=DAY2, kind="app", journey=(5, None, "Spring"))
        j4 = add_session(db, org.id, owner, at=DAY2, journey=(2, "email", "Autumn"), is_test=True)
        add_session(db, org.id, owner, at=BEFORE, journey=(9, "social", "Old"))
        add_session(db, org.id, None, at=DAY1, kind="voice")
    check()
    # Late events re-derive them: new page views, medium and campaign; j3 now starts before the range.
    with session_scope(database.writer) as db:
        rederive(db, j1, (7, "social", "Autumn"))
        rederive(db, j2, (2, None, "Spring"))
        rederive(db, j3, (6, None, "Spring"), at=BEFORE)
    check()
    # Merged into others: the journey writer deletes them.
    with session_scope(database.writer) as db:
        delete_sessions(db, j1, j4)
    check()
    # A new session under a deleted one's id (SQLite hands out the highest id again once it is free).
    with session_scope(database.writer) as db:
        add_session(db, org.id, owner, at=DAY1, kind="app", journey=(4, "email", None), session_id=j4)
    check()
    assert len(set(seen)) == 4, seen  # each step changed the figures


def test_a_deletion_alone_is_pending_until_its_share_is_out(
    client: httpx.Client, database: Database, org: Org
) -> None:
    owner = journey_owner(database, org.id)
    with session_scope(database.writer) as db:
        gone = add_session(db, org.id, owner, at=DAY1, journey=(3, "email", "Spring"))
        add_session(db, org.id, owner, at=DAY1, journey=(1, "email", None))
    assert overview(client, org, {})["journey"]["sessions"] == 2
    with session_scope(database.writer) as db:
        assert not catchup.has_pending(db, organization_id=org.id)
        delete_sessions(db, gone)
    with session_scope(database.reader) as db:
        assert catchup.pending_session_ids(db, organization_id=org.id) == []
        assert catchup.has_pending(db, organization_id=org.id)
        assert db.get(MetricsSessionState, gone) is not None  # kept, marked deleted
    body = overview(client, org, {})
    assert body["journey"] == {"sessions": 1, "pageviews": 1, "top_referrer_media": [
        {"name": "email", "sessions": 1}], "top_campaigns": []}  # fmt: skip
    assert body["totals"]["sessions"] == 1
    with session_scope(database.reader) as db:
        assert not catchup.has_pending(db, organization_id=org.id)
        assert db.get(MetricsSessionState, gone) is None


def test_record_rollups_leaves_a_deleted_sessions_id_to_the_catch_up(
    client: httpx.Client, database: Database, org: Org
) -> None:
    owner = journey_owner(database, org.id)
    with session_scope(database.writer) as db:
        gone = add_session(db, org.id, owner, at=DAY1, journey=(3, "email", "Spring"))
    assert overview(client, org, {})["journey"]["sessions"] == 1
    with session_scope(database.writer) as db:
        delete_sessions(db, gone)
        add_session(db, org.id, owner, at=DAY2, kind="app", journey=(2, "search", None), session_id=gone)
        # The snapshot is the deleted session's: moving it to the new one would take out the wrong share.
        assert rollup.record_rollups(db, organization_id=org.id, session_ids=[gone]) == 0
    assert_exact(client, database, org, {}, {}, True)
    assert overview(client, org, {})["journey"]["top_referrer_media"] == [{"name": "search", "sessions": 1}]
