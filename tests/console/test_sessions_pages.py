"""The sessions page (filters in the URL, count, order, paging) and the session page (chat, labels)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import Org
from tests.console.data import call, ingest_calls, session_ids
from tests.console.helpers import csrf_of, signed_in, total_count
from tests.helpers import LiveServer


@pytest.fixture
def calls(client: httpx.Client, org: Org) -> dict[str, str]:
    ingest_calls(
        client,
        org.ingest,
        [
            call("a1", conversation="conv-1"),
            call("a2", agent="Billing Support", outbound=True, end="2024-06-19T10:00:30Z",
                 conversation="conv-1"),
            call("a3", agent="Billing Support", channel="web_chat_v1", test=True,
                 start="2024-06-20T09:00:00Z", end="2024-06-20T09:10:00Z"),
            call("a4", start="2024-06-21T09:00:00Z", end="2024-06-21T09:00:10Z", turns=False),
        ],
    )  # fmt: skip
    return session_ids(client, org.read)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"a1", "a2", "a3", "a4"}),
        ({"agent": "Billing Support"}, {"a2", "a3"}),
        ({"channel": "web_chat_v1"}, {"a3"}),
        ({"type": "chat"}, {"a3"}),
        ({"direction": "outbound"}, {"a2"}),
        ({"direction": "inbound"}, {"a1", "a3", "a4"}),
        ({"test": "exclude"}, {"a1", "a2", "a4"}),
        ({"test": "only"}, {"a3"}),
        ({"min_duration": "60"}, {"a1", "a3"}),
        ({"max_duration": "30"}, {"a2", "a4"}),
        ({"range": "custom", "start": "2024-06-20T00:00", "end": "2024-06-21T00:00"}, {"a3"}),
        ({"conversation_id": "conv-1"}, {"a1", "a2"}),
        ({"label": "none"}, {"a1", "a2", "a3", "a4"}),
        ({"prompt": "Billing Support prompt", "test": "exclude"}, {"a2"}),
        ({"q": "refill"}, {"a1", "a2", "a3"}),
        ({"q": "refi", "agent": "Billing Support"}, {"a2", "a3"}),
        ({"q": "gazebo"}, set()),
    ],
)
def test_each_filter_narrows_the_list_and_the_count(
    server: LiveServer, org: Org, calls: dict[str, str], params: dict[str, str], expected: set[str]
) -> None:
    with signed_in(server.url, org.read) as http:
        page = http.get("/sessions", params=params)
    assert page.status_code == 200
    assert total_count(page.text) == len(expected)
    shown = set(re.findall(r'href="/sessions/(\d+)"', page.text))
    assert shown == {calls[sid] for sid in expected}


def test_label_filter_follows_the_newest_label(
    server: LiveServer, client: httpx.Client, org: Org, calls: dict[str, str]
) -> None:
    for sid, code in (("a1", "BAD"), ("a1", "GOOD"), ("a2", "BAD")):
        body = {"session_id": int(calls[sid]), "type": "human-rating", "code": code, "user_email": "q@x.io"}
        assert (
            client.post("/api/v1/session_labels/", json=body, headers=org.headers("read")).status_code == 200
        )
    with signed_in(server.url, org.read) as http:
        assert total_count(http.get("/sessions", params={"label": "BAD"}).text) == 1
        assert total_count(http.get("/sessions", params={"label": "GOOD"}).text) == 1
        assert total_count(http.get("/sessions", params={"label": "none"}).text) == 2


def test_sorting_paging_and_the_filters_stay_in_the_links(
    server: LiveServer, org: Org, calls: dict[str, str]
) -> None:
    with signed_in(server.url, org.read) as http:
        page = http.get(
            "/sessions", params={"sort": "duration", "dir": "asc", "limit": "25", "test": "exclude"}
        )
        order = re.findall(r'href="/sessions/(\d+)"', page.text)
        assert order == [calls["a4"], calls["a2"], calls["a1"]]
        assert 'aria-sort="ascending"' in page.text
        # The export links and the header links carry the filters.
        assert "/sessions/export?test=exclude&amp;sort=duration&amp;dir=asc" in page.text
        assert "test=exclude&amp;sort=duration&amp;dir=desc" in page.text


def test_bad_filter_values_are_reported_not_a_500(
    server: LiveServer, org: Org, calls: dict[str, str]
) -> None:
    with signed_in(server.url, org.read) as http:
        page = http.get(
            "/sessions", params={"range": "custom", "start": "yesterday", "min_duration": "x", "label": "MEH"}
        )
    assert page.status_code == 200
    assert "not an ISO 8601 datetime" in page.text
    assert "minimum duration" in page.text
    assert "label: &#39;MEH&#39;" in page.text
    assert total_count(page.text) == 4


def test_another_organizations_sessions_never_show(
    server: LiveServer, org: Org, other_org: Org, calls: dict[str, str]
) -> None:
    with signed_in(server.url, other_org.read) as http:
        assert total_count(http.get("/sessions").text) == 0
        response = http.get(f"/sessions/{calls['a1']}")
    assert response.status_code == 404
    assert "not found" in response.text


def test_session_page_shows_chat_tools_latency_and_conversation(
    server: LiveServer, org: Org, calls: dict[str, str]
) -> None:
    with signed_in(server.url, org.read) as http:
        page = http.get(f"/sessions/{calls['a1']}").text
    assert "I need a refill" in page
    assert "Done, ready tomorrow." in page
    assert re.search(r"<summary>Tool <code>lookup_patient</code>", page)
    assert "{&#34;dob&#34;:&#34;1972&#34;}" in page  # the request, folded in <details>
    # Latency before the agent's turn: STT 200 + LLM 800 + tool 300 = 1.30 s, the longest, so 100 % wide.
    assert "1.30 s" in page
    assert re.search(r'class="bar bar-llm" x="15.38" y="0" width="61.54"', page)  # after STT's 15.38 %
    assert 'href="/sessions?conversation_id=conv-1"' in page
    assert "(2 sessions)" in page


def test_adding_a_label_shows_it_at_once_and_needs_the_token(
    server: LiveServer, org: Org, calls: dict[str, str]
) -> None:
    path = f"/sessions/{calls['a2']}"
    with signed_in(server.url, org.read) as http:
        form = {
            "code": "BAD",
            "issues": "tool_error, long_silence",
            "comments": "slow",
            "user_email": "qa@x.io",
        }
        assert http.post(f"{path}/labels", data=form).status_code == 403
        token = csrf_of(http.get(path).text)
        response = http.post(f"{path}/labels", data={**form, "csrf_token": token})
        assert response.status_code == 303
        assert response.headers["location"] == f"{path}#labels"
        page = http.get(path).text
        assert "tool_error, long_silence" in page
        assert 'label label-BAD">BAD</span>' in page
        assert 'value="qa@x.io"' in page  # remembered for the next label
        listed = http.get("/sessions", params={"label": "BAD"}).text
        assert total_count(listed) == 1


def test_an_invalid_label_form_names_the_field(server: LiveServer, org: Org, calls: dict[str, str]) -> None:
    path = f"/sessions/{calls['a2']}"
    with signed_in(server.url, org.read) as http:
        token = csrf_of(http.get(path).text)
        response = http.post(f"{path}/labels", data={"code": "MEH", "user_email": "", "csrf_token": token})
    assert response.status_code == 422
    assert "Rating:" in response.text
    assert "Your email:" in response.text
