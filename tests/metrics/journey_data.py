"""Journey sessions written straight into the tables (as the journey writer writes them: a `session` row,
a `journey_session` row, updated_at = now on every change), and the journey figures computed straight
from `journey_session`: the answer the rollups must give."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session as DBSession

from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.journey.models import Customer, JourneySession
from sessionary.sessions import filters
from sessionary.sessions.filters import SessionFilter
from sessionary.sessions.models import Session
from tests.journey.builders import make_deployment

_SESSIONS = cast(Table, Session.__table__)
_JOURNEYS = cast(Table, JourneySession.__table__)
Journey = tuple[int, str | None, str | None]  # page views, referrer medium, campaign name


def journey_owner(database: Database, organization_id: int) -> tuple[str, int]:
    """A deployment and one customer of it: (deployment id, customer id)."""
    deployment_id = make_deployment(database, organization_id)
    with session_scope(database.writer) as db:
        customer = Customer(organization_id=organization_id, deployment_id=deployment_id, cookie_id="c")
        db.add(customer)
        db.flush()
        return deployment_id, customer.id


def add_session(
    db: DBSession,
    organization_id: int,
    owner: tuple[str, int] | None,
    *,
    at: datetime,
    kind: str = "web",
    journey: Journey | None = None,
    duration: float = 60.0,
    is_test: bool = False,
    session_id: int | None = None,
) -> int:
    """A session of this kind started `at`; with `journey` (and an owner) a journey session."""
    sid = str(uuid.uuid4())
    values: dict[str, Any] = dict(
        organization_id=organization_id, session_type=kind, channel_manager_type=kind,
        channel_manager_sid=sid, channel_manager_service="journey" if journey else "test", timestamp=at,
        started_at=at,
        first_event_at=at, last_event_at=at, duration=duration, is_test=is_test, event_count=1,
        field_versions={}, updated_at=utcnow(),
    )  # fmt: skip
    if session_id is not None:
        values["id"] = session_id
    new_id = int(db.execute(insert(_SESSIONS).values(values).returning(_SESSIONS.c.id)).scalar_one())
    if journey is not None:
        assert owner is not None
        pageviews, medium, campaign = journey
        db.execute(
            insert(_JOURNEYS).values(
                session_id=new_id, organization_id=organization_id, uuid=sid, deployment_id=owner[0],
                customer_id=owner[1], type=kind, short_id="1234", created_date=at, first_event_id="e1",
                last_event_date=at, last_event_id="e2", pageview_count=pageviews, referrer_medium=medium,
                campaign_name=campaign)
        )  # fmt: skip
    return new_id


def rederive(db: DBSession, session_id: int, journey: Journey, at: datetime | None = None) -> None:
    """What the journey writer does when late events re-derive a session: new figures (and start)."""
    pageviews, medium, campaign = journey
    figures: dict[str, Any] = dict(pageview_count=pageviews, referrer_medium=medium, campaign_name=campaign)
    session: dict[str, Any] = {"updated_at": utcnow()}
    if at is not None:
        figures["created_date"] = at
        session.update(timestamp=at, started_at=at, first_event_at=at)
    db.execute(update(_JOURNEYS).where(_JOURNEYS.c.session_id == session_id).values(figures))
    db.execute(update(_SESSIONS).where(_SESSIONS.c.id == session_id).values(session))


def delete_sessions(db: DBSession, *ids: int) -> None:
    """What the journey writer does with a session that late events merged into another."""
    db.execute(delete(_SESSIONS).where(_SESSIONS.c.id.in_(ids)))


def direct_journey_figures(db: DBSession, organization_id: int, f: SessionFilter) -> dict[str, Any]:
    """The journey figures of the journey sessions that match `f` and started in [f.start, f.end) (whole
    days), grouped straight from journey_session: the response's `journey` block."""
    assert f.start is not None
    assert f.end is not None
    start = datetime.combine(f.start.date(), time(0), tzinfo=UTC)
    end = datetime.combine(f.end.date(), time(0), tzinfo=UTC)
    medium, campaign = JourneySession.referrer_medium, JourneySession.campaign_name
    stmt = (
        select(medium, campaign, func.count(), func.sum(JourneySession.pageview_count))
        .join(Session, Session.id == JourneySession.session_id)
        .where(JourneySession.created_date >= start, JourneySession.created_date < end)
        .where(*filters.conditions(organization_id, f.with_range(None, None)))
        .group_by(medium, campaign)
    )
    sessions = pageviews = 0
    media: dict[str, int] = {}
    campaigns: dict[str, int] = {}
    for medium_name, campaign_name, count, views in db.execute(stmt):
        sessions, pageviews = sessions + count, pageviews + int(views or 0)
        if medium_name is not None:
            media[medium_name] = media.get(medium_name, 0) + count
        if campaign_name is not None:
            campaigns[campaign_name] = campaigns.get(campaign_name, 0) + count
    return {
        "sessions": sessions,
        "pageviews": pageviews,
        "top_referrer_media": _top(media),
        "top_campaigns": _top(campaigns),
    }


def _top(counts: dict[str, int]) -> list[dict[str, Any]]:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:10]
    return [{"name": name, "sessions": n} for name, n in ranked]
