"""Journey events and sessions go with their organization or deployment: through their customer (and a
session through its `session` row), since journey_event and journey_session keep no foreign key of their
own to either (migration 0017)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from sessionary.cli import app
from sessionary.db import Database, session_scope
from sessionary.journey.models import Customer, Deployment, JourneyEvent, JourneySession
from sessionary.sessions.models import Session
from sessionary.tenancy.models import Organization
from tests.conftest import Org, make_org
from tests.journey.builders import make_deployment, web

runner = CliRunner()
T0 = datetime(2024, 3, 4, 9, tzinfo=UTC)


def _import(database_url: str, path: Path, deployments: list[str]) -> None:
    """Two customers per deployment, two sessions each (events 40 minutes apart)."""
    lines = [
        {"deploymentId": deployment, "type": "web", "event": web(f"c{n}", T0 + timedelta(minutes=40 * step))}
        for deployment in deployments
        for n in range(2)
        for step in range(2)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = runner.invoke(
        app,
        ["import", "--journey", str(path), "--helpers", "0"],
        env={"SESSIONARY_DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output


def _rows(database: Database, deployment: str) -> tuple[int, int, int]:
    """(events, journey sessions, `session` rows) stored for the deployment."""
    with session_scope(database.reader) as db:
        events = db.scalar(select(func.count()).where(JourneyEvent.deployment_id == deployment))
        journey = select(JourneySession.session_id).where(JourneySession.deployment_id == deployment)
        sessions = db.scalar(select(func.count()).select_from(journey.subquery()))
        sids = db.scalar(select(func.count()).where(Session.id.in_(journey)))
        return int(events or 0), int(sessions or 0), int(sids or 0)


def test_deleting_a_deployment_deletes_its_journey_events_and_sessions_and_no_other(
    database_url: str, database: Database, org: Org, tmp_path: Path
) -> None:
    gone, kept = make_deployment(database, org.id), make_deployment(database, org.id)
    _import(database_url, tmp_path / "j.jsonl", [gone, kept])
    assert _rows(database, gone) == _rows(database, kept) == (4, 4, 4)
    with session_scope(database.writer) as db:
        db.execute(delete(Deployment).where(Deployment.id == gone))
    assert _rows(database, gone)[:2] == (0, 0)
    assert _rows(database, kept) == (4, 4, 4)


def test_deleting_an_organization_deletes_its_journey_events_sessions_and_customers(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    gone, kept = make_org(database), make_org(database)
    deployments = [make_deployment(database, gone.id), make_deployment(database, kept.id)]
    _import(database_url, tmp_path / "j.jsonl", deployments)
    with session_scope(database.writer) as db:
        db.execute(delete(Organization).where(Organization.id == gone.id))
    assert _rows(database, deployments[0]) == (0, 0, 0)
    assert _rows(database, deployments[1]) == (4, 4, 4)
    with session_scope(database.reader) as db:
        for table in (JourneyEvent, JourneySession, Customer):
            left = db.scalar(select(func.count()).where(table.organization_id == gone.id))
            assert left == 0, table.__tablename__
