"""The ingest hands its derivations one typed value per transaction: what it stored, how sessions changed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from sessionary.db import Database, session_scope
from sessionary.eventlog.batch import StoredBatch
from sessionary.eventlog.models import Event
from sessionary.eventlog.schemas import EventIn
from sessionary.ingest import derivations
from sessionary.ingest import service as ingest
from sessionary.sessions.models import Session
from tests.conftest import Org
from tests.helpers import event

EVENTS = TypeAdapter(list[EventIn])


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[StoredBatch]:
    """Every batch the ingest hands its derivations, seen by one more derivation registered last."""
    seen: list[StoredBatch] = []

    def record(_db: DBSession, stored: StoredBatch) -> None:
        seen.append(stored)

    monkeypatch.setattr(derivations, "DERIVATIONS", (*derivations.DERIVATIONS, record))
    return seen


def _ingest(database: Database, org: Org, events: list[dict]) -> None:
    with session_scope(database.writer) as db:
        ingest.ingest_events(db, organization_id=org.id, events=EVENTS.validate_python(events))


def _ids(database: Database, org: Org) -> tuple[dict[str, int], dict[str, int]]:
    """The organization's session ids by channel_manager_sid, and its event row ids by event_id."""
    with session_scope(database.reader) as db:
        sessions = db.execute(
            select(Session.channel_manager_sid, Session.id).where(Session.organization_id == org.id)
        )
        events = db.execute(select(Event.event_id, Event.id).where(Event.organization_id == org.id))
        return {sid: id_ for sid, id_ in sessions}, {event_id: id_ for event_id, id_ in events}


def test_the_batch_holds_only_new_events_and_how_their_sessions_changed(
    database: Database, org: Org, batches: list[StoredBatch]
) -> None:
    started = event("s", "session.started", sid="a", data={"conversation_id": "conv-1"})
    _ingest(database, org, [started, event("t1", sid="a", timestamp="2024-06-19T10:00:05Z")])
    moved = {"conversation_id": "conv-2"}
    _ingest(
        database,
        org,
        [
            event("t1", sid="a", timestamp="2024-06-19T10:00:05Z"),  # stored before: not in the batch
            event("u", "session.updated", sid="a", timestamp="2024-06-19T10:01:00Z", data=moved),
            event("e", "session.ended", sid="a", timestamp="2024-06-19T10:02:00Z"),
            event("t2", sid="b", timestamp="2024-06-19T10:03:00Z"),
        ],
    )
    stored = batches[-1]
    assert stored.organization_id == org.id
    assert [item.event.event_id for item in stored.events] == ["u", "e", "t2"]
    a, b = stored.sessions
    assert (a.key, b.key) == (("hedy", "a"), ("hedy", "b"))
    assert (a.previous_conversation_id, a.conversation_id) == ("conv-1", "conv-2")
    assert {"conversation_id", "ended_at"} <= a.changed
    assert a.timestamp == datetime(2024, 6, 19, 10, tzinfo=UTC)
    assert a.ended_at == datetime(2024, 6, 19, 10, 2, tzinfo=UTC)
    assert [e.event_id for e in a.events] == ["u", "e"]
    assert (b.previous_conversation_id, b.conversation_id, b.ended_at) == (None, None, None)
    assert [e.event_id for e in b.events] == ["t2"]
    sessions, rows = _ids(database, org)
    assert (a.id, b.id) == (sessions["a"], sessions["b"])
    known = {item.event.event_id: item.row_id for item in stored.events if item.row_id is not None}
    if database.engine.dialect.name == "sqlite":  # ids allocated up front (the FTS5 index takes them)
        assert known == {name: rows[name] for name in ("u", "e", "t2")}
    else:  # the rows number themselves as they go in: no derivation needs the ids
        assert known == {}


def test_a_batch_of_duplicates_only_hands_on_an_empty_batch(
    database: Database, org: Org, batches: list[StoredBatch]
) -> None:
    _ingest(database, org, [event("x", sid="dup")])
    _ingest(database, org, [event("x", sid="dup")])
    assert (batches[-1].events, batches[-1].sessions) == ((), ())
