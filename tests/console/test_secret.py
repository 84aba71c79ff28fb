"""The server secret: a configured one must be strong; a generated one is stored once and shared, and
`sessionary secret rotate` replaces it (old console cookies and recording URLs stop working)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from sessionary import migrate
from sessionary.app import create_app_from_env
from sessionary.cli import app as cli
from sessionary.config import Settings
from sessionary.console.secret import COOKIE_SECRET
from sessionary.db import Database, open_database
from sessionary.recordings.tokens import load_secret
from tests.conftest import empty_database, make_org
from tests.console.helpers import signed_in
from tests.helpers import LiveServer
from tests.recordings.helpers import audio, recording_urls, upload_ok

STRONG = "Kp3v-Q8sZ_w1xN4rT7yB2mC5fH9jL0dA6eG"
WEAK = ["abc", "a" * 64, "abcdefghijklmnopqrstuvwxyz0123456789", "password" * 5, "Kp3v-Q8sZ_w1xN4rT7yB2m"]


def server_secret(database: Database, settings: Settings) -> str:
    """The console's cookie secret as the app's SecretCache loads it."""
    return load_secret(database, settings.secret_key, name=COOKIE_SECRET)


def test_a_generated_secret_is_stored_once_and_shared(database: Database, database_url: str) -> None:
    first = server_secret(database, Settings(database_url=database_url))
    other_process = open_database(database_url, pool_size=1)
    try:
        assert server_secret(other_process, Settings(database_url=database_url)) == first
    finally:
        other_process.dispose()
    assert len(first) >= 32


def test_the_setting_wins(database: Database, database_url: str) -> None:
    settings = Settings(database_url=database_url, secret_key=STRONG)
    assert server_secret(database, settings) == STRONG
    assert server_secret(database, Settings(database_url=database_url)) != STRONG


@pytest.mark.parametrize("weak", WEAK)
def test_a_short_or_guessable_secret_key_is_refused_naming_the_variable_and_the_minimum(weak: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(secret_key=weak)
    message = str(caught.value)
    assert "SESSIONARY_SECRET_KEY" in message
    assert "at least 32 characters" in message
    assert "80 bits" in message
    assert weak not in message  # the secret is not echoed into logs


def test_create_app_refuses_a_weak_secret_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESSIONARY_SECRET_KEY", "abc")
    with pytest.raises(ValidationError, match="SESSIONARY_SECRET_KEY"):
        create_app_from_env()


def test_serve_refuses_to_start_with_a_weak_secret_key(tmp_path: Path) -> None:
    env = {"SESSIONARY_SECRET_KEY": "abc", "SESSIONARY_DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}"}
    result = CliRunner().invoke(cli, ["serve", "--port", "1"], env=env)
    assert result.exit_code == 1
    assert "SESSIONARY_SECRET_KEY must be at least 32 characters" in " ".join(result.output.split())
    assert not (tmp_path / "never.db").exists()  # refused before anything was opened


def test_secret_rotate_refuses_when_the_secret_is_configured(tmp_path: Path) -> None:
    env = {"SESSIONARY_SECRET_KEY": STRONG, "SESSIONARY_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = CliRunner().invoke(cli, ["secret", "rotate"], env=env)
    assert result.exit_code == 1
    assert "give it a new value and restart" in " ".join(result.output.split())


@pytest.fixture
def own_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the same kind for this test alone: a rotation would disturb the shared server."""
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with empty_database(kind, tmp_path) as url:
        migrate.upgrade(url)
        yield url


def test_secret_rotate_ends_console_sessions_at_once_and_old_recording_urls_soon_after(
    own_database_url: str, tmp_path: Path
) -> None:
    database = open_database(own_database_url, pool_size=1)
    settings = Settings(database_url=own_database_url, blob_dir=tmp_path / "blobs", analysis_worker=False)
    try:
        org = make_org(database)
        with LiveServer.start(settings) as live, httpx.Client(base_url=live.url, timeout=30) as api:
            stored = upload_ok(api, org.ingest, audio(100), sid=f"rot-{uuid.uuid4().hex[:8]}")
            [old_url] = recording_urls(api, org.read, stored["session_id"])
            assert api.get(old_url).status_code == 200
            with signed_in(live.url, org.read) as browser:
                assert browser.get("/sessions").status_code == 200
                result = CliRunner().invoke(
                    cli, ["secret", "rotate"], env={"SESSIONARY_DATABASE_URL": own_database_url}
                )
                assert result.exit_code == 0, result.output
                assert "ended 1 console sessions" in result.output
                refused = browser.get("/sessions")
                assert refused.status_code == 303
                assert refused.headers["location"].startswith("/signin")
            deadline = time.monotonic() + 60  # the process reads the secret again within 10 s
            while api.get(old_url).status_code == 200 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert api.get(old_url).status_code == 403
            [new_url] = recording_urls(api, org.read, stored["session_id"])
            assert api.get(new_url).content == audio(100)
    finally:
        database.dispose()
