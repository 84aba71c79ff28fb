"""The schema comes from the migrations, and the models do not drift from them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Table, insert, inspect, select, update
from sqlalchemy.orm import Session as DBSession

from sessionary import migrate
from sessionary.db import Database, open_database, session_scope
from sessionary.journey.models import Customer, Deployment, JourneySession
from sessionary.journey.store.writer import figure_columns
from sessionary.metrics import catchup
from sessionary.metrics import service as metrics
from sessionary.metrics.models import MetricsOrgState, MetricsRollup
from sessionary.sessions.filters import SessionFilter
from sessionary.sessions.models import Session
from sessionary.tenancy import service as tenancy
from tests.conftest import empty_database


def test_models_match_migrations(database_url: str) -> None:
    migrate.check(database_url)  # raises alembic.util.CommandError on drift


def test_migrations_build_every_table(database: Database) -> None:
    tables = set(inspect(database.engine).get_table_names())
    assert {"organization", "api_key", "conversation", "session", "event", "alembic_version"} <= tables


def test_upgrade_twice_is_harmless(database_url: str) -> None:
    migrate.upgrade(database_url)
    migrate.check(database_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind, no schema yet."""
    with empty_database(request.param, tmp_path) as url:
        yield url


def _journey_session(db: DBSession, org_id: int, n: int, state: dict[str, Any]) -> int:
    when = datetime(2024, 6, 20, 9, n, tzinfo=UTC)
    sessions, journeys = cast(Table, Session.__table__), cast(Table, JourneySession.__table__)
    session_id = db.execute(
        insert(sessions)
        .values(organization_id=org_id, session_type="web", channel_manager_service="journey",
                channel_manager_type="web", channel_manager_sid=f"sid-{n}", timestamp=when, started_at=when,
                first_event_at=when, last_event_at=when, event_count=1, field_versions={}, updated_at=when)
        .returning(sessions.c.id)
    ).scalar_one()  # fmt: skip
    # Only the columns revision 0008 has (the new ones have no default, so they are not in the INSERT).
    db.execute(
        insert(journeys).values(
            session_id=session_id, organization_id=org_id, uuid=str(uuid.uuid4()), deployment_id="dep",
            customer_id=1, type="web", short_id=f"s{n}", created_date=when, first_event_id="e",
            last_event_date=when, last_event_id="e", pageview_count=n, state=state)
    )  # fmt: skip
    return int(session_id)


def test_0009_copies_medium_and_campaign_out_of_the_json(unmigrated_url: str) -> None:
    migrate.upgrade(unmigrated_url, "0008")
    database = open_database(unmigrated_url, pool_size=1)
    try:
        with session_scope(database.writer) as db:
            org = tenancy.get_or_create_organization(db, name="m")
            db.add(Deployment(id="dep", organization_id=org.id, name="d", created_at=datetime.now(UTC)))
            db.flush()
            db.add(Customer(id=1, organization_id=org.id, deployment_id="dep", cookie_id="c"))
            db.flush()
            long_name = "x" * 250
            states = [
                {"referrer": {"medium": "email"}, "mktCampaign": {"name": "Sale"}},
                {"referrer": {"url": "https://a.io/"}, "device": {"type": "x"}},
                {"referrer": {"medium": "search"}, "mktCampaign": {"name": long_name}},
            ]
            ids = [_journey_session(db, org.id, n, state) for n, state in enumerate(states, 1)]
        migrate.upgrade(unmigrated_url)
        migrate.check(unmigrated_url)
        with database.reader() as db:
            rows = db.execute(
                select(
                    JourneySession.session_id, JourneySession.referrer_medium, JourneySession.campaign_name
                )
            ).all()
        assert sorted(rows) == [
            (ids[0], "email", "Sale"),
            (ids[1], None, None),
            (ids[2], "search", "x" * 200),
        ]
        # New rows get the same values from the writer.
        assert figure_columns({"referrer": {"medium": "search"}, "mktCampaign": {"name": long_name}}) == {
            "referrer_medium": "search",
            "campaign_name": "x" * 200,
        }
    finally:
        database.dispose()


def test_0010_recounts_the_rollups_of_organizations_with_journey_sessions(unmigrated_url: str) -> None:
    migrate.upgrade(unmigrated_url, "0009")
    database = open_database(unmigrated_url, pool_size=1)
    try:
        with session_scope(database.writer) as db:
            org = tenancy.get_or_create_organization(db, name="journeys")
            calls_only = tenancy.get_or_create_organization(db, name="calls")
            db.add(Deployment(id="dep", organization_id=org.id, name="d", created_at=datetime.now(UTC)))
            db.flush()
            db.add(Customer(id=1, organization_id=org.id, deployment_id="dep", cookie_id="c"))
            db.flush()
            for n in (1, 2):
                _journey_session(db, org.id, n, {"referrer": {"medium": "email"}})
            db.execute(update(JourneySession).values(referrer_medium="email"))
            # Rollups of before 0010: no journey figures, and a session deleted since still counted.
            for org_id in (org.id, calls_only.id):
                db.execute(
                    insert(MetricsRollup).values(
                        organization_id=org_id,
                        segment_id=0,
                        day=date(2024, 6, 20),
                        metric="sessions",
                        key="web",
                        count=3,
                        errors=0,
                        total=0.0,
                    )
                )
                stamp = {"organization_id": org_id, "rolled_through": datetime.now(UTC)}
                db.execute(insert(MetricsOrgState).values(stamp))
        migrate.upgrade(unmigrated_url)
        with session_scope(database.writer) as db:
            kept = db.scalars(select(MetricsRollup.organization_id).distinct()).all()
            assert kept == [calls_only.id]
            assert catchup.catch_up(db, organization_id=org.id) == 2
            span = SessionFilter(
                start=datetime(2024, 6, 20, tzinfo=UTC), end=datetime(2024, 6, 21, tzinfo=UTC)
            )
            figures = metrics.metrics(db, organization_id=org.id, f=span)
        assert figures.totals.sessions == 2
        assert figures.journey.model_dump() == {"sessions": 2, "pageviews": 3, "top_referrer_media": [
            {"name": "email", "sessions": 2}], "top_campaigns": []}  # fmt: skip
    finally:
        database.dispose()
