"""The `sessionary` command: keys create, import (with line-numbered errors), db upgrade, demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from sessionary.analysis.models import SessionSummary
from sessionary.cli import app
from sessionary.db import Database, open_database, session_scope
from sessionary.db_stats import setting_warnings
from sessionary.eventlog.models import Event
from sessionary.labels.models import SessionLabel
from sessionary.recordings.models import Recording
from sessionary.sessions.models import Session
from sessionary.tenancy import service as tenancy
from sessionary.tenancy.models import Organization
from tests.helpers import event

runner = CliRunner()


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"SESSIONARY_DATABASE_URL": database_url, "SESSIONARY_BLOB_DIR": str(tmp_path / "blobs")}


def _org_counts(database: Database, name: str) -> tuple[int, int]:
    with session_scope(database.reader) as db:
        org_id = db.scalar(select(Organization.id).where(Organization.name == name))
        native = Session.channel_manager_service != "journey"  # the demo adds journey (web/app) sessions too
        sessions = db.scalar(select(func.count()).where(Session.organization_id == org_id, native))
        events = db.scalar(select(func.count()).where(Event.organization_id == org_id))
    return sessions or 0, events or 0


def test_keys_create_prints_a_working_key_last(env: dict[str, str], database: Database) -> None:
    result = runner.invoke(
        app, ["keys", "create", "--org", "cli-keys", "--scope", "read", "--scope", "ingest"], env=env
    )
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("sk_")
    with session_scope(database.reader) as db:
        principal = tenancy.authenticate(db, key=key)
    assert principal.scopes == {"read", "ingest"}


def test_keys_create_refuses_an_unknown_scope(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["keys", "create", "--org", "cli-bad", "--scope", "superuser"], env=env)
    assert result.exit_code == 1
    assert "superuser" in result.output


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_import_stores_events_and_rerun_counts_duplicates(
    env: dict[str, str], database: Database, tmp_path: Path
) -> None:
    lines = [json.dumps(event(f"imp-{i}", sid=f"call-{i % 3}")) for i in range(10)]
    path = _write(tmp_path / "events.jsonl", lines)
    first = runner.invoke(app, ["import", "--org", "cli-import", str(path), "--batch-size", "4"], env=env)
    assert first.exit_code == 0, first.output
    assert "10 new, 0 duplicates" in first.output
    assert _org_counts(database, "cli-import") == (3, 10)
    again = runner.invoke(app, ["import", "--org", "cli-import", str(path)], env=env)
    assert "0 new, 10 duplicates" in again.output
    assert _org_counts(database, "cli-import") == (3, 10)


def test_import_reports_the_bad_line_and_stores_nothing_of_its_batch(
    env: dict[str, str], database: Database, tmp_path: Path
) -> None:
    good = [json.dumps(event(f"ok-{i}", sid=f"c{i}")) for i in range(5)]
    bad = json.dumps(event("bad", data={"source": "robot", "text": "x"}))
    path = _write(tmp_path / "bad.jsonl", [*good[:3], "", bad, *good[3:]])
    result = runner.invoke(app, ["import", "--org", "cli-bad-line", str(path), "--batch-size", "2"], env=env)
    assert result.exit_code == 1
    assert "line 5" in result.output
    assert "source" in result.output
    # Batches are [ok-0, ok-1] (stored) then [ok-2, bad] (refused whole): ok-2 is not stored.
    assert _org_counts(database, "cli-bad-line") == (2, 2)


def test_import_reports_invalid_json_with_its_line(env: dict[str, str], tmp_path: Path) -> None:
    path = _write(tmp_path / "broken.jsonl", [json.dumps(event("fine")), "{oops"])
    result = runner.invoke(app, ["import", "--org", "cli-json", str(path)], env=env)
    assert result.exit_code == 1
    assert "line 2" in result.output


def test_db_upgrade_reports_up_to_date(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_demo_generates_sessions_once_and_prints_a_key(env: dict[str, str], database: Database) -> None:
    result = runner.invoke(app, ["demo", "--sessions", "40", "--no-serve"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].split()[-1].startswith("sk_")
    sessions, events = _org_counts(database, "demo")
    assert sessions == 40
    assert events > 40 * 10
    _demo_extras(env, database)
    again = runner.invoke(app, ["demo", "--sessions", "40", "--no-serve"], env=env)
    assert again.exit_code == 0
    assert _org_counts(database, "demo") == (sessions, events)


def _demo_extras(env: dict[str, str], database: Database) -> None:
    """The demo's recordings, labels and summaries (checked after its first run, 40 sessions)."""
    with session_scope(database.reader) as db:
        org_id = db.scalar(select(Organization.id).where(Organization.name == "demo"))
        ended = db.scalar(
            select(func.count()).where(Session.organization_id == org_id, Session.ended_at.is_not(None))
        )
        summaries = db.scalar(
            select(func.count())
            .select_from(SessionSummary)
            .join(Session)
            .where(Session.organization_id == org_id)
        )
        kinds = dict(
            db.execute(
                select(SessionLabel.type, func.count())
                .where(SessionLabel.organization_id == org_id)
                .group_by(SessionLabel.type)
            ).all()
        )
        blobs = db.scalars(select(Recording.blob_key).where(Recording.organization_id == org_id)).all()
    assert ended == 40
    assert summaries == 40
    assert kinds == {"auto-rating": 40, "human-rating": 4}
    assert len(blobs) == 4
    assert all((Path(env["SESSIONARY_BLOB_DIR"]) / key).read_bytes()[:4] == b"RIFF" for key in blobs)


def test_db_upgrade_prints_a_warning_for_each_postgres_setting_that_is_off(env: dict[str, str]) -> None:
    """The same warnings as the server logs (db_stats.setting_warnings), after the migration; on SQLite
    there is none to print."""
    result = runner.invoke(app, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    database = open_database(env["SESSIONARY_DATABASE_URL"], pool_size=1)
    try:
        expected = setting_warnings(database)
    finally:
        database.dispose()
    lines = result.stderr.splitlines()
    printed = [line.removeprefix("warning: ") for line in lines if line.startswith("warning: ")]
    assert printed == expected
    if env["SESSIONARY_DATABASE_URL"].startswith("sqlite"):
        assert printed == []
