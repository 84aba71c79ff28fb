"""The overview page: every figure as an SVG chart with a data table, for the chosen days and filters."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import Org
from tests.console.data import call, ingest_calls, session_ids
from tests.console.helpers import signed_in
from tests.helpers import LiveServer

CHARTS = ("per-day", "durations", "labels", "latency", "tools", "issues")


@pytest.fixture
def labelled(client: httpx.Client, org: Org) -> None:
    other = call("o2", agent="Billing Support", start="2024-06-20T09:00:00Z", end="2024-06-20T09:01:00Z")
    ingest_calls(client, org.ingest, [call("o1"), other])
    ids = session_ids(client, org.read)
    body = {"session_id": int(ids["o1"]), "type": "human-rating", "code": "BAD", "user_email": "q@x.io",
            "issue_categories": ["tool_error"]}  # fmt: skip
    assert client.post("/api/v1/session_labels/", json=body, headers=org.headers("read")).status_code == 200


def _chart(html: str, chart_id: str) -> str:
    match = re.search(rf'<figure class="chart" id="chart-{chart_id}".*?</figure>', html, re.S)
    assert match, f"no chart {chart_id}"
    return match.group(0)


def test_every_chart_has_marks_and_a_table(server: LiveServer, org: Org, labelled: None) -> None:
    params = {"range": "custom", "start": "2024-06-19T00:00", "end": "2024-06-21T00:00"}
    with signed_in(server.url, org.read) as http:
        page = http.get("/overview", params=params)
    assert page.status_code == 200
    assert "2024-06-19 to 2024-06-20 (UTC)" in page.text
    assert re.search(r'id="total-sessions">2<', page.text)
    for chart_id in CHARTS:
        chart = _chart(page.text, chart_id)
        assert chart.count('<rect class="mark ') >= 1, chart_id
        assert '<svg viewBox="0 0 640' in chart
        assert "<details>" in chart
        assert chart.count("<tr>") >= 2, chart_id  # header and at least one row
    assert '<th scope="row">tool_error</th><td>1</td>' in _chart(page.text, "issues")
    assert '<th scope="row">lookup_patient</th><td>2</td><td>0</td>' in _chart(page.text, "tools")


def test_the_overview_follows_the_filters(server: LiveServer, org: Org, labelled: None) -> None:
    params = {"range": "custom", "start": "2024-06-19T00:00", "end": "2024-06-21T00:00"}
    with signed_in(server.url, org.read) as http:
        page = http.get("/overview", params={**params, "agent": "Billing Support"}).text
        empty = http.get("/overview", params={**params, "agent": "Nobody"}).text
    assert re.search(r'id="total-sessions">1<', page)
    assert re.search(r'id="total-sessions">0<', empty)
    assert empty.count("No data in this range.") == len(CHARTS)
