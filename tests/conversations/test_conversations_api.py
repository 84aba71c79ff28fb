"""Conversations: the LLM fields of session events, the derivation rule (order-independent), the shared list
contract over ConversationProperties, organizations apart, and auth."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from tests.conftest import Org
from tests.helpers import event, ingest_ok, post_events

CONVERSATIONS = "/api/v1/conversations/"
LLM = {
    "llm_provider": "openai",
    "llm_model": "gpt-4.1",
    "llm_version": "2025-04-14",
    "llm_temperature": 0.7,
    "llm_seed": 42,
}


def conversations(client: httpx.Client, org: Org, **params: Any) -> dict[str, Any]:
    response = client.get(CONVERSATIONS, params=params, headers=org.headers("read"))
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("llm_provider", 7),
        ("llm_model", "m" * 201),
        ("llm_version", ["v1"]),
        ("llm_temperature", "hot"),
        ("llm_temperature", -0.1),
        ("llm_temperature", True),
        ("llm_seed", 1.5),
        ("llm_seed", "42"),
        ("llm_seed", 2**63),
    ],
)
@pytest.mark.parametrize("kind", ["session.started", "session.updated"])
def test_invalid_llm_field_is_422_naming_it(
    client: httpx.Client, org: Org, kind: str, field: str, value: Any
) -> None:
    response = post_events(client, org.ingest, [event("bad", kind, data={field: value})])
    assert response.status_code == 422
    locs = [err["loc"] for err in response.json()["detail"]]
    assert any(field in loc and 0 in loc for loc in locs), locs


def _session(
    sid: str, start: str, conversation: str | None = "conv-1", **fields: Any
) -> list[dict[str, Any]]:
    data = {"conversation_id": conversation, **fields} if conversation else fields
    return [
        event(f"{sid}-s", "session.started", sid=sid, timestamp=start, data=data),
        event(f"{sid}-t", "transcript", sid=sid, timestamp=start.replace(":00Z", ":30Z")),
    ]


# Three sessions of conv-1: the latest started (c) has no agent, so agent fields come from b; only a has
# prompt_version; c brings the LLM, later replaced by a session.updated of c.
SESSIONS = [
    *_session(
        "a", "2024-06-19T09:00:00Z", agent_name="Alpha", agent_id="1", prompt_version="v1", is_legacy=True
    ),
    *_session("b", "2024-06-19T10:00:00Z", agent_name="Beta", agent_id="2", agent_type="ai_agent"),
    *_session("c", "2024-06-19T11:00:00Z", prompt_name="P", is_legacy=False, **LLM),
    event("c-u", "session.updated", sid="c", timestamp="2024-06-19T11:05:00Z", data={"llm_model": "gpt-5"}),
    *_session("x", "2024-06-18T08:00:00Z", conversation="conv-2", agent_name="Solo"),
]
EXPECTED_CONV_1 = {
    "timestamp": "2024-06-19T09:00:00Z",
    "conversation_id": "conv-1",
    "agent_id": "2",
    "agent_name": "Beta",
    "agent_type": "ai_agent",
    "prompt_id": None,
    "prompt_name": "P",
    "prompt_version": "v1",
    "llm_provider": "openai",
    "llm_model": "gpt-5",
    "llm_version": "2025-04-14",
    "llm_temperature": 0.7,
    "llm_seed": 42,
    "is_legacy": False,
}


def test_conversation_fields_follow_the_rule_whatever_order_events_arrive_in(
    client: httpx.Client, database: Any
) -> None:
    from tests.conftest import make_org

    orders = [list(SESSIONS), list(reversed(SESSIONS))]
    shuffled = list(SESSIONS)
    random.Random(7).shuffle(shuffled)
    orders.append(shuffled)
    for order in orders:
        org = make_org(database)
        for one in order:  # one event per request: every event arrives late relative to some other
            ingest_ok(client, org.ingest, [one])
        items = conversations(client, org)["items"]
        assert [i["conversation_id"] for i in items] == ["conv-1", "conv-2"]  # newest first
        assert items[0] == EXPECTED_CONV_1
        assert items[1]["agent_name"] == "Solo"
        assert items[1]["timestamp"] == "2024-06-18T08:00:00Z"


def test_llm_fields_are_stored_on_the_session_latest_wins(
    client: httpx.Client, database: Any, org: Org
) -> None:
    from sqlalchemy import select

    from sessionary.db import session_scope
    from sessionary.sessions.models import Session

    ingest_ok(client, org.ingest, list(reversed(SESSIONS)))
    columns = (
        Session.llm_provider,
        Session.llm_model,
        Session.llm_version,
        Session.llm_temperature,
        Session.llm_seed,
    )
    with session_scope(database.reader) as db:
        stored = db.execute(
            select(*columns).where(Session.organization_id == org.id, Session.channel_manager_sid == "c")
        ).one()
    assert tuple(stored) == ("openai", "gpt-5", "2025-04-14", 0.7, 42)


def test_conversation_follows_a_session_that_moves_or_changes(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, SESSIONS)
    # c moves to conv-2: conv-1 takes its LLM from nobody, conv-2 gets it (c started after x).
    moved = event(
        "c-m",
        "session.updated",
        sid="c",
        timestamp="2024-06-19T11:06:00Z",
        data={"conversation_id": "conv-2"},
    )
    ingest_ok(client, org.ingest, [moved])
    items = {i["conversation_id"]: i for i in conversations(client, org)["items"]}
    assert items["conv-1"]["llm_model"] is None
    assert items["conv-1"]["prompt_name"] is None
    assert items["conv-1"]["is_legacy"] is True  # a's value, now the latest left
    assert items["conv-2"]["llm_model"] == "gpt-5"
    assert items["conv-2"]["agent_name"] == "Solo"
    assert items["conv-2"]["timestamp"] == "2024-06-18T08:00:00Z"
    # A session that started earlier arrives late: conv-1 now starts with it.
    ingest_ok(client, org.ingest, _session("d", "2024-06-19T08:00:00Z"))
    found = conversations(client, org, search_fields="agent_name", search_field_values="beta")["items"]
    assert [(i["conversation_id"], i["timestamp"]) for i in found] == [("conv-1", "2024-06-19T08:00:00Z")]
    # Every session leaves conv-1: it is gone.
    for sid in ("a", "b", "d"):
        data = {"conversation_id": "conv-3"}
        leave = event(f"{sid}-m", "session.updated", sid=sid, timestamp="2024-06-20T00:00:00Z", data=data)
        ingest_ok(client, org.ingest, [leave])
    ids = sorted(i["conversation_id"] for i in conversations(client, org)["items"])
    assert ids == ["conv-2", "conv-3"]


def test_resent_events_change_nothing(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, SESSIONS)
    before = conversations(client, org)
    assert ingest_ok(client, org.ingest, SESSIONS)["duplicates"] == len(SESSIONS)
    assert conversations(client, org) == before


@pytest.fixture
def listed(client: httpx.Client, org: Org) -> Org:
    """Five conversations, one session each, a day apart (conv-0 oldest)."""
    models = ["gpt-4.1", "claude-sonnet", "gpt-4.1-mini", "llama-3", None]
    events = []
    for n, model in enumerate(models):
        fields: dict[str, Any] = {
            "agent_name": ["Pharmacy", "Billing"][n % 2],
            "agent_id": str(100 + n % 2),
            "agent_type": "ai_agent" if n < 4 else "legacy_ivr",
            "prompt_id": str(n),
            "prompt_name": f"Prompt {n}",
            "llm_provider": ["openai", "anthropic", "openai", "meta", None][n],
            "llm_model": model,
            "llm_version": f"v{n}",
            "is_legacy": n == 4,
        }
        events += _session(f"s{n}", f"2024-06-1{n}T10:00:00Z", conversation=f"conv-{n}", **fields)
    ingest_ok(client, org.ingest, events)
    return org


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("agent_name", "pharm", ["conv-4", "conv-2", "conv-0"]),
        ("agent_id", "101", ["conv-3", "conv-1"]),
        ("agent_type", "LEGACY", ["conv-4"]),
        ("prompt_id", "3", ["conv-3"]),
        ("prompt_name", "prompt 2", ["conv-2"]),
        ("llm_provider", "anthropic", ["conv-1"]),
        ("llm_model", "gpt-4.1", ["conv-2", "conv-0"]),
        ("llm_version", "v1", ["conv-1"]),
        ("is_legacy", "true", ["conv-4"]),
        ("is_legacy", "false", ["conv-3", "conv-2", "conv-1", "conv-0"]),
        ("timestamp", "2024-06-13", ["conv-3"]),
        ("timestamp", "2024-06-12T10:00:00Z", ["conv-2"]),
    ],
)
def test_every_search_field(
    client: httpx.Client, listed: Org, field: str, value: str, expected: list[str]
) -> None:
    page = conversations(client, listed, search_fields=field, search_field_values=value)
    assert [i["conversation_id"] for i in page["items"]] == expected
    assert page["total_count"] == len(expected)


@pytest.mark.parametrize(
    ("order_by", "direction", "expected"),
    [
        ("timestamp", "asc", [0, 1, 2, 3, 4]),
        ("timestamp", "desc", [4, 3, 2, 1, 0]),
        ("agent_name", "asc", [1, 3, 0, 2, 4]),
        ("agent_id", "desc", [3, 1, 4, 2, 0]),
        ("agent_type", "desc", [4, 3, 2, 1, 0]),
        ("prompt_id", "desc", [4, 3, 2, 1, 0]),
        ("prompt_name", "asc", [0, 1, 2, 3, 4]),
        ("llm_provider", "asc", [1, 3, 0, 2, 4]),  # NULLs last
        ("llm_model", "asc", [1, 0, 2, 3, 4]),
        ("llm_version", "desc", [4, 3, 2, 1, 0]),
        ("is_legacy", "desc", [4, 3, 2, 1, 0]),
    ],
)
def test_every_order(
    client: httpx.Client, listed: Org, order_by: str, direction: str, expected: list[int]
) -> None:
    page = conversations(client, listed, order_by=order_by, order_by_direction=direction)
    assert [i["conversation_id"] for i in page["items"]] == [f"conv-{n}" for n in expected]


def test_paging_time_window_and_projection(client: httpx.Client, listed: Org) -> None:
    first = conversations(client, listed, limit=2)
    second = conversations(client, listed, limit=2, page=1)
    last = conversations(client, listed, limit=2, page=2)
    assert (first["page"], first["page_size"], first["total_pages"], first["total_count"]) == (0, 2, 3, 5)
    ids = [i["conversation_id"] for page in (first, second, last) for i in page["items"]]
    assert ids == ["conv-4", "conv-3", "conv-2", "conv-1", "conv-0"]
    window = conversations(
        client, listed, start_datetime="2024-06-11T10:00:00Z", end_datetime="2024-06-13T10:00:00Z"
    )
    assert [i["conversation_id"] for i in window["items"]] == ["conv-2", "conv-1"]
    projected = conversations(client, listed, fields=["llm_model", "agent_name"])["items"][0]
    assert projected == {
        "timestamp": "2024-06-14T10:00:00Z",
        "conversation_id": "conv-4",
        "llm_model": None,
        "agent_name": "Pharmacy",
    }
    assert conversations(client, listed, limit=0) == {
        "items": [],
        "page": 0,
        "page_size": 0,
        "total_pages": 0,
        "total_count": 5,
    }


@pytest.mark.parametrize(
    ("params", "status", "where"),
    [
        ({"search_fields": "conversation_id", "search_field_values": "x"}, 422, "search_fields"),
        ({"order_by": "llm_seed"}, 422, "order_by"),
        ({"fields": "nope"}, 422, "fields"),
        ({"search_fields": "is_legacy", "search_field_values": "maybe"}, 400, "is_legacy"),
        ({"search_fields": "agent_name"}, 400, "search_field_values"),
        ({"start_datetime": "yesterday"}, 400, "start_datetime"),
        ({"limit": -1}, 422, "limit"),
    ],
)
def test_bad_list_parameters_name_the_parameter(
    client: httpx.Client, org: Org, params: dict[str, Any], status: int, where: str
) -> None:
    response = client.get(CONVERSATIONS, params=params, headers=org.headers("read"))
    assert response.status_code == status, response.text
    assert where in str(response.json()["detail"])


def test_organizations_never_see_each_other(client: httpx.Client, org: Org, other_org: Org) -> None:
    ingest_ok(client, org.ingest, _session("a", "2024-06-19T09:00:00Z", agent_name="Mine"))
    ingest_ok(client, other_org.ingest, _session("a", "2024-06-19T09:00:00Z", agent_name="Theirs"))
    mine, theirs = conversations(client, org), conversations(client, other_org)
    assert [i["agent_name"] for i in mine["items"]] == ["Mine"]
    assert [i["agent_name"] for i in theirs["items"]] == ["Theirs"]
    assert (
        conversations(client, org, search_fields="agent_name", search_field_values="theirs")["total_count"]
        == 0
    )


@pytest.mark.parametrize(("scope", "status"), [(None, 401), ("ingest", 403), ("read", 200), ("admin", 200)])
def test_listing_needs_a_read_key(client: httpx.Client, org: Org, scope: str | None, status: int) -> None:
    headers = org.headers(scope) if scope else {}
    assert client.get(CONVERSATIONS, headers=headers).status_code == status


def test_a_missing_conversation_row_is_recreated_by_the_next_change(
    client: httpx.Client, database: Any, org: Org
) -> None:
    """What a concurrent writer's delete (its conversation emptied meanwhile) would leave: derive heals it."""
    from sqlalchemy import delete

    from sessionary.conversations.models import Conversation
    from sessionary.db import session_scope

    ingest_ok(client, org.ingest, SESSIONS)
    with session_scope(database.writer) as db:
        db.execute(delete(Conversation).where(Conversation.organization_id == org.id))
    assert conversations(client, org)["total_count"] == 0
    update = event(
        "b-u", "session.updated", sid="b", timestamp="2024-06-19T10:10:00Z", data={"agent_id": "2b"}
    )
    ingest_ok(client, org.ingest, [update])
    assert conversations(client, org)["items"] == [{**EXPECTED_CONV_1, "agent_id": "2b"}]


def test_sessions_starting_at_the_same_moment_give_the_greater_key_s_fields_in_any_batch(
    client: httpx.Client, database: Any
) -> None:
    """The tie-break of the rule (greater channel_manager_service, then sid), whether the sessions come in
    one batch or one by one (each database derives a conversation in one statement per chunk)."""
    from tests.conftest import make_org

    tied = [
        *_session("tie-a", "2024-06-20T09:00:00Z", conversation="conv-tie", agent_name="A", agent_id="1"),
        *_session("tie-b", "2024-06-20T09:00:00Z", conversation="conv-tie", agent_name="B"),
        *_session("tie-0", "2024-06-20T08:00:00Z", conversation="conv-tie", prompt_id="p0"),
    ]
    for batches in ([tied], [[one] for one in reversed(tied)]):
        org = make_org(database)
        for batch in batches:
            ingest_ok(client, org.ingest, batch)
        [item] = conversations(client, org)["items"]
        assert (item["agent_name"], item["agent_id"], item["prompt_id"]) == ("B", "1", "p0")
        assert item["timestamp"] == "2024-06-20T08:00:00Z"
