"""`sessionary erase` (shows, asks, erases in batches beyond the API's cap) and `sessionary audit prove`; the
API's cap (409 pointing to the CLI); the audit entry, which holds no identifier (nor do the server's logs)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sessionary.audit.models import AuditEntry
from sessionary.cli import app
from sessionary.config import Settings
from sessionary.db import Database, session_scope
from sessionary.lifecycle import cli as lifecycle_cli
from tests.conftest import Org
from tests.helpers import LiveServer, event, ingest_ok, list_sessions
from tests.lifecycle.tables import rows_holding
from tests.recordings.helpers import audio, stored_files, upload_ok
from tests.system.processes import ServerProcess

runner = CliRunner()
PHONE = "+1 (804) 555-0177"


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"SESSIONARY_DATABASE_URL": database_url, "SESSIONARY_BLOB_DIR": str(tmp_path / "blobs")}


def _calls(client: httpx.Client, org: Org, count: int, source: str = PHONE) -> None:
    """`count` calls from `source`."""
    data = {"channel_manager_type": "voice_sip_v1", "source": source}
    made = [event(f"{source}{n}-s", "session.started", sid=f"{source}-{n}", data=data) for n in range(count)]
    ingest_ok(client, org.ingest, made)


def _count(client: httpx.Client, org: Org) -> int:
    total: int = list_sessions(client, org.read)["total_count"]
    return total


def _erasures(database: Database, org: Org) -> list[AuditEntry]:
    with session_scope(database.reader) as db:
        stmt = select(AuditEntry).where(AuditEntry.organization_id == org.id, AuditEntry.action == "erasure")
        return list(db.scalars(stmt))


def test_erase_shows_what_would_go_and_erases_nothing_when_refused(
    client: httpx.Client, org: Org, env: dict[str, str], database: Database
) -> None:
    _calls(client, org, 3)
    result = runner.invoke(app, ["erase", "--org", org.name, "--phone", "8045550177"], env=env, input="n\n")
    assert result.exit_code == 1
    assert "would erase: 3 sessions (3 voice, 0 chat, 0 web, 0 app, 0 other)" in result.output
    assert _count(client, org) == 3
    assert _erasures(database, org) == []


def test_erase_in_batches_deletes_everything_and_records_one_audit_entry(
    client: httpx.Client, org: Org, env: dict[str, str], database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _calls(client, org, 5)
    _calls(client, org, 1, source="+18045550178")
    monkeypatch.setattr(lifecycle_cli, "BATCH", 2)
    result = runner.invoke(app, ["erase", "--org", org.name, "--phone", "tel:+18045550177", "--yes"], env=env)
    assert result.exit_code == 0, result.output
    assert "erased: 5 sessions (5 voice" in result.output
    assert _count(client, org) == 1
    (entry,) = _erasures(database, org)
    assert (entry.actor, entry.details["kind"], entry.details["sessions"]["voice"]) == ("cli", "phone", 5)


def test_audit_prove_finds_the_erasure_of_an_identifier_in_any_format_and_only_of_it(
    client: httpx.Client, org: Org, env: dict[str, str]
) -> None:
    erased = client.post("/api/v1/erasure", json={"phone": PHONE}, headers=org.headers())
    assert erased.status_code == 200, erased.text
    proved = runner.invoke(app, ["audit", "prove", "--org", org.name, "--phone", "804 555 0177"], env=env)
    assert proved.exit_code == 0, proved.output
    assert "erased: audit entry" in proved.output
    other = runner.invoke(app, ["audit", "prove", "--org", org.name, "--phone", "804 555 0178"], env=env)
    assert other.exit_code == 1
    by_email = runner.invoke(app, ["audit", "prove", "--org", org.name, "--email", "a@example.com"], env=env)
    assert by_email.exit_code == 1


def test_erase_names_a_bad_identifier(org: Org, env: dict[str, str]) -> None:
    result = runner.invoke(app, ["erase", "--org", org.name, "--phone", "12", "--yes"], env=env)
    assert result.exit_code == 1
    assert "phone: not a possible phone number" in result.output
    both = runner.invoke(app, ["erase", "--org", org.name, "--phone", PHONE, "--email", "a@b.co"], env=env)
    assert both.exit_code == 1


@pytest.fixture
def capped(database_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    settings = Settings(
        database_url=database_url, blob_dir=tmp_path, analysis_worker=False, erasure_max_sessions=2
    )
    with LiveServer.start(settings) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        yield http


def test_more_sessions_than_the_cap_answer_409_pointing_to_the_cli_and_erase_nothing(
    capped: httpx.Client, org: Org, database: Database
) -> None:
    _calls(capped, org, 3)
    response = capped.post("/api/v1/erasure", json={"phone": PHONE}, headers=org.headers())
    assert response.status_code == 409
    assert "sessionary erase" in response.json()["detail"]
    assert _count(capped, org) == 3
    assert _erasures(database, org) == []
    assert (
        capped.post("/api/v1/erasure", json={"phone": "+18045550100"}, headers=org.headers()).status_code
        == 200
    )


def test_the_identifier_is_in_no_audit_entry_nor_the_server_log(
    database_url: str, database: Database, org: Org, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    server = ServerProcess.start(database_url, log, env={"SESSIONARY_LOG_LEVEL": "debug"})
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            _calls(http, org, 1, source="ann.audit@example.com")
            for body in ({"email": "Ann.Audit@example.com"}, {"phone": "+1 804 555 0179"}):
                response = http.post("/api/v1/erasure", json=body, headers=org.headers())
                assert response.status_code == 200, response.text
    finally:
        server.stop()
    entries = _erasures(database, org)
    assert [e.details["kind"] for e in entries] == ["email", "phone"]
    assert entries[0].details["sessions"]["voice"] == 1
    assert all(e.target is None for e in entries)
    needles = ["ann.audit@example.com", "8045550179", "804 555 0179"]
    assert rows_holding(database, needles) == {}
    logged = server.output().lower()
    assert "startup" in logged  # the log was written (debug level)
    for needle in needles:
        assert needle not in logged


@pytest.fixture
def blob_server(database_url: str, tmp_path: Path) -> Iterator[tuple[httpx.Client, Path]]:
    blobs = tmp_path / "blobs"
    settings = Settings(database_url=database_url, blob_dir=blobs, analysis_worker=False)
    with LiveServer.start(settings) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        yield http, blobs


def test_the_erased_persons_recording_blobs_leave_the_store(
    blob_server: tuple[httpx.Client, Path], org: Org
) -> None:
    client, blobs = blob_server
    _calls(client, org, 2)
    _calls(client, org, 1, source="+18045550100")
    for sid in (f"{PHONE}-0", f"{PHONE}-1", "+18045550100-0"):
        upload_ok(client, org.ingest, audio(1000), sid=sid)
    assert len(stored_files(blobs)) == 3
    response = client.post("/api/v1/erasure", json={"phone": PHONE}, headers=org.headers())
    assert response.status_code == 200, response.text
    assert response.json()["recordings"] == 2
    deadline = time.monotonic() + 30  # the drain runs after the answer is sent
    while len(stored_files(blobs)) != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(stored_files(blobs)) == 1
