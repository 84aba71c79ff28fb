"""`sessionary integrations add|list|remove` on every database: the webhook URL printed last, on
SESSIONARY_PUBLIC_URL; the secret prompted for when omitted, never printed, stored sealed."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sessionary.cli import app
from sessionary.db import Database, session_scope
from sessionary.integrations import service
from sessionary.integrations.models import Integration
from sessionary.integrations.secrets import SECRET_NAME, Sealer, SecretUnreadable
from sessionary.recordings.tokens import load_secret
from tests.integrations.conftest import PUBLIC_URL, SECRETS

runner = CliRunner()
OPTION = {"twilio": "--auth-token", "vapi": "--secret", "retell": "--api-key"}
KEY_A = "n6XwQ2-kR8vTzL4pY9dB1sHcE7uJmA3f"  # SESSIONARY_SECRET_KEY values strong enough to be accepted
KEY_B = "Kp3v-Q8sZ_w1xN4rT7yB2mC5fH9jL0dA6eG"


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return {"SESSIONARY_DATABASE_URL": database_url, "SESSIONARY_PUBLIC_URL": PUBLIC_URL + "/"}


def _org() -> str:
    return f"cli-int-{uuid.uuid4().hex[:8]}"


def _add(env: dict[str, str], org: str, provider: str, *extra: str, secret: str | None = None) -> str:
    secret_args = [OPTION[provider], secret or SECRETS[provider]]
    result = runner.invoke(
        app, ["integrations", "add", provider, "--org", org, *secret_args, *extra], env=env
    )
    assert result.exit_code == 0, result.output
    return result.output


def _row(database: Database, integration_id: int) -> Integration:
    with session_scope(database.reader) as db:
        row = db.scalar(select(Integration).where(Integration.id == integration_id))
    assert row is not None
    return row


def _stored_sealer(database: Database) -> Sealer:
    return Sealer(load_secret(database, None, name=SECRET_NAME))


@pytest.mark.parametrize("provider", sorted(OPTION))
def test_add_prints_the_webhook_url_on_the_public_url_last_and_stores_the_secret_sealed(
    env: dict[str, str], database: Database, provider: str
) -> None:
    output = _add(env, _org(), provider, "--name", "main line")
    url = output.strip().splitlines()[-1]
    assert url.startswith(f"{PUBLIC_URL}/webhooks/wh_")
    assert f"provider: {provider}" in output
    assert SECRETS[provider] not in output
    with session_scope(database.reader) as db:
        row = service.find_active(db, token=url.rsplit("/", 1)[1])
        assert row is not None
        assert (row.provider, row.name) == (provider, "main line")
        assert SECRETS[provider] not in row.sealed_secret
        assert service.secret_of(db, _stored_sealer(database), integration_id=row.id) == SECRETS[provider]


def test_add_prompts_for_an_omitted_secret_with_hidden_input(env: dict[str, str], database: Database) -> None:
    secret = "prompted-Secret-4242"
    result = runner.invoke(
        app, ["integrations", "add", "vapi", "--org", _org()], env=env, input=f"{secret}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Vapi server secret" in result.output
    assert secret not in result.output  # hidden input: not echoed
    integration_id = int(result.output.split("id: ")[1].split()[0])
    with session_scope(database.reader) as db:
        assert service.secret_of(db, _stored_sealer(database), integration_id=integration_id) == secret


@pytest.mark.parametrize("bad", ["", "two\nlines", " padded", "x" * 513])
def test_add_refuses_an_invalid_secret_naming_it_and_stores_nothing(
    env: dict[str, str], database: Database, bad: str
) -> None:
    org = _org()
    result = runner.invoke(app, ["integrations", "add", "retell", "--org", org, "--api-key", bad], env=env)
    assert result.exit_code == 1
    assert "secret:" in result.output
    listed = runner.invoke(app, ["integrations", "list", "--org", org], env=env)
    assert "no organization named" in listed.output  # the whole transaction was rolled back


def test_add_refuses_an_invalid_public_url_naming_the_variable(env: dict[str, str]) -> None:
    env = {**env, "SESSIONARY_PUBLIC_URL": "https://user:pw@hooks.example.test"}
    result = runner.invoke(app, ["integrations", "add", "vapi", "--org", _org(), "--secret", "s"], env=env)
    assert result.exit_code == 1
    assert "SESSIONARY_PUBLIC_URL" in result.output
    assert "pw@" not in result.output


def test_list_shows_each_integration_without_its_secret_and_remove_takes_it_out(env: dict[str, str]) -> None:
    org = _org()
    twilio = _add(env, org, "twilio", "--name", "sales")
    vapi = _add(env, org, "vapi")
    ids = [int(output.split("id: ")[1].split()[0]) for output in (twilio, vapi)]
    listed = runner.invoke(app, ["integrations", "list", "--org", org], env=env)
    assert listed.exit_code == 0, listed.output
    lines = listed.output.strip().splitlines()
    assert lines[0].split() == ["id", "provider", "token", "created", "secret", "name"]
    assert [line.split()[:2] for line in lines[1:]] == [[str(ids[0]), "twilio"], [str(ids[1]), "vapi"]]
    assert lines[1].split()[4:] == ["ok", "sales"]
    assert all(secret not in listed.output for secret in SECRETS.values())
    assert all(url.strip().splitlines()[-1] not in listed.output for url in (twilio, vapi))
    removed = runner.invoke(app, ["integrations", "remove", "--org", org, str(ids[0])], env=env)
    assert removed.exit_code == 0, removed.output
    again = runner.invoke(app, ["integrations", "list", "--org", org], env=env)
    assert [line.split()[0] for line in again.output.strip().splitlines()[1:]] == [str(ids[1])]


def test_remove_refuses_an_unknown_id_and_another_organizations(env: dict[str, str]) -> None:
    theirs = int(_add(env, _org(), "vapi").split("id: ")[1].split()[0])
    org = _org()
    _add(env, org, "twilio")
    for integration_id in (str(theirs), "999999999"):
        result = runner.invoke(app, ["integrations", "remove", "--org", org, integration_id], env=env)
        assert result.exit_code == 1
        assert "Integration not found" in result.output


def test_list_of_an_unknown_organization_fails(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["integrations", "list", "--org", _org()], env=env)
    assert result.exit_code == 1
    assert "no organization named" in result.output


def test_a_changed_secret_key_makes_secrets_unreadable_and_list_flags_them(
    env: dict[str, str], database: Database
) -> None:
    org = _org()
    output = _add({**env, "SESSIONARY_SECRET_KEY": KEY_A}, org, "retell")
    integration_id = int(output.split("id: ")[1].split()[0])
    with session_scope(database.reader) as db:
        assert service.secret_of(db, Sealer(KEY_A), integration_id=integration_id) == SECRETS["retell"]
        with pytest.raises(SecretUnreadable):
            service.secret_of(db, Sealer(KEY_B), integration_id=integration_id)
    same = runner.invoke(
        app, ["integrations", "list", "--org", org], env={**env, "SESSIONARY_SECRET_KEY": KEY_A}
    )
    assert same.output.strip().splitlines()[1].split()[4] == "ok"
    changed = runner.invoke(
        app, ["integrations", "list", "--org", org], env={**env, "SESSIONARY_SECRET_KEY": KEY_B}
    )
    assert changed.exit_code == 0
    assert changed.output.strip().splitlines()[1].split()[4] == "UNREADABLE"
    assert "remove each with `sessionary integrations remove`" in " ".join(changed.output.split())
