"""Name searches (agent, prompt, channel type) resolve through the distinct values of the organization."""

from __future__ import annotations

import httpx
import pytest

from sessionary import listing
from sessionary.db import Database, session_scope
from sessionary.sessions.models import Session
from tests.conftest import Org
from tests.helpers import event, ingest_ok, list_sessions

NAMES = ["Édith Support", "Billing", "billing-2", "Zoë"]


@pytest.fixture
def named(client: httpx.Client, org: Org) -> Org:
    events = [
        event(f"n{i}", "session.started", sid=f"n{i}", data={"agent_name": name, "prompt_id": str(i)})
        for i, name in enumerate(NAMES)
    ]
    ingest_ok(client, org.ingest, [*events, event("anon", "session.started", sid="anon")])
    return org


def test_distinct_values_lists_each_value_once_per_organization(
    database: Database, named: Org, other_org: Org
) -> None:
    with session_scope(database.reader) as db:
        values = listing.distinct_values(
            db, Session.agent_name, listing.Scope(Session.organization_id, named.id)
        )
        none = listing.distinct_values(
            db, Session.agent_name, listing.Scope(Session.organization_id, other_org.id)
        )
    assert values is not None
    assert sorted(values) == sorted(NAMES)
    assert none == []


def test_distinct_values_gives_up_above_the_cap(database: Database, named: Org) -> None:
    scope = listing.Scope(Session.organization_id, named.id)
    with session_scope(database.reader) as db:
        assert listing.distinct_values(db, Session.agent_name, scope, cap=3) is None
        assert sorted(listing.distinct_values(db, Session.agent_name, scope, cap=4) or []) == sorted(NAMES)


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ("billing", {"Billing", "billing-2"}),
        ("ÉDITH", {"Édith Support"}),
        ("zoË", {"Zoë"}),
        ("nobody", set()),
    ],
)
def test_name_search_is_a_case_insensitive_substring(
    client: httpx.Client, named: Org, needle: str, expected: set[str]
) -> None:
    page = list_sessions(client, named.read, search_fields="agent_name", search_field_values=needle)
    assert {item["agent_name"] for item in page["items"]} == expected
    assert page["total_count"] == len(expected)


def test_name_search_on_an_id_column(client: httpx.Client, named: Org) -> None:
    page = list_sessions(client, named.read, search_fields="prompt_id", search_field_values="2")
    assert [item["agent_name"] for item in page["items"]] == ["billing-2"]
