"""GET /api/v1/sessions/search: ranking, snippets, query syntax, paging, windows, isolation, auth."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Org
from tests.helpers import event, ingest_ok, list_sessions, post_events

SEARCH = "/api/v1/sessions/search"


def turns(
    sid: str, *texts: str, minute: int = 0, day: int = 19, source: str = "user"
) -> list[dict[str, Any]]:
    """A session `sid` with a session.started event and one transcript turn per text, a second apart."""
    stamp = f"2024-06-{day:02d}T10:{minute:02d}:{{:02d}}Z"
    events = [
        event(
            f"{sid}-start", "session.started", sid=sid, timestamp=stamp.format(0), data={"agent_name": "Desk"}
        )
    ]
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
    assert (body["total_count"], body["total_count_exact"]) == (1, True)
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
    ingest_ok(
        client, org.ingest, turns("often", "My invoice please.", "The invoice is wrong.", "Invoice twice.")
    )
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
        "Type &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; the "
        "&quot;<mark>refund</mark>&quot; form"
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


def test_words_must_match_within_one_turn(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, turns("split", "I want a refill.", "Of my blood pressure pills."))
    # Every word in one turn: a turn, not a session, is the unit that matches.
    assert search(client, org, "refill blood")["total_count"] == 0
    assert search(client, org, "refill")["total_count"] == 1


def test_the_last_word_matches_as_a_prefix(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, turns("p", "Two refills of insulin, please."))
    assert search(client, org, "refi")["total_count"] == 1
    assert search(client, org, "insulin refi")["total_count"] == 1
    assert search(client, org, "refi insulin")["total_count"] == 0  # only the last word is a prefix
    assert search(client, org, "re")["total_count"] == 0  # under 3 characters: exact
    assert search(client, org, '"refi"')["total_count"] == 0  # a phrase is exact
    snippet = search(client, org, "insul")["items"][0]["best_match"]["snippet"]
    assert "<mark>insulin</mark>" in snippet


def test_a_phrase_matches_the_words_in_that_order(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, turns("order", "Please cancel the order."))
    ingest_ok(client, org.ingest, turns("reverse", "Order cancel, please."))
    assert found(search(client, org, '"cancel the order"'), sids(client, org)) == ["order"]
    assert search(client, org, '"order cancel" please')["total_count"] == 1
    assert search(client, org, "cancel order")["total_count"] == 2


def test_operators_are_plain_words(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, turns("near", "Is there a pharmacy near me?"))
    ingest_ok(client, org.ingest, turns("not", "I do not want the pharmacy."))
    org_sids = sids(client, org)
    assert found(search(client, org, "NEAR pharmacy"), org_sids) == ["near"]
    assert found(search(client, org, "NOT pharmacy"), org_sids) == ["not"]
    assert sorted(found(search(client, org, "-pharmacy"), org_sids)) == ["near", "not"]
    assert sorted(found(search(client, org, "pharmacy OR nothing"), org_sids)) == []
    assert sorted(found(search(client, org, "(pharmacy)"), org_sids)) == ["near", "not"]
    assert found(search(client, org, "text:near"), org_sids) == []  # `text near` in one word: no such word


EDGE_QUERIES = [
    '"',
    '""x',
    '"unbalanced phrase',
    "*",
    "pharm*",
    "-refund",
    "a - b",
    "NEAR(refund pharmacy, 2)",
    "refund AND OR NOT",
    "(((",
    ")",
    "{text}: refund",
    "text:refund",
    "^refund",
    "'refund'",
    "refund's",
    "C++ & C#",
    "%_\\",
    "50% off $3.99",
    "e-mail me@example.com",
    "https://example.com/a?b=c",
    "café CAFÉ cafe\u0301",
    "日本語のテキスト",
    "Привет мир",
    "🙂 emoji 👍🏽",
    "\u200b zero width",
    "\t tab \n newline",
    "a" * 500,
    " ".join(["w"] * 16),
]


@pytest.mark.parametrize("q", EDGE_QUERIES)
def test_odd_query_text_never_gives_a_server_error(client: httpx.Client, org: Org, q: str) -> None:
    ingest_ok(client, org.ingest, turns("e", "A refund at the pharmacy near the café, 50% off."))
    response = client.get(SEARCH, params={"q": q}, headers=org.headers("read"))
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.json()["detail"][0]["loc"] == ["query", "q"]


def test_accents_and_case_fold(client: httpx.Client, org: Org, database_url: str) -> None:
    ingest_ok(client, org.ingest, turns("c", "Un Café au Crème, S'IL VOUS PLAÎT."))
    assert search(client, org, "café")["total_count"] == 1
    assert search(client, org, "CAFÉ crème")["total_count"] == 1
    # SQLite's tokenizer folds accents (remove_diacritics 2); PostgreSQL's 'simple' configuration keeps them.
    assert search(client, org, "cafe creme")["total_count"] == (1 if database_url.startswith("sqlite") else 0)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "*** -- ()"}, "q"),
        ({"q": "a" * 501}, "q"),
        ({"q": "nul\x00byte"}, "q"),
        ({"q": " ".join(["w"] * 17)}, "q"),
        ({"q": "x", "limit": 100000}, "limit"),
        ({"q": "x", "page": -1}, "page"),
    ],
)
def test_invalid_parameters_are_422_naming_the_field(
    client: httpx.Client, org: Org, params: dict[str, Any], field: str
) -> None:
    response = client.get(SEARCH, params=params, headers=org.headers("read"))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", field]


def test_a_bad_datetime_is_400_naming_it(client: httpx.Client, org: Org) -> None:
    response = client.get(
        SEARCH, params={"q": "x", "start_datetime": "yesterday"}, headers=org.headers("read")
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("start_datetime:")


def test_search_needs_a_key_with_the_read_scope(client: httpx.Client, org: Org) -> None:
    assert client.get(SEARCH, params={"q": "x"}).status_code == 401
    assert client.get(SEARCH, params={"q": "x"}, headers={"Syllable-API-Key": "nope"}).status_code == 401
    assert client.get(SEARCH, params={"q": "x"}, headers=org.headers("ingest")).status_code == 403
    assert client.get(SEARCH, params={"q": "x"}, headers=org.headers("admin")).status_code == 200


def test_search_is_not_taken_for_a_session_id(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, turns("s", "hello"))
    assert client.get(SEARCH, headers=org.headers("read")).status_code == 422  # not 404 "session search"
    session_id = sids(client, org)["s"]
    got = client.get(f"/api/v1/sessions/{session_id}", headers=org.headers("read"))
    assert got.status_code == 200
    assert got.json()["session_id"] == session_id


def test_another_organizations_turns_are_never_found(client: httpx.Client, org: Org, other_org: Org) -> None:
    ingest_ok(client, other_org.ingest, turns("theirs", "The quartermaster spoke."))
    ingest_ok(client, org.ingest, turns("ours", "Nothing about it."))
    assert search(client, org, "quartermaster")["total_count"] == 0
    assert search(client, org, "quarterm")["items"] == []
    assert search(client, other_org, "quartermaster")["total_count"] == 1


def test_pages_cover_every_matching_session_once(client: httpx.Client, org: Org) -> None:
    for n in range(23):
        ingest_ok(client, org.ingest, turns(f"s{n:02d}", *(["lantern"] * (n % 4 + 1)), minute=n))
    ingest_ok(client, org.ingest, turns("other", "no match here"))
    pages = [search(client, org, "lantern", limit=10, page=p) for p in range(3)]
    assert [(b["total_count"], b["total_pages"], b["page"], b["page_size"]) for b in pages] == [
        (23, 3, 0, 10),
        (23, 3, 1, 10),
        (23, 3, 2, 10),
    ]
    ids = [hit["session_id"] for body in pages for hit in body["items"]]
    assert len(ids) == len(set(ids)) == 23
    scores = [hit["score"] for body in pages for hit in body["items"]]
    assert scores == sorted(scores, reverse=True)
    assert [hit["match_count"] for hit in pages[0]["items"][:5]] == [4, 4, 4, 4, 4]
    past = search(client, org, "lantern", limit=10, page=7)
    assert (past["items"], past["total_count"]) == ([], 23)
    counted = search(client, org, "lantern", limit=0)
    assert (counted["items"], counted["total_count"], counted["total_pages"]) == ([], 23, 0)


def test_the_time_window_is_over_the_session_timestamp(client: httpx.Client, org: Org) -> None:
    for day in (17, 18, 19, 20):
        ingest_ok(client, org.ingest, turns(f"d{day}", "the harbour lights", day=day))
    body = search(
        client,
        org,
        "harbour",
        start_datetime="2024-06-18T10:00:00Z",
        end_datetime="2024-06-20T10:00:00Z",
    )
    assert sorted(found(body, sids(client, org))) == ["d18", "d19"]
    assert body["total_count"] == 2
    assert search(client, org, "harbour", start_datetime="2024-06-20T00:00:00")["total_count"] == 1


def test_turns_arriving_later_are_searchable_at_once(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, turns("late", "First turn."))
    assert search(client, org, "marmalade")["total_count"] == 0
    ingest_ok(
        client, org.ingest, [event("late-t9", sid="late", data={"source": "agent", "text": "Marmalade!"})]
    )
    body = search(client, org, "marmalade")
    assert body["total_count"] == 1
    assert body["items"][0]["best_match"]["source"] == "agent"


def test_a_resent_turn_is_found_once(client: httpx.Client, org: Org) -> None:
    batch = turns("dup", "The saxophone is loud.", "Saxophone again.")
    ingest_ok(client, org.ingest, batch)
    assert ingest_ok(client, org.ingest, batch)["duplicates"] == len(batch)
    assert ingest_ok(client, org.ingest, [batch[1]])["duplicates"] == 1
    body = search(client, org, "saxophone")
    assert body["total_count"] == 1
    assert body["items"][0]["match_count"] == 2


def test_a_rejected_batch_leaves_nothing_searchable(client: httpx.Client, org: Org) -> None:
    bad = [*turns("rej", "The trombone plays."), event("rej-bad", "latency", sid="rej", data={"value": -1})]
    assert post_events(client, org.ingest, bad).status_code == 422
    assert search(client, org, "trombone")["total_count"] == 0


def test_a_turn_full_of_private_use_characters_is_still_highlighted(client: httpx.Client, org: Org) -> None:
    """Matches are marked with private-use characters absent from the texts: a text holding all 6,400 of
    the Basic Multilingual Plane's pushes the marks to the supplementary planes, and is shown as it is."""
    crowd = "".join(chr(code) for code in range(0xE000, 0xF900))
    ingest_ok(client, org.ingest, turns("pua", f"{crowd} tangerine"))
    snippet = search(client, org, "tangerine")["items"][0]["best_match"]["snippet"]
    assert "<mark>tangerine</mark>" in snippet
    assert snippet.replace("<mark>", "").replace("</mark>", "") in f"{crowd} tangerine"
