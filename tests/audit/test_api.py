"""GET /api/v1/audit on every database: the acts on keys appear with the caller's key prefix and address
(X-Forwarded-For only from a trusted proxy), newest first, through the shared list contract; no entry holds
a secret; entries outlive what they record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from sessionary.audit.models import AuditEntry
from sessionary.config import Settings
from sessionary.db import Database, session_scope
from sessionary.tenancy.service import hash_key
from tests.conftest import Org
from tests.helpers import LiveServer
from tests.keys.helpers import AUDIT, audit, create_ok, revoke

PROXY_CLIENT = "203.0.113.7"


def test_creating_and_revoking_a_key_are_recorded_with_actor_target_and_address(
    client: httpx.Client, org: Org
) -> None:
    made = create_ok(client, org.admin, "read", "ingest")
    assert revoke(client, org.admin, made["id"]).status_code == 204
    revoked, created = audit(client, org.admin)
    assert set(created) == {"id", "at", "actor", "action", "target", "details", "client_ip"}
    assert created["action"] == "key.created"
    assert revoked["action"] == "key.revoked"
    for entry in (created, revoked):
        assert entry["actor"] == org.admin[:10]
        assert entry["target"] == made["prefix"]
        assert entry["client_ip"] == "127.0.0.1"
        assert entry["details"]["key_id"] == made["id"]
        assert entry["details"]["scopes"] == ["ingest", "read"]
        assert entry["at"].endswith("Z")
    assert revoked["id"] > created["id"]


def test_no_entry_holds_a_key_or_its_hash(client: httpx.Client, org: Org, database: Database) -> None:
    made = create_ok(client, org.admin, "admin")
    assert revoke(client, made["key"], made["id"]).status_code == 204
    with session_scope(database.reader) as db:
        rows = db.scalars(select(AuditEntry).where(AuditEntry.organization_id == org.id)).all()
    text = repr([(r.actor, r.target, r.details) for r in rows])
    assert len(rows) == 2
    for secret in (made["key"], hash_key(made["key"]), org.admin, hash_key(org.admin)):
        assert secret not in text
    assert made["key"] not in str(audit(client, org.admin))


def test_the_list_contract_orders_searches_and_bounds_by_time(client: httpx.Client, org: Org) -> None:
    made = [create_ok(client, org.admin, "read") for _ in range(3)]
    assert revoke(client, org.admin, made[0]["id"]).status_code == 204
    newest_first = audit(client, org.admin)
    assert [e["action"] for e in newest_first] == ["key.revoked", "key.created", "key.created", "key.created"]
    oldest_first = audit(client, org.admin, order_by="at", order_by_direction="asc")
    assert [e["id"] for e in oldest_first] == [e["id"] for e in reversed(newest_first)]
    revoked = audit(client, org.admin, search_fields="action", search_field_values="REVOKED")
    assert [e["target"] for e in revoked] == [made[0]["prefix"]]
    by_target = audit(client, org.admin, search_fields="target", search_field_values=made[1]["prefix"])
    assert [e["action"] for e in by_target] == ["key.created"]
    by_actor = audit(client, org.admin, search_fields="actor", search_field_values=org.admin[:10])
    assert len(by_actor) == 4
    last_at = datetime.fromisoformat(newest_first[0]["at"])
    assert audit(client, org.admin, start_datetime=(last_at + timedelta(seconds=1)).isoformat()) == []
    assert len(audit(client, org.admin, end_datetime=(last_at + timedelta(seconds=1)).isoformat())) == 4
    projected = audit(client, org.admin, fields="target")[0]
    assert set(projected) == {"id", "at", "actor", "action", "target"}
    response = client.get(AUDIT, params={"limit": 2, "page": 1}, headers=org.headers("admin"))
    page = response.json()
    assert (page["total_count"], page["total_pages"], len(page["items"])) == (4, 2, 2)
    assert [e["id"] for e in page["items"]] == [e["id"] for e in newest_first[2:]]


@pytest.mark.parametrize(
    "params",
    [
        {"search_fields": "details", "search_field_values": "x"},
        {"search_fields": "action"},
        {"start_datetime": "yesterday"},
        {"limit": 100_000},
    ],
)
def test_a_bad_list_parameter_is_400_or_422(client: httpx.Client, org: Org, params: dict) -> None:
    response = client.get(AUDIT, params=params, headers=org.headers("admin"))
    assert response.status_code in (400, 422), response.text


def test_a_forwarded_for_header_from_an_untrusted_peer_is_not_believed(
    client: httpx.Client, org: Org
) -> None:
    made = create_ok(client, org.admin, "read")
    assert revoke(client, org.admin, made["id"], **{"X-Forwarded-For": PROXY_CLIENT}).status_code == 204
    assert audit(client, org.admin)[0]["client_ip"] == "127.0.0.1"


@pytest.fixture
def proxied(database_url: str) -> Iterator[httpx.Client]:
    """A server that trusts the loopback address as its reverse proxy."""
    settings = Settings(
        database_url=database_url, analysis_worker=False, journey_trusted_proxies=["127.0.0.1"]
    )
    with LiveServer.start(settings) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        yield http


def test_behind_a_trusted_proxy_the_client_it_names_is_recorded(proxied: httpx.Client, org: Org) -> None:
    made = create_ok(proxied, org.admin, "read")
    forwarded = {"X-Forwarded-For": f"198.51.100.1, {PROXY_CLIENT}"}
    assert revoke(proxied, org.admin, made["id"], **forwarded).status_code == 204
    assert [e["client_ip"] for e in audit(proxied, org.admin)] == [PROXY_CLIENT, "127.0.0.1"]


def test_an_entry_has_no_foreign_key_but_its_organization() -> None:
    """Entries outlive the sessions, keys and integrations they record (no foreign key, no cascade)."""
    targets = {fk.column.table.name for fk in AuditEntry.__table__.foreign_keys}
    assert targets == {"organization"}
