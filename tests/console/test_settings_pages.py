"""The console's Settings and Audit pages on every database: admin keys only (a read key sees no link and
gets a 403 page); keys made (the secret shown once) and revoked after a confirmation; retention set;
integrations listed without secrets; every form checked for its CSRF token and origin; each act audited
with the console's key prefix and the browser's address; an export download audited once."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from sessionary import sealing
from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.integrations import service as integrations
from sessionary.lifecycle import policy
from sessionary.tenancy import service as tenancy
from sessionary.tenancy.models import ApiKey
from tests.conftest import Org
from tests.console.helpers import csrf_of, signed_in
from tests.helpers import LiveServer
from tests.keys.helpers import audit, create_ok, listed, listed_key

NEXT_YEAR = f"{utcnow().year + 1}-01-02T03:04:05"  # as a datetime-local input sends it (UTC)
SECRET = re.compile(r'<code id="new-key-secret">(sk_[^<]+)</code>')


def _create_form(http: httpx.Client, **fields: object) -> httpx.Response:
    page = http.get("/settings")
    return http.post("/settings/keys", data={"csrf_token": csrf_of(page.text), **fields})


@pytest.mark.parametrize("path", ["/settings", "/audit", "/settings/keys/1/revoke"])
def test_a_read_key_sees_no_admin_links_and_gets_a_403_page(server: LiveServer, org: Org, path: str) -> None:
    with signed_in(server.url, org.read) as http:
        sessions = http.get("/sessions")
        assert 'href="/settings"' not in sessions.text
        assert 'href="/audit"' not in sessions.text
        refused = http.get(path)
        assert refused.status_code == 403
        assert "admin scope" in refused.text
        assert refused.headers["content-type"].startswith("text/html")


def test_a_read_key_cannot_post_the_admin_forms(server: LiveServer, org: Org) -> None:
    with signed_in(server.url, org.read) as http:
        token = csrf_of(http.get("/sessions").text)
        assert http.post("/settings/keys", data={"csrf_token": token, "scopes": "admin"}).status_code == 403
        assert http.post("/settings/retention", data={"csrf_token": token}).status_code == 403


def test_signed_out_the_pages_redirect_to_sign_in(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        for path in ("/settings", "/audit"):
            response = http.get(path)
            assert response.status_code == 303
            assert response.headers["location"] == f"/signin?next=%2F{path[1:]}"


def test_an_admin_sees_the_links_and_its_keys_without_secrets(
    server: LiveServer, client: httpx.Client, org: Org
) -> None:
    with signed_in(server.url, org.admin) as http:
        page = http.get("/settings")
        assert page.status_code == 200
        assert 'href="/settings" aria-current="page"' in page.text
        assert 'href="/audit"' in page.text
        for key in (org.admin, org.read, org.ingest):
            assert f"<code>{key[:10]}…</code>" in page.text
            assert key not in page.text
        assert "this console" in page.text
        assert "integrations-h" not in page.text  # none yet
        assert "Sessions are kept\n  <strong>forever</strong>" in page.text


def test_creating_a_key_shows_the_secret_once_and_it_works(
    server: LiveServer, client: httpx.Client, org: Org
) -> None:
    with signed_in(server.url, org.admin) as http:
        made = _create_form(http, scopes=["read", "ingest"], expires_at=NEXT_YEAR)
        assert made.status_code == 200, made.text
        assert made.headers["cache-control"] == "no-store"
        match = SECRET.search(made.text)
        assert match, made.text
        key = match.group(1)
        assert key not in http.get("/settings").text  # shown this once
    assert client.get("/api/v1/sessions/", headers={"Syllable-API-Key": key}).status_code == 200
    item = listed(client, org.admin, search_fields="prefix", search_field_values=key[:10])["items"][0]
    assert item["scopes"] == ["ingest", "read"]
    assert item["expires_at"] == NEXT_YEAR + "Z"
    entry = audit(client, org.admin)[0]
    assert (entry["action"], entry["actor"], entry["target"]) == ("key.created", org.admin[:10], key[:10])
    assert entry["client_ip"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Scopes:"),
        ({"scopes": "root"}, "Scopes:"),
        ({"scopes": "read", "expires_at": "2001-01-01T00:00:00"}, "expires_at: must be in the future"),
        ({"scopes": "read", "expires_at": "tomorrow"}, "Expires:"),
    ],
)
def test_a_bad_key_form_is_answered_with_the_page_naming_the_field(
    server: LiveServer, org: Org, fields: dict, message: str
) -> None:
    with signed_in(server.url, org.admin) as http:
        response = _create_form(http, **fields)
        assert response.status_code in (400, 422)
        assert message in response.text
        assert not SECRET.search(response.text)


def test_revoking_asks_for_confirmation_then_the_key_is_refused(
    server: LiveServer, client: httpx.Client, org: Org
) -> None:
    made = create_ok(client, org.admin, "read")
    with signed_in(server.url, org.admin) as http:
        confirm = http.get(f"/settings/keys/{made['id']}/revoke")
        assert confirm.status_code == 200
        assert f"Revoke key <code>{made['prefix']}…</code>?" in confirm.text
        assert listed_key(client, org.admin, made["id"])["status"] == "active"  # asking revokes nothing
        done = http.post(f"/settings/keys/{made['id']}/revoke", data={"csrf_token": csrf_of(confirm.text)})
        assert done.status_code == 303
        assert done.headers["location"] == "/settings#keys"
        assert f"{made['prefix']}…" not in http.get("/settings").text
    assert client.get("/api/v1/sessions/", headers={"Syllable-API-Key": made["key"]}).status_code == 401
    entry = audit(client, org.admin)[0]
    assert (entry["action"], entry["actor"], entry["target"]) == (
        "key.revoked",
        org.admin[:10],
        made["prefix"],
    )


def test_revoking_without_the_token_or_from_another_origin_is_403(
    server: LiveServer, client: httpx.Client, org: Org
) -> None:
    made = create_ok(client, org.admin, "read")
    with signed_in(server.url, org.admin) as http:
        token = csrf_of(http.get("/settings").text)
        path = f"/settings/keys/{made['id']}/revoke"
        assert http.post(path, data={}).status_code == 403
        foreign = http.post(path, data={"csrf_token": token}, headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403
    assert listed_key(client, org.admin, made["id"])["status"] == "active"


def test_the_last_admin_key_is_refused_and_another_organizations_key_is_404(
    server: LiveServer, database: Database, org: Org, other_org: Org
) -> None:
    with session_scope(database.reader) as db:
        own_id = tenancy.key_for(db, key=org.admin).id
        theirs = tenancy.key_for(db, key=other_org.read).id
    with signed_in(server.url, org.admin) as http:
        assert http.get(f"/settings/keys/{theirs}/revoke").status_code == 404
        token = csrf_of(http.get("/settings").text)
        assert http.post(f"/settings/keys/{theirs}/revoke", data={"csrf_token": token}).status_code == 404
        refused = http.post(f"/settings/keys/{own_id}/revoke", data={"csrf_token": token})
        assert refused.status_code == 409
        assert "last active admin key" in refused.text
        assert http.get("/settings").status_code == 200


def test_revoking_the_consoles_own_key_signs_it_out(
    server: LiveServer, client: httpx.Client, org: Org
) -> None:
    second = create_ok(client, org.admin, "admin")
    with signed_in(server.url, second["key"]) as http:
        confirm = http.get(f"/settings/keys/{second['id']}/revoke")
        assert "you will be signed out" in confirm.text
        http.post(f"/settings/keys/{second['id']}/revoke", data={"csrf_token": csrf_of(confirm.text)})
        assert http.get("/settings").status_code == 303


def test_the_retention_form_sets_the_policy_and_audits_it(
    server: LiveServer, client: httpx.Client, database: Database, org: Org
) -> None:
    with signed_in(server.url, org.admin) as http:
        token = csrf_of(http.get("/settings").text)
        form = {"csrf_token": token, "retention_days": "90", "content_retention_days": "30"}
        done = http.post("/settings/retention", data=form)
        assert done.status_code == 303
        page = http.get("/settings")
        assert "<strong>90 days</strong>" in page.text
        assert "<strong>30 days</strong>" in page.text
        bad = http.post("/settings/retention", data={**form, "content_retention_days": "120"})
        assert bad.status_code == 422
        assert "content_retention_days: must not be longer than retention_days" in bad.text
        word = http.post("/settings/retention", data={**form, "retention_days": "ninety"})
        assert word.status_code == 422
        assert "retention_days: a whole number of days" in word.text
        forever = http.post("/settings/retention", data={"csrf_token": token})
        assert forever.status_code == 303
    with session_scope(database.reader) as db:
        assert policy.policy_of(db, organization_id=org.id).retention_days is None
    changes = audit(client, org.admin, search_fields="action", search_field_values="retention.changed")
    assert len(changes) == 2
    assert changes[1]["details"]["after"] == {"retention_days": 90, "content_retention_days": 30}
    assert changes[0]["details"]["before"] == {"retention_days": 90, "content_retention_days": 30}
    assert {(e["actor"], e["client_ip"]) for e in changes} == {(org.admin[:10], "127.0.0.1")}


def test_the_audit_page_lists_the_trail_newest_first_filtered_by_action(
    server: LiveServer, client: httpx.Client, org: Org, other_org: Org
) -> None:
    made = [create_ok(client, org.admin, "read") for _ in range(2)]
    client.delete(f"/api/v1/keys/{made[0]['id']}", headers=org.headers("admin"))
    theirs = create_ok(client, other_org.admin, "read")
    with signed_in(server.url, org.admin) as http:
        page = http.get("/audit")
        assert page.status_code == 200
        assert 'data-count="3"' in page.text
        actions = re.findall(r"<td>(key\.\w+)</td>", page.text)
        assert actions == ["key.revoked", "key.created", "key.created"]
        assert theirs["prefix"] not in page.text
        filtered = http.get("/audit", params={"action": "key.revoked"})
        assert 'data-count="1"' in filtered.text
        assert http.get("/audit", params={"action": "nonsense", "page": "x"}).status_code == 200


def test_an_export_download_is_audited_once_with_format_and_filters(
    server: LiveServer, client: httpx.Client, org: Org
) -> None:
    with signed_in(server.url, org.read) as http:
        response = http.get(
            "/sessions/export", params={"format": "jsonl", "agent": "Front Desk", "q": "Jane"}
        )
        assert response.status_code == 200
    entries = audit(client, org.admin)
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["action"], entry["actor"], entry["target"]) == ("export.downloaded", org.read[:10], "jsonl")
    assert entry["details"] == {"format": "jsonl", "filters": {"agent": "Front Desk", "q": True}}
    assert "Jane" not in str(entry)


def test_the_settings_page_lists_integrations_without_secrets(
    server: LiveServer, database: Database, org: Org
) -> None:
    with session_scope(database.writer) as db:
        integrations.connect(
            db,
            sealing.sealer_in(db, None),
            organization_id=org.id,
            provider="vapi",
            secret="vapi-secret-xyz-123",
            public_url="https://hooks.example.test",
            name="support line",
        )
    with signed_in(server.url, org.admin) as http:
        page = http.get("/settings")
    assert "<td>vapi</td><td>support line</td>" in page.text
    assert "<td>active</td>" in page.text
    assert "vapi-secret-xyz-123" not in page.text
    assert "/webhooks/" not in page.text


def test_a_console_signed_in_with_a_key_that_expires_is_signed_out(
    server: LiveServer, client: httpx.Client, database: Database, org: Org
) -> None:
    made = create_ok(client, org.admin, "read", expires_at=(utcnow() + timedelta(days=1)).isoformat())
    with signed_in(server.url, made["key"]) as http:
        assert http.get("/sessions").status_code == 200
        with session_scope(database.writer) as db:  # the clock moved past the expiry
            expired = utcnow() - timedelta(seconds=1)
            db.execute(update(ApiKey).where(ApiKey.id == made["id"]).values(expires_at=expired))
        page = http.get("/sessions")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/signin")
