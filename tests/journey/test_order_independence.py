"""A customer's sessions are a pure function of their events: any arrival order and any batching, through
the real store on each database, gives the sessions `sessionize` computes from the whole set at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from sessionary.db import Database, session_scope
from sessionary.journey.intake import ingest
from sessionary.journey.models import Customer, JourneySession
from sessionary.journey.store.incoming import Incoming
from sessionary.journey.store.sessionize import StoredEvent, sessionize
from sessionary.journey.store.writepath import state_of
from tests.conftest import Org
from tests.journey.builders import make_deployment

T0 = datetime(2024, 3, 1, 9, tzinfo=UTC)
TIMEOUT = timedelta(minutes=20)
CAMPAIGNS = [None, {"source": "google", "name": "spring"}, {"source": "newsletter", "name": "may"}]

one_event = st.tuples(
    st.integers(0, 24 * 60),  # minute of the day
    st.sampled_from(["page_viewed", "form_submitted", "product_added"]),
    st.sampled_from(CAMPAIGNS),
    st.sampled_from([None, "shoes", "socks"]),
)


def _events(specs: list[tuple[int, str, Any, Any]]) -> list[StoredEvent]:
    events = []
    for n, (minute, name, campaign, search) in enumerate(specs):
        payload: dict[str, Any] = {
            "eventName": name,
            "attributes": {"step": {"dataType": "number", "value": str(n)}},
        }
        if campaign:
            payload["mktCampaign"] = campaign
        if search:
            payload["searchQuery"] = search
        created = T0 + timedelta(minutes=minute, seconds=n % 3)
        events.append(StoredEvent(str(uuid.uuid4()), created, "web", name, payload))
    return events


def _stored_sessions(database: Database, deployment_id: str, cookie: str) -> list[tuple[Any, ...]]:
    with session_scope(database.reader) as db:
        customer = db.scalar(
            select(Customer.id).where(Customer.deployment_id == deployment_id, Customer.cookie_id == cookie)
        )
        rows = db.scalars(
            select(JourneySession)
            .where(JourneySession.customer_id == customer)
            .order_by(JourneySession.created_date, JourneySession.first_event_id)
        )
        states = [state_of(row) for row in rows]
    assert len({s.uuid for s in states}) == len(states)
    return [s.derived() for s in states]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    specs=st.lists(one_event, min_size=1, max_size=14),
    order=st.randoms(use_true_random=False),
    cuts=st.lists(st.integers(0, 20), max_size=4),
)
def test_any_order_and_batching_through_the_store_gives_the_sessions_of_the_whole_set(
    database: Database, org: Org, deployment_id: str, specs: list[Any], order: Any, cuts: list[int]
) -> None:
    events = _events(specs)
    cookie = str(uuid.uuid4())
    shuffled = list(events)
    order.shuffle(shuffled)
    bounds = sorted({0, len(shuffled), *(c % (len(shuffled) + 1) for c in cuts)})
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        incoming = [Incoming(deployment_id, "site", cookie, e, TIMEOUT, 4) for e in shuffled[lo:hi]]
        with session_scope(database.writer) as db:
            ingest.record(db, organization_id=org.id, incoming=incoming, now=T0)
    expected = [s.derived() for s in sessionize(events, TIMEOUT)]
    assert _stored_sessions(database, deployment_id, cookie) == expected


@pytest.fixture
def deployment_id(database: Database, org: Org) -> str:
    return make_deployment(database, org.id)
