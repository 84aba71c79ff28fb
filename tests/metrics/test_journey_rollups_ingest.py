"""Journey figures through the journey ingest itself: late web events re-derive a session (earlier start,
another referrer medium and campaign, more page views) and merge two sessions into one (the writer deletes
the other); after each, the overview's journey figures (from the rollups) are journey_session's."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from sessionary.db import Database, session_scope
from sessionary.journey.models import JourneySession
from sessionary.sessions.filters import SessionFilter
from tests.conftest import Org
from tests.journey.builders import app_body, cookie, make_deployment, minutes, now, post_app, web, web_ok
from tests.metrics.journey_data import direct_journey_figures

SPRING = "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=Spring+Sale"
AUTUMN = "https://shop.example/?utm_source=google&utm_medium=cpc&utm_campaign=Autumn"


def _span() -> SessionFilter:
    today = datetime.combine(now().date(), time(0), tzinfo=UTC)
    return SessionFilter(start=today - timedelta(days=1), end=today + timedelta(days=1))


def figures(client: httpx.Client, database: Database, org: Org) -> dict[str, Any]:
    """The endpoint's journey block, checked against journey_session grouped directly."""
    span = _span()
    assert span.start is not None
    assert span.end is not None
    params = {"start_datetime": span.start.isoformat(), "end_datetime": span.end.isoformat()}
    response = client.get("/api/v1/metrics", params=params, headers=org.headers("read"))
    assert response.status_code == 200, response.text
    assert response.json()["source"] == "rollup"
    with session_scope(database.reader) as db:
        expected = direct_journey_figures(db, org.id, span)
    assert response.json()["journey"] == expected
    return expected


def journey_rows(database: Database, org: Org) -> int:
    with session_scope(database.reader) as db:
        stmt = (
            select(func.count()).select_from(JourneySession).where(JourneySession.organization_id == org.id)
        )
        return int(db.scalar(stmt) or 0)


def test_late_events_move_and_delete_journey_shares(
    client: httpx.Client, database: Database, org: Org
) -> None:
    deployment = make_deployment(database, org.id)
    start = now() - minutes(50)
    newsletter, browser, split = cookie(), cookie(), cookie()
    for i in range(3):
        url = SPRING if i == 0 else f"https://shop.example/p{i}"
        extra = {"referrerUrl": "https://mail.google.com/"} if i == 0 else {}
        web_ok(client, deployment, web(newsletter, start + minutes(i), url=url, **extra))
    for i in (10, 11):
        web_ok(client, deployment, web(browser, start + minutes(i), url=f"https://shop.example/b{i}"))
    for i in (0, 30):  # two visits: more than 20 minutes apart
        web_ok(client, deployment, web(split, start + minutes(i), url=f"https://shop.example/s{i}"))
    assert post_app(client, deployment, app_body(cookie(), start + minutes(5))).status_code == 201
    first = figures(client, database, org)
    assert (first["sessions"], first["pageviews"]) == (5, 7)

    # An earlier page view from a search ad: the browser's visit now starts with it.
    ad = web(browser, start + minutes(8), url=AUTUMN, referrerUrl="https://www.google.com/search?q=shoes")
    web_ok(client, deployment, ad)
    rederived = figures(client, database, org)
    assert rederived["pageviews"] == 8
    assert rederived["top_campaigns"] != first["top_campaigns"]

    # A page view between the two visits joins them: one session row goes.
    web_ok(client, deployment, web(split, start + minutes(15), url="https://shop.example/s15"))
    assert journey_rows(database, org) == 4
    merged = figures(client, database, org)
    assert (merged["sessions"], merged["pageviews"]) == (4, 9)
