"""The demo's journey part: web and app sessions, campaigns, rules, and visitors who are also callers."""

from __future__ import annotations

import random
from datetime import timedelta

from pydantic import TypeAdapter
from sqlalchemy import func, select

from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.demo import journey as journey_demo
from sessionary.demo.generator import session_events
from sessionary.eventlog.schemas import EventIn
from sessionary.ingest import service as native
from sessionary.journey.models import Contact, JourneySession
from sessionary.journey.read import contacts as contact_read
from sessionary.journey.wire import paging
from tests.conftest import make_org


def test_the_demo_adds_web_and_app_sessions_some_sharing_a_contact_with_calls(database: Database) -> None:
    org = make_org(database)
    rng, now = random.Random(5), utcnow().replace(microsecond=0)
    raw = [e for n in range(30) for e in session_events(rng, n, now)]
    with session_scope(database.writer) as db:
        native.ingest_events(
            db, organization_id=org.id, events=TypeAdapter(list[EventIn]).validate_python(raw)
        )
    journey_demo.generate(database, organization_id=org.id, rng=rng, now=now, visitors=40)
    with session_scope(database.reader) as db:
        kinds = dict(
            db.execute(
                select(JourneySession.type, func.count())
                .where(JourneySession.organization_id == org.id)
                .group_by(JourneySession.type)
            ).all()
        )
        assert kinds["web"] >= 40
        assert kinds["app"] >= 1
        found = 0
        for contact in db.scalars(select(Contact.id).where(Contact.organization_id == org.id)):
            listed = contact_read.contact_sessions(
                db,
                organization_id=org.id,
                contact_id=contact,
                page=paging.PageParams(size=200, after=None, before=None),
                include_merged=True,
                now=now + timedelta(days=1),
            )
            types = {s.type for s in listed.entities}
            found += {"web", "conversation"} <= types
    assert found >= 1
