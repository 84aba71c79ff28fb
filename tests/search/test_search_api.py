"""GET /api/v1/sessions/search: ranking, snippets, query syntax, paging, windows, isolation, auth."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Org
from tests.helpers import event, ingest_ok, list_sessions, post_events

SEARCH = "/api/v1/sessions/search"


def turns(sid: str, *texts: str, minute: int = 0, day: int = 19, source: str = "user") -> list[dict[str, Any]]:
    """A session `sid` with a session.started event and one transcript turn per text, a second apart."""
    stamp = f"2024-06-{day:02d}T10:{minute:02d}:{{:02d}}Z"
    events = [event(f"{sid}-start", "session.started", sid=sid, timestamp=stamp.format(0), data={"agent_name": "Desk"})]
    for n, text in enumerate(texts, start=1):
        data = {"source": source, "text": text, "lang": "en-US"}
        events.append(event(f"{sid}-t{n}", sid=sid, timestamp=stamp.format(n), data=data))
    return events


def search(client: httpx.Client, org: Org, q: str, **params: Any) -> dict[str, Any]:
    response = client.get(SEARCH, params={"q": q, **params}, headers=org.headers("read"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sids(client: httpx.Client, org: Org) -> dict[str, str]:
    """channel_manager_sid -> session_id of the organization's sessions."""
    items = list_sessions(client, org.read, limit=1000)["items"]
    return {s["channel_manager_sid"]: s["session_id"] for s in items}


def found(body: dict[str, Any], org_sids: dict[str, str]) -> list[str]:
    """The hits as channel_manager_sids, in response order."""
    by_id = {v: k for k, v in org_sids.items()}
    return [by_id[hit["session_id"]] for hit in body["items"]]


def test_a_hit_is_the_session_with_its_best_turn_highlighted(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, turns("a", "Hello there.", "I need to refill my prescription.", "Thanks."))
    body = search(client, org, "refill")
    assert body["total_count"] == 1
    assert (body["page"], body["page_size"], body["total_pages"]) == (0, 25, 1)
    hit = body["items"][0]
    assert hit["session_id"] == sids(client, org)["a"]
    assert hit["timestamp"] == "2024-06-19T10:00:00Z"
    assert hit["agent_name"] == "Desk"
    assert hit["match_count"] == 1
    assert hit["score"] > 0
    assert hit["best_match"] == {
        "timestamp": "2024-06-19T10:00:02Z",
        "source": "user",
        "turn_index": 1,
        "snippet": "I need to <mark>refill</mark> my prescription.",
    }


def test_the_session_mentioning_the_word_more_ranks_first(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, turns("once", "My invoice please.", "Something else entirely today."))
    ingest_ok(client, org.ingest, turns("often", "My invoice please.", "The invoice is wrong.", "Invoice twice."))
    ingest_ok(client, org.ingest, turns("never", "Nothing to see."))
    body = search(client, org, "invoice")
    assert found(body, sids(client, org)) == ["often", "once"]
    assert [hit["match_count"] for hit in body["items"]] == [3, 1]
    assert body["items"][0]["score"] > body["items"][1]["score"]


def test_an_exact_phrase_ranks_above_scattered_words(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, turns("scattered", "The card was blue and the credit was low yesterday."))
    ingest_ok(client, org.ingest, turns("exact", "My credit card was declined."))
    assert found(search(client, org, "credit card"), sids(client, org)) == ["exact", "scattered"]
    assert found(search(client, org, '"credit card"'), sids(client, org)) == ["exact"]


def test_snippet_escapes_html_and_marks_only_the_match(client: httpx.Client, org: Org) -> None:
    text = 'Type <script>alert("x")</script> & the "refund" form'
    ingest_ok(client, org.ingest, turns("x", text))
    snippet = search(client, org, "refund")["items"][0]["best_match"]["snippet"]
    assert snippet == (
        "Type &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; the &quot;<mark>refund</mark>&quot; form"
    )
    ingest_ok(client, org.ingest, turns("y", "<b>Voucher</b> <img src=x onerror=alert(1)>"))
    bold = search(client, org, "voucher")["items"][0]["best_match"]["snippet"]
    assert bold == "&lt;b&gt;<mark>Voucher</mark>&lt;/b&gt; &lt;img src=x onerror=alert(1)&gt;"


def test_a_long_turn_is_cut_to_a_snippet_around_the_match(client: httpx.Client, org: Org) -> None:
    filler = " ".join(f"word{n}" for n in range(200))
    ingest_ok(client, org.ingest, turns("long", f"{filler} pineapple {filler}"))
    snippet = search(client, org, "pineapple")["items"][0]["best_match"]["snippet"]
    assert "<mark>pineapple</mark>" in snippet
    assert len(snippet.split()) <= 40


def test_all_words_must_match(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, turns("both", "Refill the blood pressure pills."))
    ingest_ok(client, org.ingest, turns("one", "Refill the vitamins."))
    assert found(search(client, org, "refill blood"), sids(client, org)) == ["both"]
    assert sorted(found(search(client, org, "refill"), sids(client, org))) == ["both", "one"]


def test_words_may_match_in_different_turns_of_one_session(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, turns("split", "I want a refill.", "Of my blood pressure pills."))
    body = search(client, org, "refill blood")
    assert body["total_count"] == 0  # every word in one turn: a turn is the unit that matches
