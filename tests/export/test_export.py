"""Export: from the sessions page (the filters of its URL) and `sessionary export`, as CSV, JSON Lines,
Parquet, or JSON Lines with transcripts; keyset pages never skip or repeat a session."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sessionary.cli import app
from sessionary.db import Database, session_scope
from sessionary.export import service as export
from sessionary.sessions.filters import SessionFilter
from tests.conftest import Org
from tests.console.data import call, ingest_calls, session_ids
from tests.console.helpers import signed_in
from tests.helpers import LiveServer

runner = CliRunner()


@pytest.fixture
def calls(client: httpx.Client, org: Org) -> dict[str, str]:
    same_start = "2024-06-20T09:00:00Z"  # three sessions starting at the same instant: ties for the keyset
    ingest_calls(
        client,
        org.ingest,
        [
            call("x1"),
            call("x2", agent="Billing Support", outbound=True, end="2024-06-19T10:00:30Z"),
            call("x3", agent="Billing Support", start=same_start, end="2024-06-20T09:10:00Z"),
            call("x4", start=same_start, end="2024-06-20T09:01:00Z", turns=False),
            call("x5", start=same_start, end="2024-06-20T09:02:00Z", turns=False, test=True),
        ],
    )
    return session_ids(client, org.read)


def test_keyset_pages_cover_every_session_once_newest_first(
    database: Database, org: Org, calls: dict[str, str]
) -> None:
    with session_scope(database.reader) as db:
        pages = list(export.pages(db, organization_id=org.id, f=SessionFilter(), size=2))
    assert [len(p) for p in pages] == [2, 2, 1]
    ids = [row["session_id"] for page in pages for row in page]
    assert sorted(ids) == sorted(int(i) for i in calls.values())
    stamps = [row["timestamp"] for page in pages for row in page]
    assert stamps == sorted(stamps, reverse=True)


def test_csv_from_the_sessions_page_carries_its_filters(
    server: LiveServer, org: Org, calls: dict[str, str]
) -> None:
    with signed_in(server.url, org.read) as http:
        page = http.get("/sessions", params={"agent": "Billing Support"}).text
        assert 'href="/sessions/export?agent=Billing+Support&amp;format=csv"' in page
        response = http.get("/sessions/export", params={"agent": "Billing Support", "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="sessions-')
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["channel_manager_sid"] for r in rows] == ["x3", "x2"]
    assert rows[1]["is_outbound"] == "true"
    assert rows[1]["duration"] == "30.0"
    assert rows[1]["timestamp"] == "2024-06-19T10:00:00Z"
    assert rows[0]["label_code"] == ""


def test_csv_from_the_page_applies_its_transcript_search(
    server: LiveServer, org: Org, calls: dict[str, str]
) -> None:
    with signed_in(server.url, org.read) as http:
        refill = http.get("/sessions/export", params={"q": "refill", "format": "csv"})
        nothing = http.get("/sessions/export", params={"q": "gazebo", "format": "csv"})
    assert refill.status_code == 200
    # x4 and x5 have no turns, so no transcript to match
    assert sorted(r["channel_manager_sid"] for r in csv.DictReader(io.StringIO(refill.text))) == [
        "x1",
        "x2",
        "x3",
    ]
    assert list(csv.DictReader(io.StringIO(nothing.text))) == []


def test_jsonl_parquet_and_transcripts_from_the_page(
    server: LiveServer, org: Org, calls: dict[str, str]
) -> None:
    with signed_in(server.url, org.read) as http:
        jsonl = http.get("/sessions/export", params={"format": "jsonl", "test": "exclude"})
        parquet = http.get("/sessions/export", params={"format": "parquet", "direction": "outbound"})
        transcripts = http.get(
            "/sessions/export", params={"format": "transcripts", "agent": "Pharmacy Refills"}
        )
        bad = http.get("/sessions/export", params={"format": "xlsx"})
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert {line["channel_manager_sid"] for line in lines} == {"x1", "x2", "x3", "x4"}
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.column("channel_manager_sid").to_pylist() == ["x2"]
    assert table.column("is_outbound").to_pylist() == [True]
    sessions = {s["channel_manager_sid"]: s for s in map(json.loads, transcripts.text.splitlines())}
    assert set(sessions) == {"x1", "x4", "x5"}
    assert [t["text"] for t in sessions["x1"]["transcript"]] == ["I need a refill", "Done, ready tomorrow."]
    assert sessions["x1"]["tool_calls"][0]["tool_request"] == '{"dob":"1972"}'
    assert sessions["x4"]["transcript"] == []
    assert bad.status_code == 400
    assert "format" in bad.text


def test_export_needs_a_console_session(client: httpx.Client) -> None:
    assert client.get("/sessions/export", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_cli_export_writes_each_format(
    database_url: str, org: Org, calls: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"out.{fmt}"
    args = [
        "export",
        "--org",
        org.name,
        "--format",
        fmt,
        "--output",
        str(out),
        "--no-test",
        "--min-duration",
        "60",
    ]
    result = runner.invoke(app, args, env={"SESSIONARY_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert "exported 3 sessions" in result.output
    if fmt == "csv":
        sids = [r["channel_manager_sid"] for r in csv.DictReader(io.StringIO(out.read_text()))]
    elif fmt == "jsonl":
        sids = [json.loads(line)["channel_manager_sid"] for line in out.read_text().splitlines()]
    else:
        sids = pq.read_table(out).column("channel_manager_sid").to_pylist()
    assert sorted(sids) == ["x1", "x3", "x4"]


def test_cli_transcripts_and_bad_arguments(
    database_url: str, org: Org, calls: dict[str, str], tmp_path: Path
) -> None:
    env = {"SESSIONARY_DATABASE_URL": database_url}
    out = tmp_path / "t.jsonl"
    done = runner.invoke(
        app,
        [
            "export",
            "--org",
            org.name,
            "--format",
            "jsonl",
            "--transcripts",
            "--output",
            str(out),
            "--agent",
            "Billing Support",
            "--direction",
            "outbound",
        ],
        env=env,
    )
    assert done.exit_code == 0, done.output
    [line] = out.read_text().splitlines()
    assert json.loads(line)["transcript"][0]["source"] == "user"
    not_jsonl = runner.invoke(
        app, ["export", "--org", org.name, "--transcripts", "--output", str(out)], env=env
    )
    assert not_jsonl.exit_code == 1
    assert "--format jsonl" in not_jsonl.output
    bad_start = runner.invoke(
        app, ["export", "--org", org.name, "--output", str(out), "--start", "soon"], env=env
    )
    assert bad_start.exit_code == 1
    assert "--start" in bad_start.output
    no_org = runner.invoke(app, ["export", "--org", "nope-nope", "--output", str(out)], env=env)
    assert no_org.exit_code == 1
