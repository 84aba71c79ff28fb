"""Integrations added and removed, over the API and the CLI, are in the audit trail (never the provider's
secret nor the webhook URL)."""

from __future__ import annotations

from pathlib import Path

import httpx
from typer.testing import CliRunner

from sessionary.cli import app
from tests.conftest import Org
from tests.integrations.conftest import INTEGRATIONS, PUBLIC_URL, SECRETS, create_ok
from tests.keys.helpers import audit


def test_adding_and_removing_an_integration_over_the_api_is_recorded(client: httpx.Client, org: Org) -> None:
    created = create_ok(client, org.admin, "vapi", name="support line")
    assert client.delete(f"{INTEGRATIONS}/{created['id']}", headers=org.headers("admin")).status_code == 204
    removed, added = audit(client, org.admin)
    assert (added["action"], removed["action"]) == ("integration.created", "integration.removed")
    for entry in (added, removed):
        assert entry["actor"] == org.admin[:10]
        assert entry["target"] == created["token_prefix"]
        assert entry["client_ip"] == "127.0.0.1"
        assert entry["details"] == {
            "integration_id": created["id"],
            "provider": "vapi",
            "name": "support line",
        }
    text = str(audit(client, org.admin))
    assert SECRETS["vapi"] not in text
    assert created["webhook_url"] not in text


def test_the_cli_records_its_integrations_as_cli(
    client: httpx.Client, org: Org, database_url: str, tmp_path: Path
) -> None:
    env = {"SESSIONARY_DATABASE_URL": database_url, "SESSIONARY_PUBLIC_URL": PUBLIC_URL}
    runner = CliRunner()
    added = runner.invoke(
        app, ["integrations", "add", "twilio", "--org", org.name, "--auth-token", SECRETS["twilio"]], env=env
    )
    assert added.exit_code == 0, added.output
    integration_id = added.output.split("id: ")[1].split()[0]
    removed = runner.invoke(app, ["integrations", "remove", "--org", org.name, integration_id], env=env)
    assert removed.exit_code == 0, removed.output
    entries = audit(client, org.admin)
    assert [(e["action"], e["actor"], e["client_ip"]) for e in entries] == [
        ("integration.removed", "cli", None),
        ("integration.created", "cli", None),
    ]
