"""The Syllable list's total_count, now read from session_count (sessions/counts.py), is the number of
sessions it lists, for name searches, ranges with partial days and searches it cannot count (COUNT(*)
then), on SQLite and PostgreSQL; events arriving out of order that move a session to another day or agent
keep it exact."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from sessionary.db import Database, session_scope
from sessionary.listing import ListParams
from sessionary.sessions import service
from sessionary.sessions.filters import LabelCodeFilter, SessionFilter
from sessionary.sessions.models import SessionCount
from tests.conftest import Org
from tests.helpers import event, ingest_ok, list_sessions
from tests.sessions.counting import assert_counts_exact

CALLS = [  # (sid, started, agent_name, prompt_name)
    ("c1", "2024-06-18T23:59:59.999999Z", "Billing", "Refunds"),
    ("c2", "2024-06-19T00:00:00Z", "Billing", "Invoices"),
    ("c3", "2024-06-19T08:30:00Z", "Front Desk", "Hours"),
    ("c4", "2024-06-19T23:59:59Z", "billing-2", None),
    ("c5", "2024-06-20T00:00:00Z", None, None),
    ("c6", "2024-06-21T12:00:00Z", "Front Desk", "Hours"),
    ("c7", "2024-06-23T06:00:00Z", "Billing", "Refunds"),
]


def _started(sid: str, at: str, agent: str | None, prompt: str | None) -> dict[str, Any]:
    data = {key: value for key, value in (("agent_name", agent), ("prompt_name", prompt)) if value}
    return event(f"{sid}-s", "session.started", sid=sid, timestamp=at, data=data)


@pytest.fixture
def calls(client: httpx.Client, org: Org) -> Org:
    ingest_ok(client, org.ingest, [_started(*call) for call in CALLS])
    return org


SEARCHES: list[dict[str, Any]] = [
    {},
    {"search_fields": "agent_name", "search_field_values": "billing"},
    {"search_fields": "agent_name", "search_field_values": "nobody"},
    {"search_fields": ["agent_name", "prompt_name"], "search_field_values": ["Billing", "Refunds"]},
    {"search_fields": ["agent_name", "agent_name"], "search_field_values": ["billing", "-2"]},
    {"search_fields": "conversation_id", "search_field_values": "x"},  # not counted: COUNT(*)
    {"search_fields": "agent_type", "search_field_values": ""},
]
RANGES: list[dict[str, str]] = [
    {},
    {"start_datetime": "2024-06-19T00:00:00Z"},
    {"end_datetime": "2024-06-20T00:00:00Z"},
    {"start_datetime": "2024-06-19T00:00:00Z", "end_datetime": "2024-06-22T00:00:00Z"},
    {"start_datetime": "2024-06-18T23:00:00Z", "end_datetime": "2024-06-21T12:00:00.000001Z"},
    {"start_datetime": "2024-06-19T08:00:00Z", "end_datetime": "2024-06-19T09:00:00Z"},
    {"start_datetime": "2024-06-19T12:00:00Z", "end_datetime": "2024-06-20T12:00:00Z"},
]


@pytest.mark.parametrize("search", SEARCHES)
@pytest.mark.parametrize("window", RANGES)
def test_total_count_is_the_number_of_sessions_listed(
    client: httpx.Client, calls: Org, search: dict[str, Any], window: dict[str, str]
) -> None:
    page = list_sessions(client, calls.read, limit=100, **search, **window)
    assert page["total_count"] == len(page["items"])
    small = list_sessions(client, calls.read, limit=2, page=1, **search, **window)
    assert small["total_count"] == page["total_count"]


@pytest.mark.parametrize(
    ("f", "counted"),
    [
        (SessionFilter(), True),
        (SessionFilter(agent="Billing", start=datetime(2024, 6, 19, 0, 0, 1, tzinfo=UTC)), True),
        (SessionFilter(prompt="Hours", end=datetime(2024, 6, 21, 12, tzinfo=UTC)), True),
        (SessionFilter(label_code=LabelCodeFilter.none), False),
    ],
)
def test_the_console_list_counts_its_rows_and_reads_session_count_when_it_can(
    database: Database, calls: Org, f: SessionFilter, counted: bool
) -> None:
    params = ListParams(0, 100, [], [], None, None, [], None, None)
    with session_scope(database.reader) as db:
        page = service.filtered_page(db, organization_id=calls.id, f=f, params=params)
    assert page.total_count == len(page.items) > 0
    with session_scope(database.writer) as db:  # one more in every key: seen only through session_count
        db.execute(
            update(SessionCount).where(SessionCount.organization_id == calls.id).values(n=SessionCount.n + 1)
        )
        shown = service.filtered_page(db, organization_id=calls.id, f=f, params=params).total_count
        db.rollback()
    assert (shown != page.total_count) is counted


def test_the_list_reads_session_count_for_name_searches_only(
    client: httpx.Client, database: Database, calls: Org
) -> None:
    name = {"search_fields": "agent_name", "search_field_values": "billing"}
    other = {"search_fields": "agent_type", "search_field_values": ""}
    before = [list_sessions(client, calls.read, **search)["total_count"] for search in ({}, name, other)]
    with session_scope(database.writer) as db:
        db.execute(
            update(SessionCount).where(SessionCount.organization_id == calls.id).values(n=SessionCount.n + 1)
        )
    try:
        after = [list_sessions(client, calls.read, **search)["total_count"] for search in ({}, name, other)]
    finally:
        with session_scope(database.writer) as db:
            db.execute(
                update(SessionCount)
                .where(SessionCount.organization_id == calls.id)
                .values(n=SessionCount.n - 1)
            )
    assert after[0] > before[0]
    assert after[1] > before[1]
    assert after[2] == before[2]


def test_events_out_of_order_that_move_a_session_keep_the_counts_exact(
    client: httpx.Client, database: Database, org: Org
) -> None:
    # A transcript first: the session starts as agent-less on the 20th ...
    ingest_ok(client, org.ingest, [event("t1", sid="late", timestamp="2024-06-20T00:00:05Z")])
    assert_counts_exact(database, org.id)
    on_20th = {"start_datetime": "2024-06-20T00:00:00Z", "end_datetime": "2024-06-21T00:00:00Z"}
    assert list_sessions(client, org.read, **on_20th)["total_count"] == 1
    # ... then its start arrives: the 19th, agent Ava.
    ingest_ok(client, org.ingest, [_started("late", "2024-06-19T23:59:58Z", "Ava", None)])
    assert_counts_exact(database, org.id)
    assert list_sessions(client, org.read, **on_20th)["total_count"] == 0
    ava = {"search_fields": "agent_name", "search_field_values": "ava"}
    on_19th = {"start_datetime": "2024-06-19T00:00:00Z", "end_datetime": "2024-06-20T00:00:00Z"}
    assert list_sessions(client, org.read, **ava, **on_19th)["total_count"] == 1
    # A later session.started with another agent wins the agent (the latest value wins).
    renamed = {**_started("late", "2024-06-19T23:59:59Z", "Bea", None), "event_id": "late-s2"}
    ingest_ok(client, org.ingest, [renamed])
    assert_counts_exact(database, org.id)
    assert list_sessions(client, org.read, **ava)["total_count"] == 0
