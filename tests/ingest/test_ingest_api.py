"""Native batch ingest over HTTP: storing, duplicates, order independence, validation, limits, auth."""

from __future__ import annotations

import random

import httpx

from tests.conftest import Org
from tests.helpers import event, ingest_ok, list_sessions


def _one_call() -> list[dict]:
    return [
        event(
            "a-start",
            "session.started",
            timestamp="2024-06-19T10:00:00Z",
            data={"agent_name": "Support", "channel_manager_type": "voice_sip_v1", "is_outbound": False},
        ),
        event(
            "a-upd-1", "session.updated", timestamp="2024-06-19T10:00:30Z", data={"agent_name": "Escalations"}
        ),
        event("a-upd-0", "session.updated", timestamp="2024-06-19T10:00:10Z", data={"agent_name": "Triage"}),
        event("a-t1", "transcript", timestamp="2024-06-19T10:00:05Z"),
        event("a-tool", "tool_call", timestamp="2024-06-19T10:00:20Z"),
        event("a-lat", "latency", timestamp="2024-06-19T10:00:21Z"),
        event("a-end", "session.ended", timestamp="2024-06-19T10:02:00Z", data={"user_terminated": True}),
    ]


def test_batch_is_stored_and_becomes_one_session(client: httpx.Client, org: Org) -> None:
    assert ingest_ok(client, org.ingest, _one_call()) == {"inserted": 7, "duplicates": 0}
    page = list_sessions(client, org.read)
    assert page["total_count"] == 1
    session = page["items"][0]
    assert session["timestamp"] == "2024-06-19T10:00:00Z"
    assert session["agent_name"] == "Escalations"  # the latest session.updated wins
    assert session["channel_manager_type"] == "voice_sip_v1"
    assert session["duration"] == 120.0
    assert session["user_terminated"] is True
    assert session["is_outbound"] is False


def test_resending_the_same_events_stores_nothing_twice(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, _one_call())
    assert ingest_ok(client, org.ingest, _one_call()) == {"inserted": 0, "duplicates": 7}
    page = list_sessions(client, org.read)
    assert page["total_count"] == 1


def test_any_arrival_order_gives_the_same_session(client: httpx.Client, database, org: Org) -> None:
    from tests.conftest import make_org

    expected = None
    for seed in range(4):
        target = org if seed == 0 else make_org(database)
        events = _one_call()
        random.Random(seed).shuffle(events)
        for one in events:  # one event per request: each arrives late relative to some other
            ingest_ok(client, target.ingest, [one])
        item = list_sessions(client, target.read)["items"][0]
        item.pop("session_id")
        expected = expected or item
        assert item == expected


def test_conversations_are_created_when_sessions_name_them_and_go_when_none_does(
    client: httpx.Client, database, org: Org
) -> None:
    from sqlalchemy import select

    from sessionary.conversations.models import Conversation
    from sessionary.db import session_scope

    ingest_ok(
        client, org.ingest, [event("c1", "session.started", sid="a", data={"conversation_id": "conv-1"})]
    )
    ingest_ok(client, org.ingest, [event("c2", "transcript", sid="a")])  # names nothing new
    late = event(
        "c3", "session.updated", sid="a", timestamp="2024-06-19T11:00:00Z", data={"conversation_id": "conv-2"}
    )
    ingest_ok(client, org.ingest, [late])
    with session_scope(database.reader) as db:
        names = db.scalars(select(Conversation.conversation_id).where(Conversation.organization_id == org.id))
        assert sorted(names) == ["conv-2"]  # the session moved: conv-1 has no session left
