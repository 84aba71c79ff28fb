"""The admin API's keys on every database: create (the secret shown once), list (never a secret), revoke
(at once), expiry, scopes, bounds, tenancy; each act in the audit trail with the caller's key prefix."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.keys import service
from sessionary.tenancy import service as tenancy
from sessionary.tenancy.models import ApiKey
from sessionary.tenancy.usage import KeyUsage
from tests.conftest import Org
from tests.helpers import event, list_sessions, post_events
from tests.keys.helpers import KEYS, audit, create, create_ok, in_days, listed, listed_key, revoke, wait_for

LISTED = {"id", "prefix", "scopes", "status", "created_at", "last_used_at", "expires_at", "revoked_at"}


def test_create_answers_201_with_the_secret_once_and_the_key_works_at_once(
    client: httpx.Client, org: Org
) -> None:
    response = create(client, org.admin, "read", "ingest", "read")
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    assert set(created) == {"id", "key", "prefix", "scopes", "created_at", "expires_at"}
    assert created["key"].startswith(created["prefix"])
    assert created["prefix"].startswith("sk_")
    assert created["scopes"] == ["ingest", "read"]
    assert created["expires_at"] is None
    assert list_sessions(client, created["key"])["total_count"] == 0
    assert post_events(client, created["key"], [event("k-1")]).status_code == 200
    item = listed_key(client, org.admin, created["id"])
    assert set(item) == LISTED
    assert "key" not in item
    assert created["key"] not in str(listed(client, org.admin))
    assert item["status"] == "active"


def test_list_shows_keys_newest_first_with_search_projection_and_revoked_ones(
    client: httpx.Client, org: Org
) -> None:
    first = create_ok(client, org.admin, "read")
    second = create_ok(client, org.admin, "ingest", expires_at=in_days(3))
    assert revoke(client, org.admin, first["id"]).status_code == 204
    page = listed(client, org.admin)
    assert set(page) == {"items", "page", "page_size", "total_pages", "total_count"}
    assert page["total_count"] == 5  # the fixture's three and these two
    assert [item["id"] for item in page["items"][:2]] == [second["id"], first["id"]]
    revoked = page["items"][1]
    assert revoked["status"] == "revoked"
    assert revoked["revoked_at"].endswith("Z")
    assert page["items"][0]["expires_at"] == second["expires_at"]
    found = listed(client, org.admin, search_fields="prefix", search_field_values=second["prefix"])
    assert [item["id"] for item in found["items"]] == [second["id"]]
    projected = listed(client, org.admin, fields="expires_at")["items"][0]
    assert set(projected) == {"id", "prefix", "scopes", "status", "created_at", "expires_at"}
    oldest = listed(client, org.admin, order_by="created_at", order_by_direction="asc", limit=1)
    assert oldest["items"][0]["id"] < first["id"]


def test_revoke_answers_204_then_404_and_the_key_is_refused_at_once(client: httpx.Client, org: Org) -> None:
    made = create_ok(client, org.admin, "read")
    assert list_sessions(client, made["key"])["total_count"] == 0
    assert revoke(client, org.admin, made["id"]).status_code == 204
    refused = client.get("/api/v1/sessions/", headers={"Syllable-API-Key": made["key"]})
    assert refused.status_code == 401
    again = revoke(client, org.admin, made["id"])
    assert again.status_code == 404
    assert again.json() == {"detail": "API key not found"}


def test_a_key_can_revoke_itself_while_another_admin_key_remains(client: httpx.Client, org: Org) -> None:
    second = create_ok(client, org.admin, "admin")
    assert revoke(client, second["key"], second["id"]).status_code == 204
    assert client.get(KEYS, headers={"Syllable-API-Key": second["key"]}).status_code == 401


def test_the_last_active_admin_key_is_refused_409_naming_why(client: httpx.Client, org: Org) -> None:
    admin_id = listed(client, org.admin, search_fields="scopes", search_field_values="admin")["items"][0][
        "id"
    ]
    refused = revoke(client, org.admin, admin_id)
    assert refused.status_code == 409
    assert "last active admin key" in refused.json()["detail"]
    assert client.get(KEYS, headers=org.headers("admin")).status_code == 200
    expiring = create_ok(client, org.admin, "admin", expires_at=in_days(1))
    assert revoke(client, expiring["key"], admin_id).status_code == 204  # another admin key is live now


def test_another_organizations_key_is_404_and_its_audit_invisible(
    client: httpx.Client, org: Org, other_org: Org
) -> None:
    theirs = create_ok(client, other_org.admin, "read")
    assert revoke(client, org.admin, theirs["id"]).status_code == 404
    assert list_sessions(client, theirs["key"])["total_count"] == 0  # still works
    assert theirs["id"] not in [item["id"] for item in listed(client, org.admin, limit=1000)["items"]]
    assert all(entry["target"] != theirs["prefix"] for entry in audit(client, org.admin, limit=1000))
    assert [entry["target"] for entry in audit(client, other_org.admin)] == [theirs["prefix"]]


@pytest.mark.parametrize("unknown", [0, -1, 2**63 - 1, 2**63])
def test_revoke_of_an_unknown_id_answers_404(client: httpx.Client, org: Org, unknown: int) -> None:
    assert revoke(client, org.admin, unknown).status_code == 404


@pytest.mark.parametrize("scope", ["read", "ingest"])
def test_a_read_or_ingest_key_gets_403_on_every_keys_and_audit_operation(
    client: httpx.Client, org: Org, scope: str
) -> None:
    key = getattr(org, scope)
    assert create(client, key, "read").status_code == 403
    assert client.get(KEYS, headers={"Syllable-API-Key": key}).status_code == 403
    assert revoke(client, key, 1).status_code == 403
    assert client.get("/api/v1/audit", headers={"Syllable-API-Key": key}).status_code == 403


def test_no_key_gets_401_on_every_keys_and_audit_operation(client: httpx.Client) -> None:
    assert client.post(KEYS, json={"scopes": ["read"]}).status_code == 401
    assert client.get(KEYS).status_code == 401
    assert client.delete(f"{KEYS}/1").status_code == 401
    assert client.get("/api/v1/audit").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["superuser"]}, "scopes"),
        ({"scopes": "read"}, "scopes"),
        ({"scopes": ["read", "read", "read", "read"]}, "scopes"),
        ({}, "scopes"),
        ({"scopes": ["read"], "expires_at": "soon"}, "expires_at"),
        ({"scopes": ["read"], "expires_at": "0999-01-01T00:00:00Z"}, "expires_at"),
        ({"scopes": ["read"], "owner": "x"}, "owner"),
    ],
)
def test_an_invalid_body_is_422_naming_the_field(
    client: httpx.Client, org: Org, body: dict, field: str
) -> None:
    response = client.post(KEYS, json=body, headers=org.headers("admin"))
    assert response.status_code == 422, response.text
    assert [issue["loc"] for issue in response.json()["detail"]][0][:2] == ["body", field]


@pytest.mark.parametrize(
    ("days", "problem"), [(-1, "must be in the future"), (0, "must be in the future"), (3700, "10 years")]
)
def test_an_expiry_in_the_past_or_over_ten_years_ahead_is_400_naming_expires_at(
    client: httpx.Client, org: Org, days: float, problem: str
) -> None:
    response = create(client, org.admin, "read", expires_at=in_days(days))
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("expires_at:")
    assert problem in detail


def test_a_naive_expiry_is_read_as_utc(client: httpx.Client, org: Org) -> None:
    naive = (utcnow() + timedelta(days=2)).replace(tzinfo=None, microsecond=0)
    created = create_ok(client, org.admin, "read", expires_at=naive.isoformat())
    assert created["expires_at"] == naive.isoformat() + "Z"


def test_an_expired_key_gets_401_everywhere(client: httpx.Client, org: Org, database: Database) -> None:
    made = create_ok(client, org.admin, "admin", expires_at=in_days(1))
    assert client.get(KEYS, headers={"Syllable-API-Key": made["key"]}).status_code == 200
    with session_scope(database.writer) as db:  # the clock moved a day and a second forward
        db.execute(
            update(ApiKey).where(ApiKey.id == made["id"]).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    headers = {"Syllable-API-Key": made["key"]}
    assert client.get(KEYS, headers=headers).status_code == 401
    assert client.get("/api/v1/sessions/", headers=headers).status_code == 401
    assert post_events(client, made["key"], [event("exp-1")]).status_code == 401
    assert (
        client.get("/api/v1/sessions/", headers={"Authorization": f"Bearer {made['key']}"}).status_code == 401
    )
    assert listed_key(client, org.admin, made["id"])["status"] == "expired"


def test_the_active_key_cap_answers_409_and_revoking_one_makes_room(
    client: httpx.Client, org: Org, database: Database
) -> None:
    with session_scope(database.writer) as db:
        live = tenancy.count_live_keys(db, organization_id=org.id)
        for _ in range(service.MAX_LIVE_KEYS - live):
            tenancy.create_api_key(db, organization_id=org.id, scopes=["read"])
    refused = create(client, org.admin, "read")
    assert refused.status_code == 409
    assert "1,000 active API keys" in refused.json()["detail"]
    some = listed(client, org.admin, search_fields="scopes", search_field_values="read", limit=1)["items"][0]
    assert revoke(client, org.admin, some["id"]).status_code == 204
    assert create(client, org.admin, "read").status_code == 201


def test_last_used_at_is_written_when_the_key_authenticates(
    client: httpx.Client, org: Org, database: Database
) -> None:
    made = create_ok(client, org.admin, "read")
    assert listed_key(client, org.admin, made["id"])["last_used_at"] is None
    before = utcnow().replace(microsecond=0)
    assert list_sessions(client, made["key"])["total_count"] == 0
    used = wait_for(lambda: listed_key(client, org.admin, made["id"])["last_used_at"])
    assert used is not None
    assert datetime.fromisoformat(used) >= before
    with session_scope(database.reader) as db:
        stored = db.scalar(select(ApiKey.last_used_at).where(ApiKey.id == made["id"]))
    assert stored is not None
    assert stored >= before


def test_a_key_used_again_within_the_minute_is_not_written_again(database: Database, org: Org) -> None:
    with session_scope(database.writer) as db:
        row, _clear = tenancy.create_api_key(db, organization_id=org.id, scopes=["read"])
    first = utcnow()
    with session_scope(database.writer) as db:
        tenancy.touch(db, key_id=row.id, at=first)
    with session_scope(database.writer) as db:
        tenancy.touch(db, key_id=row.id, at=first + timedelta(seconds=30))
    with session_scope(database.reader) as db:
        assert db.scalar(select(ApiKey.last_used_at).where(ApiKey.id == row.id)) == first
    with session_scope(database.writer) as db:
        tenancy.touch(db, key_id=row.id, at=first + timedelta(seconds=61))
    with session_scope(database.reader) as db:
        assert db.scalar(select(ApiKey.last_used_at).where(ApiKey.id == row.id)) == first + timedelta(
            seconds=61
        )


def test_a_process_queues_one_write_per_key_and_minute(database: Database, org: Org) -> None:
    with session_scope(database.writer) as db:
        first, _clear = tenancy.create_api_key(db, organization_id=org.id, scopes=["read"])
        second, _clear = tenancy.create_api_key(db, organization_id=org.id, scopes=["read"])
    usage = KeyUsage(database)
    assert usage.used(first.id) is True
    assert usage.used(first.id) is False  # within the minute
    assert usage.used(second.id) is True
    assert usage.used(None) is False

    def written() -> bool:
        with session_scope(database.reader) as db:
            stmt = select(ApiKey.last_used_at).where(ApiKey.id.in_([first.id, second.id]))
            return all(value is not None for value in db.scalars(stmt))

    assert wait_for(written)


def test_two_admin_keys_revoking_each_other_at_once_leave_one(
    client: httpx.Client, org: Org, database: Database
) -> None:
    """The last admin key check holds under concurrency (PostgreSQL: the live admin keys are locked)."""
    other = create_ok(client, org.admin, "admin")
    own_id = listed(client, org.admin, search_fields="scopes", search_field_values="admin")["items"][-1]["id"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(revoke, client, org.admin, other["id"])
        second = pool.submit(revoke, client, other["key"], own_id)
        statuses = sorted([first.result().status_code, second.result().status_code])
    assert statuses in ([204, 409], [204, 401])  # 401: the other key was revoked before this one checked in
    with session_scope(database.writer) as db:
        assert len(tenancy.live_admin_key_ids(db, organization_id=org.id)) == 1
