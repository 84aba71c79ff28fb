"""GET/PUT /api/v1/retention and `sessionary retention show|set`, on SQLite and PostgreSQL: admin scope only,
each organization its own periods, bounded days with a 4xx naming the field, every change audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sessionary.audit.models import AuditEntry
from sessionary.cli import app
from sessionary.db import Database, session_scope
from tests.conftest import Org

PATH = "/api/v1/retention"
runner = CliRunner()


def put(client: httpx.Client, org: Org, body: Any, scope: str = "admin") -> httpx.Response:
    return client.put(PATH, json=body, headers=org.headers(scope))


def test_an_admin_key_sets_and_reads_its_organizations_periods_only(
    client: httpx.Client, org: Org, other_org: Org
) -> None:
    assert client.get(PATH, headers=org.headers()).json() == {
        "retention_days": None,
        "content_retention_days": None,
        "updated_at": None,
    }
    response = put(client, org, {"retention_days": 365, "content_retention_days": 30})
    assert response.status_code == 200, response.text
    body = client.get(PATH, headers=org.headers()).json()
    assert (body["retention_days"], body["content_retention_days"]) == (365, 30)
    assert body["updated_at"].endswith("Z")
    assert body == response.json()
    assert client.get(PATH, headers=other_org.headers()).json()["retention_days"] is None
    cleared = put(client, org, {"retention_days": None, "content_retention_days": None}).json()
    assert (cleared["retention_days"], cleared["content_retention_days"]) == (None, None)


def test_every_change_is_audited_with_the_key_and_both_periods(
    client: httpx.Client, org: Org, database: Database
) -> None:
    put(client, org, {"retention_days": 90, "content_retention_days": None})
    put(client, org, {"retention_days": 60, "content_retention_days": 7})
    with session_scope(database.reader) as db:
        rows = db.scalars(
            select(AuditEntry).where(AuditEntry.organization_id == org.id).order_by(AuditEntry.id)
        ).all()
    assert [row.action for row in rows] == ["retention.changed", "retention.changed"]
    assert org.admin.startswith(rows[0].actor)
    assert rows[0].client_ip == "127.0.0.1"
    assert rows[1].details == {
        "before": {"retention_days": 90, "content_retention_days": None},
        "after": {"retention_days": 60, "content_retention_days": 7},
    }


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_only_an_admin_key_reaches_the_periods(client: httpx.Client, org: Org, method: str) -> None:
    body = {"retention_days": 1, "content_retention_days": None}
    assert client.request(method, PATH, json=body).status_code == 401
    assert (
        client.request(method, PATH, json=body, headers={"Syllable-API-Key": "sk_wrong"}).status_code == 401
    )
    for scope in ("read", "ingest"):
        assert client.request(method, PATH, json=body, headers=org.headers(scope)).status_code == 403
    assert client.get(PATH, headers=org.headers()).json()["retention_days"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"retention_days": 0, "content_retention_days": None}, "retention_days"),
        ({"retention_days": 36_501, "content_retention_days": None}, "retention_days"),
        ({"retention_days": 10**30, "content_retention_days": None}, "retention_days"),
        ({"retention_days": "30", "content_retention_days": None}, "retention_days"),
        ({"retention_days": True, "content_retention_days": None}, "retention_days"),
        ({"retention_days": 1.5, "content_retention_days": None}, "retention_days"),
        ({"retention_days": None, "content_retention_days": -1}, "content_retention_days"),
        ({"retention_days": 30}, "content_retention_days"),
        ({"retention_days": 30, "content_retention_days": 7, "extra": 1}, "extra"),
    ],
)
def test_a_bad_period_is_a_422_naming_its_field(
    client: httpx.Client, org: Org, body: Any, field: str
) -> None:
    response = put(client, org, body)
    assert response.status_code == 422, response.text
    assert field in {str(part) for error in response.json()["detail"] for part in error["loc"]}
    assert client.get(PATH, headers=org.headers()).json()["retention_days"] is None


def test_content_kept_longer_than_its_session_is_a_400_naming_the_field(
    client: httpx.Client, org: Org
) -> None:
    response = put(client, org, {"retention_days": 30, "content_retention_days": 31})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("content_retention_days")


def test_the_cli_shows_and_sets_periods_keeping_what_it_is_not_given(
    database_url: str, tmp_path: Path, org: Org
) -> None:
    env = {"SESSIONARY_DATABASE_URL": database_url, "SESSIONARY_BLOB_DIR": str(tmp_path / "blobs")}
    shown = runner.invoke(app, ["retention", "show", "--org", org.name], env=env)
    assert shown.exit_code == 0
    assert "sessions kept forever, content kept forever" in shown.output
    both = runner.invoke(
        app, ["retention", "set", "--org", org.name, "--days", "90", "--content-days", "7"], env=env
    )
    assert both.exit_code == 0
    assert "sessions kept 90 days, content kept 7 days" in both.output
    one = runner.invoke(app, ["retention", "set", "--org", org.name, "--content-days", "none"], env=env)
    assert one.exit_code == 0
    assert "sessions kept 90 days, content kept forever" in one.output
    bad = runner.invoke(
        app, ["retention", "set", "--org", org.name, "--days", "3", "--content-days", "9"], env=env
    )
    assert bad.exit_code == 1
    assert "content_retention_days" in bad.output
    nobody = runner.invoke(app, ["retention", "show", "--org", "no-such-org-x"], env=env)
    assert nobody.exit_code == 1
