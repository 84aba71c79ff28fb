"""`sessionary import --journey FILE.jsonl`: historical events of any age, any order, batch by batch."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from sessionary.cli import app
from sessionary.db import Database, session_scope
from sessionary.journey.models import JourneyEvent, JourneySession
from sessionary.journey.store.sessionize import StoredEvent, sessionize
from sessionary.journey.store.writepath import state_of
from tests.conftest import Org, make_org
from tests.journey.builders import app_body, make_deployment, web

runner = CliRunner()
T0 = datetime(2023, 5, 2, 8, tzinfo=UTC)


def _lines(deployment: str) -> list[dict[str, Any]]:
    lines = []
    for minute in (0, 5, 9, 45, 50, 51):  # two web sessions (gap 36 minutes)
        event = web("hist-web", T0 + timedelta(minutes=minute), url=f"https://www.example.com/{minute}")
        lines.append({"deploymentId": deployment, "type": "web", "event": event, "ipAddress": "198.51.100.4"})
    for minute in (2, 3):
        lines.append(
            {
                "deploymentId": deployment,
                "type": "app",
                "event": app_body("hist-web", T0 + timedelta(minutes=minute)),
            }
        )
    random.Random(3).shuffle(lines)
    return lines


def _write(path: Path, lines: list[Any]) -> Path:
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def _sessions(database: Database, deployment: str) -> list[tuple[str, int]]:
    with session_scope(database.reader) as db:
        rows = db.scalars(
            select(JourneySession)
            .where(JourneySession.deployment_id == deployment)
            .order_by(JourneySession.created_date)
        )
        return [(row.type, row.event_count) for row in rows]


# 0: this process parses and enriches; 1: a helper process does, while this one writes.
HELPERS = pytest.mark.parametrize("helpers", ["0", "1"])


@HELPERS
def test_import_journey_stores_old_events_in_any_order_and_sessionizes_them(
    database_url: str, database: Database, org: Org, tmp_path: Path, helpers: str
) -> None:
    deployment = make_deployment(database, org.id, "example.com")
    path = _write(tmp_path / "journey.jsonl", _lines(deployment))
    result = runner.invoke(
        app,
        ["import", "--journey", str(path), "--batch-size", "3", "--helpers", helpers],
        env={"SESSIONARY_DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output
    assert "imported 8 journey events" in result.output
    assert _sessions(database, deployment) == [("web", 3), ("app", 2), ("web", 3)]
    with session_scope(database.reader) as db:
        stored = db.scalars(
            select(JourneySession).where(
                JourneySession.deployment_id == deployment, JourneySession.type == "web"
            )
        )
        states = sorted((state_of(s) for s in stored), key=lambda s: s.created)
        assert states[0].wire["ipAddress"] == "198.51.100.4"
        assert all(s.ended is None for s in states)  # timed out long ago: ended is derived on read


@HELPERS
def test_a_bad_line_is_reported_with_its_number_and_nothing_of_its_batch_is_stored(
    database_url: str, database: Database, org: Org, tmp_path: Path, helpers: str
) -> None:
    deployment = make_deployment(database, org.id, "example.com")
    good = [{"deploymentId": deployment, "type": "web", "event": web(f"c{n}", T0)} for n in range(3)]
    off_site = {
        "deploymentId": deployment,
        "type": "web",
        "event": web("c9", T0, url="https://other.example.org/"),
    }
    path = _write(tmp_path / "bad.jsonl", [*good[:2], off_site, good[2]])
    env = {"SESSIONARY_DATABASE_URL": database_url}
    args = ["import", "--journey", str(path), "--batch-size", "2", "--helpers", helpers]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 1
    assert "line 3" in result.output
    assert "other.example.org" in result.output
    with session_scope(database.reader) as db:
        stored = db.scalar(select(func.count()).where(JourneyEvent.deployment_id == deployment))
    assert stored == 2  # the first batch; the second (the bad line and the one after it) is refused whole
    for lines, named in (
        (["{oops"], "line 1: not valid JSON"),
        (
            [{"deploymentId": "0f8fad5b-d9cb-469f-a165-70867728950e", "type": "web", "event": web("x", T0)}],
            "line 1: deploymentId",
        ),
        ([{"deploymentId": deployment, "type": "fax", "event": {}}], "line 1: type"),
    ):
        path = _write(tmp_path / "x.jsonl", lines)
        result = runner.invoke(app, ["import", "--journey", str(path), "--helpers", helpers], env=env)
        assert result.exit_code == 1
        assert named in result.output, result.output


def test_the_import_gives_what_sessionize_gives_for_the_whole_set(
    database: Database, org: Org, tmp_path: Path, database_url: str
) -> None:
    deployment = make_deployment(database, org.id)
    rng = random.Random(9)
    lines = [
        {
            "deploymentId": deployment,
            "type": "web",
            "event": web(f"v{rng.randint(0, 4)}", T0 + timedelta(minutes=rng.randint(0, 300))),
        }
        for _ in range(120)
    ]
    result = runner.invoke(
        app,
        ["import", "--journey", str(_write(tmp_path / "r.jsonl", lines)), "--batch-size", "17"],
        env={"SESSIONARY_DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output
    with session_scope(database.reader) as db:
        events = (
            db.execute(select(JourneyEvent).where(JourneyEvent.deployment_id == deployment)).scalars().all()
        )
        by_customer: dict[int, list[StoredEvent]] = {}
        for e in events:
            by_customer.setdefault(e.customer_id, []).append(
                StoredEvent(e.id, e.created_date, e.kind, e.event_name, e.payload)
            )
        stored = db.scalars(select(JourneySession).where(JourneySession.deployment_id == deployment)).all()
        got = sorted((s.customer_id, s.created_date, s.event_count, s.last_event_id) for s in stored)
    expected = sorted(
        (customer, s.created, s.event_count, s.last_event_id)
        for customer, evs in by_customer.items()
        for s in sessionize(evs, timedelta(minutes=20))
    )
    assert got == expected


def test_the_import_analyzes_postgresql_tables_as_they_double_and_leaves_sqlite_be(
    database_url: str, database: Database, org: Org, tmp_path: Path
) -> None:
    deployment = make_deployment(database, org.id)
    lines = [{"deploymentId": deployment, "type": "web", "event": web(f"s{n}", T0)} for n in range(5)]
    postgresql = database.dialect == "postgresql"
    query = (
        "SELECT analyze_count FROM pg_stat_user_tables"
        " WHERE relname = 'journey_customer' AND schemaname = current_schema()"
        if postgresql
        else "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"  # made by ANALYZE
    )

    def analyzed() -> int:
        with database.engine.connect() as conn:
            return int(conn.execute(text(query)).scalar_one())

    before = analyzed()
    args = ["import", "--journey", str(_write(tmp_path / "s.jsonl", lines)), "--batch-size", "1"]
    result = runner.invoke(app, [*args, "--helpers", "0"], env={"SESSIONARY_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    # PostgreSQL: after batches 1, 2 and 4 of 5. SQLite: never (its planner uses no statistics here).
    assert analyzed() == (before + 3 if postgresql else 0)


def test_the_import_analyzes_the_columns_its_lookups_read_and_not_the_json_ones(
    private_database: tuple[str, Database], tmp_path: Path
) -> None:
    database_url, database = private_database  # no other test's ANALYZE (or autovacuum's) comes first
    if database.dialect != "postgresql":
        pytest.skip("SQLite's planner uses no statistics for these lookups")
    deployment = make_deployment(database, make_org(database).id)
    lines = [{"deploymentId": deployment, "type": "web", "event": web(f"c{n}", T0)} for n in range(3)]
    args = ["import", "--journey", str(_write(tmp_path / "c.jsonl", lines)), "--helpers", "0"]
    result = runner.invoke(app, args, env={"SESSIONARY_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    with database.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT tablename, attname FROM pg_stats WHERE schemaname = current_schema()"
                " AND tablename IN ('journey_session', 'journey_event')"
            )
        ).all()
    analyzed = {(row[0], row[1]) for row in rows}
    assert {("journey_event", "customer_id"), ("journey_session", "last_event_date")} <= analyzed
    assert not {("journey_event", "payload"), ("journey_session", "state")} & analyzed


def _stored_of(database: Database, deployment: str) -> tuple[list[Any], list[Any]]:
    """(events, sessions) of a deployment, without what each import picks (ids), in a stable order."""
    with session_scope(database.reader) as db:
        events = db.scalars(select(JourneyEvent).where(JourneyEvent.deployment_id == deployment)).all()
        sessions = db.scalars(select(JourneySession).where(JourneySession.deployment_id == deployment)).all()
        cookie = {e.customer_id: e.payload["customerId"] for e in events}
        totals: dict[str, list[int]] = {}
        for e in events:  # each customer's events count 1, 2, ... in the order they came in
            totals.setdefault(e.payload["customerId"], []).append(e.payload["totalEventCount"])
        assert all(sorted(t) == list(range(1, len(t) + 1)) for t in totals.values())
        return (
            sorted((e.payload["customerId"], e.created_date, e.payload["page"]["url"]) for e in events),
            sorted(
                (cookie[s.customer_id], s.created_date, s.event_count, s.pageview_count) for s in sessions
            ),
        )


def test_a_batch_of_many_events_stores_what_batches_of_a_few_store(
    database: Database, org: Org, tmp_path: Path, database_url: str
) -> None:
    """PostgreSQL takes a batch of fastsql.COPY_FROM rows or more (events, sessions) by COPY, a smaller one by
    INSERTs."""
    rng = random.Random(5)
    events = [
        web(f"m{rng.randint(0, 149)}", T0 + timedelta(minutes=rng.randint(0, 200)), url=f"https://e.com/{n}")
        for n in range(300)
    ]
    stored = []
    for batch_size in ("1000", "7"):
        deployment = make_deployment(database, org.id)
        lines = [{"deploymentId": deployment, "type": "web", "event": event} for event in events]
        path = _write(tmp_path / f"b{batch_size}.jsonl", lines)
        result = runner.invoke(
            app,
            ["import", "--journey", str(path), "--batch-size", batch_size, "--helpers", "0"],
            env={"SESSIONARY_DATABASE_URL": database_url},
        )
        assert result.exit_code == 0, result.output
        stored.append(_stored_of(database, deployment))
    assert len(stored[0][0]) == 300
    assert stored[0] == stored[1]
