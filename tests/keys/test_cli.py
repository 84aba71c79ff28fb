"""`sessionary keys create|list|revoke`: expiry, the listing (never a key), revocation (the last admin key
too), each act audited as `cli`."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from sessionary.cli import app
from sessionary.db import Database, session_scope
from sessionary.tenancy import service as tenancy
from tests.conftest import Org
from tests.keys.helpers import audit, create_ok, in_days

runner = CliRunner()


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"SESSIONARY_DATABASE_URL": database_url, "SESSIONARY_BLOB_DIR": str(tmp_path / "blobs")}


def _key_id(database: Database, key: str) -> int:
    with session_scope(database.reader) as db:
        return tenancy.key_for(db, key=key).id


def test_create_with_an_expiry_prints_it_and_the_key_expires_then(
    env: dict[str, str], database: Database, org: Org, client: httpx.Client
) -> None:
    when = in_days(30)
    args = ["keys", "create", "--org", org.name, "--scope", "read", "--expires-at", when]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert f"expires: {when[:19]}Z" in result.output
    with session_scope(database.reader) as db:
        row = tenancy.key_for(db, key=key)
        assert row.expires_at is not None
        assert row.expires_at.isoformat()[:19] == when[:19]
    entry = audit(client, org.admin)[0]
    assert (entry["action"], entry["actor"], entry["target"]) == ("key.created", "cli", key[:10])
    assert entry["details"]["expires_at"][:19] == when[:19]


@pytest.mark.parametrize(("value", "problem"), [("yesterday", "ISO 8601"), ("2001-01-01", "in the future")])
def test_create_refuses_a_bad_expiry_naming_it(env: dict[str, str], value: str, problem: str) -> None:
    args = ["keys", "create", "--org", "cli-exp", "--scope", "read", "--expires-at", value]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 1
    assert "expires_at" in result.output
    assert problem in result.output


def test_list_shows_every_key_with_its_status_and_never_a_key(
    env: dict[str, str], org: Org, client: httpx.Client
) -> None:
    made = create_ok(client, org.admin, "read")
    assert client.delete(f"/api/v1/keys/{made['id']}", headers=org.headers("admin")).status_code == 204
    result = runner.invoke(app, ["keys", "list", "--org", org.name], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].split()[:4] == ["id", "prefix", "scopes", "status"]
    assert len(lines) == 5  # the header, the fixture's three keys and this one
    assert lines[1].split()[:4] == [str(made["id"]), made["prefix"] + "...", "read", "revoked"]
    for secret in (made["key"], org.admin, org.read, org.ingest):
        assert secret not in result.output


def test_revoke_may_revoke_the_last_admin_key_and_is_audited_as_cli(
    env: dict[str, str], database: Database, org: Org, client: httpx.Client
) -> None:
    admin_id = _key_id(database, org.admin)
    result = runner.invoke(app, ["keys", "revoke", "--org", org.name, str(admin_id)], env=env)
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/keys", headers=org.headers("admin")).status_code == 401
    with session_scope(database.writer) as db:  # the CLI makes a new admin key to read the trail
        _row, admin = tenancy.create_api_key(db, organization_id=org.id, scopes=["admin"])
    entry = audit(client, admin)[0]
    assert (entry["action"], entry["actor"], entry["target"]) == ("key.revoked", "cli", org.admin[:10])


def test_revoke_refuses_an_unknown_organization_or_another_organizations_key(
    env: dict[str, str], database: Database, org: Org, other_org: Org
) -> None:
    theirs = _key_id(database, other_org.read)
    result = runner.invoke(app, ["keys", "revoke", "--org", org.name, str(theirs)], env=env)
    assert result.exit_code == 1
    assert "API key not found" in result.output
    result = runner.invoke(app, ["keys", "revoke", "--org", "no-such-org-xyz", "1"], env=env)
    assert result.exit_code == 1
    assert "no organization named" in result.output
