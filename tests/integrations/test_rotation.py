"""`sessionary secret rotate` keeps integrations working on every database: every sealed secret is sealed
again under the new server secret in the rotation's transaction, a server process still holding the old
secret opens and seals correctly, and a connect in progress is not missed by a concurrent rotation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from sessionary import migrate, sealing
from sessionary.cli import app
from sessionary.config import Settings
from sessionary.db import Database, open_database, session_scope
from sessionary.integrations import service
from sessionary.integrations.secrets import SecretUnreadable
from sessionary.recordings import tokens
from sessionary.tenancy import service as tenancy
from tests.conftest import empty_database
from tests.integrations.conftest import PUBLIC_URL, SECRETS

runner = CliRunner()
CONFIGURED = "n6XwQ2-kR8vTzL4pY9dB1sHcE7uJmA3f"


@pytest.fixture
def own_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the same kind for this test alone: a rotation would disturb the shared servers."""
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with empty_database(kind, tmp_path) as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture
def own_database(own_url: str) -> Iterator[Database]:
    database = open_database(own_url, pool_size=2)
    yield database
    database.dispose()


@pytest.fixture
def rotate(own_url: str) -> Callable[[], str]:
    """`sessionary secret rotate` on the test's own database; its output."""

    def run() -> str:
        result = runner.invoke(app, ["secret", "rotate"], env={"SESSIONARY_DATABASE_URL": own_url})
        assert result.exit_code == 0, result.output
        return result.output

    return run


def _acme(database: Database) -> int:
    with session_scope(database.writer) as db:
        return tenancy.get_or_create_organization(db, name="acme").id


def _connect(database: Database, provider: str, org: str = "acme") -> int:
    with session_scope(database.writer) as db:
        organization = tenancy.get_or_create_organization(db, name=org)
        connected = service.connect(
            db,
            sealing.sealer_in(db, None),
            organization_id=organization.id,
            provider=provider,
            secret=SECRETS[provider],
            public_url=PUBLIC_URL,
        )
        return connected.integration.id


def _secret(database: Database, sealer: sealing.Sealer, integration_id: int) -> str | None:
    with session_scope(database.reader) as db:
        return service.secret_of(db, sealer, integration_id=integration_id)


def test_rotate_reseals_every_integration_so_secret_of_keeps_working(
    own_database: Database, rotate: Callable[[], str]
) -> None:
    ids = {provider: _connect(own_database, provider) for provider in SECRETS}
    acme = _acme(own_database)
    with session_scope(own_database.writer) as db:  # a removed one's recordings may still be fetched
        service.remove(db, organization_id=acme, integration_id=ids["vapi"])
    old = sealing.stored_sealer(own_database, None)
    output = rotate()
    assert "resealed 3 integration secrets" in output
    new = sealing.stored_sealer(own_database, None)
    for provider, integration_id in ids.items():
        assert _secret(own_database, new, integration_id) == SECRETS[provider]
        with pytest.raises(SecretUnreadable):
            _secret(own_database, old, integration_id)


def test_a_server_process_holding_the_old_secret_still_opens_and_seals_under_the_new_one(
    own_database: Database, own_url: str, rotate: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "REFRESH_SECONDS", 3600.0)  # the cache outlives the test, however slow
    integration_id = _connect(own_database, "twilio")
    acme = _acme(own_database)
    state = SimpleNamespace(db=own_database, settings=Settings(database_url=own_url), secrets=None)
    sealers = sealing.AppSealers(state)
    assert _secret(own_database, sealers.current(), integration_id) == SECRETS["twilio"]  # now cached
    rotate()
    with pytest.raises(SecretUnreadable):  # the cache still holds the old secret
        _secret(own_database, sealers.current(), integration_id)
    with session_scope(own_database.reader) as db:
        assert service.open_secret(db, sealers, integration_id=integration_id) == SECRETS["twilio"]
    rotate()  # the cache holds a stale secret again; sealing does not use it
    with session_scope(own_database.writer) as db:
        connected = service.connect(
            db,
            sealers.for_sealing(db),
            organization_id=acme,
            provider="vapi",
            secret=SECRETS["vapi"],
            public_url=PUBLIC_URL,
        )
    stored = sealing.stored_sealer(own_database, None)
    assert _secret(own_database, stored, connected.integration.id) == SECRETS["vapi"]


def test_a_rotation_waits_for_a_connect_in_progress_and_reseals_its_secret(
    own_database: Database, rotate: Callable[[], str]
) -> None:
    _connect(own_database, "twilio")  # the sealing secret exists
    acme = _acme(own_database)
    outputs: list[str] = []
    with session_scope(own_database.writer) as db:
        sealer = sealing.sealer_in(db, None)  # the secret is read, and held until this transaction ends
        rotation = threading.Thread(target=lambda: outputs.append(rotate()))
        rotation.start()
        time.sleep(0.5)  # give the rotation every chance to run first (it must wait instead)
        connected = service.connect(
            db,
            sealer,
            organization_id=acme,
            provider="retell",
            secret=SECRETS["retell"],
            public_url=PUBLIC_URL,
        )
    rotation.join(timeout=60)
    assert len(outputs) == 1
    assert "resealed 2 integration secrets" in outputs[0]
    stored = sealing.stored_sealer(own_database, None)
    assert _secret(own_database, stored, connected.integration.id) == SECRETS["retell"]


def test_rotate_with_a_configured_secret_key_refuses_and_says_what_becomes_of_integrations(
    own_url: str,
) -> None:
    env = {"SESSIONARY_DATABASE_URL": own_url, "SESSIONARY_SECRET_KEY": CONFIGURED}
    result = runner.invoke(app, ["secret", "rotate"], env=env)
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "give it a new value and restart" in said
    assert "integrations list" in said
    assert "remove and add each again" in said


def test_rotate_reports_integrations_sealed_under_a_former_secret_key_as_still_unreadable(
    own_database: Database, rotate: Callable[[], str]
) -> None:
    with session_scope(own_database.writer) as db:
        organization = tenancy.get_or_create_organization(db, name="acme")
        service.connect(
            db,
            sealing.sealer_in(db, Settings(secret_key=CONFIGURED).secret_key),
            organization_id=organization.id,
            provider="vapi",
            secret=SECRETS["vapi"],
            public_url=PUBLIC_URL,
        )
    output = rotate()  # SESSIONARY_SECRET_KEY unset since: nothing stored opens that secret
    assert "resealed 0 integration secrets" in output
    assert "1 integration secrets were already unreadable" in output
