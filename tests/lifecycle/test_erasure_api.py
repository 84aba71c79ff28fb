"""POST /api/v1/erasure on a live server, SQLite and PostgreSQL: a person named by any one identifier loses
every session (call, chat, web and app visits of their merged contacts) and every journey record; nothing of
them stays reachable by any API nor in any table; another person keeps everything."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sessionary.db import Database
from tests.conftest import Org
from tests.journey.builders import make_deployment
from tests.lifecycle.person import Person, new_person, populate, recording_urls_of, visible
from tests.lifecycle.tables import rows_holding

ERASURE = "/api/v1/erasure"
ZEROS = {"voice": 0, "chat": 0, "web": 0, "app": 0, "other": 0}


def erase(client: httpx.Client, org: Org, body: dict[str, Any], scope: str = "admin") -> httpx.Response:
    return client.post(ERASURE, json=body, headers=org.headers(scope))


def erased_ok(client: httpx.Client, org: Org, body: dict[str, Any]) -> dict[str, Any]:
    response = erase(client, org, body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def deployment_id(database: Database, org: Org) -> str:
    return make_deployment(database, org.id)


@pytest.fixture
def ann(client: httpx.Client, org: Org, deployment_id: str) -> Person:
    who = populate(client, org, deployment_id, new_person("ann"))
    who.recordings = recording_urls_of(client, org, who.session_ids)
    return who


@pytest.fixture
def bob(client: httpx.Client, org: Org, deployment_id: str) -> Person:
    return populate(client, org, deployment_id, new_person("bob"), full=False)


def _naming(who: Person, kind: str) -> dict[str, str]:
    return {
        "phone": {"phone": f"{who.digits[:3]}.{who.digits[3:6]}.{who.digits[6:]}"},
        "e164": {"phone": f"tel:{who.e164}"},
        "email": {"email": f"  {who.email.title()} "},
        "cookie": {"customer_cookie_id": who.cookies[0]},
        "contact": {"contact_id": who.contact.upper()},
    }[kind]


@pytest.mark.parametrize("kind", ["phone", "e164", "email", "cookie", "contact"])
def test_any_one_identifier_erases_every_session_and_journey_record_of_the_person(
    client: httpx.Client, database: Database, org: Org, ann: Person, bob: Person, kind: str
) -> None:
    assert len(ann.session_ids) == 5
    assert ann.recordings
    assert visible(client, org, ann), "the person is visible before the erasure"
    result = erased_ok(client, org, _naming(ann, kind))
    assert result["sessions"] == {"voice": 1, "chat": 1, "web": 2, "app": 1, "other": 0}
    assert (result["contacts"], result["customers"]) == (2, 2)
    assert result["journey_events"] == 4
    assert result["proof"].startswith("scrypt$16384$8$1$")
    assert visible(client, org, ann) == []
    assert rows_holding(database, ann.needles()) == {}
    assert set(bob.session_ids) <= _listed(client, org)
    for session_id in bob.session_ids:
        assert client.get(f"/api/v1/sessions/{session_id}", headers=org.headers("read")).status_code == 200
    assert rows_holding(database, [bob.email, bob.cookies[0], bob.contact])
    assert result["events"] >= 4  # the conversations' four
    assert result["recordings"] == 1  # the call's


def _listed(client: httpx.Client, org: Org) -> set[str]:
    response = client.get("/api/v1/sessions/", params={"limit": 100}, headers=org.headers("read"))
    return {s["session_id"] for s in response.json()["items"]}


def test_the_metrics_figures_no_longer_count_the_erased_person(
    client: httpx.Client, org: Org, ann: Person, bob: Person
) -> None:
    params = {"start_datetime": "2000-01-01T00:00:00Z", "end_datetime": "2100-01-01T00:00:00Z"}
    before = client.get("/api/v1/metrics", params=params, headers=org.headers("read")).json()
    erased_ok(client, org, {"email": ann.email})
    after = client.get("/api/v1/metrics", params=params, headers=org.headers("read")).json()
    assert before["totals"]["sessions"] - after["totals"]["sessions"] == 5
    assert before["journey"]["sessions"] - after["journey"]["sessions"] == 3  # two web visits, one app visit


def test_the_console_shows_nothing_of_the_erased_person(
    client: httpx.Client, server: Any, org: Org, ann: Person
) -> None:
    from tests.console.helpers import signed_in

    erased_ok(client, org, {"contact_id": ann.contact})
    with signed_in(server.url, org.read) as console:
        for session_id in ann.session_ids:
            assert console.get(f"/sessions/{session_id}").status_code == 404
        exported = console.get("/sessions/export", params={"format": "jsonl"}).text
        listed = console.get("/sessions").text
    for needle in ann.needles():
        assert needle not in exported.lower()
        assert needle not in listed.lower()


def test_resending_an_erasure_answers_zeros_and_audits_it_again(
    client: httpx.Client, org: Org, ann: Person
) -> None:
    first = erased_ok(client, org, {"phone": ann.e164})
    again = erased_ok(client, org, {"phone": ann.dashed})
    assert sum(first["sessions"].values()) == 5
    assert again["sessions"] == ZEROS
    assert again["contacts"] == again["customers"] == 0
    assert again["proof"] != first["proof"]  # a new salt each time


def test_an_unknown_person_is_erased_with_zeros(client: httpx.Client, org: Org) -> None:
    result = erased_ok(client, org, {"email": "nobody@example.com"})
    assert result["sessions"] == ZEROS
    assert (result["events"], result["contacts"], result["customers"], result["journey_events"]) == (
        0,
        0,
        0,
        0,
    )


def test_another_organizations_person_is_unknown_here(
    client: httpx.Client, org: Org, other_org: Org, ann: Person
) -> None:
    by_contact = erased_ok(client, other_org, {"contact_id": ann.contact})
    by_phone = erased_ok(client, other_org, {"phone": ann.e164})
    by_cookie = erased_ok(client, other_org, {"customer_cookie_id": ann.cookies[1]})
    unknown = erased_ok(client, other_org, {"contact_id": "00000000-0000-4000-8000-000000000000"})
    for result in (by_contact, by_phone, by_cookie):
        assert {k: v for k, v in result.items() if k not in ("proof", "kind")} == {
            k: v for k, v in unknown.items() if k not in ("proof", "kind")
        }
    assert visible(client, org, ann) != []
    assert len(_listed(client, org) & set(ann.session_ids)) == 5


def test_erasure_needs_an_admin_key(client: httpx.Client, org: Org) -> None:
    assert client.post(ERASURE, json={"email": "a@example.com"}).status_code == 401
    assert erase(client, org, {"email": "a@example.com"}, scope="read").status_code == 403
    assert erase(client, org, {"email": "a@example.com"}, scope="ingest").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "phone|email|customer_cookie_id|contact_id"),
        ({"phone": "+15551234567", "email": "a@example.com"}, "phone|email"),
        ({"phone": "12"}, "phone"),
        ({"phone": "call me maybe"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": "a" * 310 + "@example.com"}, "email"),
        ({"customer_cookie_id": "x\x00y"}, "customer_cookie_id"),
        ({"customer_cookie_id": "   "}, "customer_cookie_id"),
        ({"contact_id": "not-a-uuid"}, "contact_id"),
    ],
)
def test_bad_identifiers_are_refused_naming_the_field(
    client: httpx.Client, org: Org, body: dict[str, Any], field: str
) -> None:
    response = erase(client, org, body)
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith(field)


def test_unknown_fields_and_wrong_types_are_refused(client: httpx.Client, org: Org) -> None:
    assert erase(client, org, {"name": "Ann"}).status_code == 422
    assert erase(client, org, {"phone": 5551234567}).status_code == 422
