"""`sessionary deployments create`, `segments create`, `outcomes create`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sessionary.cli import app
from sessionary.db import Database, session_scope
from sessionary.journey.models import Deployment, Rule

runner = CliRunner()


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return {"SESSIONARY_DATABASE_URL": database_url}


def test_deployments_create_prints_the_new_id_last_with_its_domains_and_settings(
    env: dict[str, str], database: Database
) -> None:
    args = [
        "deployments",
        "create",
        "--org",
        "cli-journey",
        "--name",
        "Shop",
        "--allowed-domain",
        "Shop.Example",
    ]
    result = runner.invoke(app, [*args, "--allowed-domain", "example.org", "--short-id-length", "6"], env=env)
    assert result.exit_code == 0, result.output
    deployment_id = result.output.strip().splitlines()[-1]
    with session_scope(database.reader) as db:
        row = db.get(Deployment, deployment_id)
        assert row is not None
        assert (row.name, row.allowed_domains) == ("Shop", ["example.org", "shop.example"])
        assert row.settings["short_id_length"] == 6


def test_deployments_create_refuses_a_url_as_a_domain(env: dict[str, str]) -> None:
    args = [
        "deployments",
        "create",
        "--org",
        "cli-journey",
        "--name",
        "x",
        "--allowed-domain",
        "https://a.b/",
    ]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 1
    assert "not a host name" in result.output


def test_segments_and_outcomes_create_store_parsed_conditions(
    env: dict[str, str], database: Database
) -> None:
    seg = runner.invoke(
        app,
        ["segments", "create", "--org", "cli-rules", "--name", "Searchers"]
        + ["--when", "referrer.medium == search", "--when", "pageviewCount >= 3"],
        env=env,
    )
    out = runner.invoke(
        app,
        ["outcomes", "create", "--org", "cli-rules", "--name", "Bought", "--when", "eventName == order_done"],
        env=env,
    )
    assert seg.exit_code == 0, seg.output
    assert out.exit_code == 0, out.output
    with session_scope(database.reader) as db:
        segment = db.get(Rule, seg.output.strip().splitlines()[-1])
        outcome = db.get(Rule, out.output.strip().splitlines()[-1])
        assert segment is not None
        assert outcome is not None
        assert (segment.kind, outcome.kind) == ("segment", "outcome")
        assert segment.conditions == [
            {"field": "referrer.medium", "op": "==", "value": "search"},
            {"field": "pageviewCount", "op": ">=", "value": 3},
        ]


def test_a_malformed_condition_is_refused_with_the_expected_form(env: dict[str, str]) -> None:
    args = ["segments", "create", "--org", "cli-rules", "--name", "x", "--when", "pageviewCount is big"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 1
    assert "FIELD OP VALUE" in result.output
