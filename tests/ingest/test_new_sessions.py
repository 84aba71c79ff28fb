"""New sessions are written once, whole: the same row as the same events folded into a stored session, and
only the events the transaction stored count (an event_id stored before under another session does not)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import select

from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.eventlog.schemas import EventIn
from sessionary.ingest import service as ingest
from sessionary.ingest.schemas import IngestResult
from sessionary.sessions.models import Session
from tests.conftest import Org
from tests.helpers import event

EVENTS = TypeAdapter(list[EventIn])
STARTED = {"conversation_id": "conv-new", "agent_name": "Refills", "channel_manager_type": "voice_sip_v1"}


def _ingest(database: Database, org: Org, events: list[dict[str, Any]]) -> IngestResult:
    with session_scope(database.writer) as db:
        return ingest.ingest_events(db, organization_id=org.id, events=EVENTS.validate_python(events))


def _session(database: Database, org: Org, sid: str) -> dict[str, Any]:
    """The stored session's columns but its id, sid and updated_at (and the event ids in field_versions,
    which name the session)."""
    with session_scope(database.reader) as db:
        found = db.scalars(
            select(Session).where(Session.organization_id == org.id, Session.channel_manager_sid == sid)
        ).one()
        skip = ("id", "channel_manager_sid", "updated_at")
        columns = {c.key: getattr(found, c.key) for c in Session.__table__.columns if c.key not in skip}
    versions = columns["field_versions"]
    columns["field_versions"] = {name: version.replace(sid, "") for name, version in versions.items()}
    return columns


def _call(sid: str) -> list[dict[str, Any]]:
    return [
        event(f"{sid}-s", "session.started", sid=sid, data=STARTED),
        event(f"{sid}-t", sid=sid, timestamp="2024-06-19T10:00:05Z"),
        event(f"{sid}-e", "session.ended", sid=sid, timestamp="2024-06-19T10:01:00Z", data={"duration": 61}),
    ]


def test_a_session_created_in_one_batch_is_the_row_of_its_events_folded_into_a_stored_one(
    database: Database, org: Org
) -> None:
    _ingest(database, org, _call("whole"))
    split = _call("split")
    _ingest(database, org, split[1:2])  # the session is stored first, then the others fold into it
    _ingest(database, org, [split[0], split[2]])
    whole = _session(database, org, "whole")
    assert whole == _session(database, org, "split")
    assert (whole["event_count"], whole["agent_name"], whole["reported_duration"]) == (3, "Refills", 61)


def test_a_new_session_counts_only_its_stored_events_when_an_event_id_was_stored_under_another(
    database: Database, org: Org
) -> None:
    _ingest(database, org, [event("reused", sid="first")])
    result = _ingest(
        database,
        org,
        [
            event(
                "reused", "session.started", sid="second", data=STARTED
            ),  # stored before: not this session's
            event("second-t", sid="second", timestamp="2024-06-19T10:00:05Z"),
        ],
    )
    assert (result.inserted, result.duplicates) == (1, 1)
    second = _session(database, org, "second")
    assert (second["event_count"], second["agent_name"], second["conversation_id"]) == (1, None, None)
    assert second["field_versions"] == {}


def test_a_new_session_whose_every_event_was_stored_before_stays_empty(database: Database, org: Org) -> None:
    _ingest(database, org, [event("taken", sid="owner")])
    result = _ingest(database, org, [event("taken", "session.started", sid="latecomer", data=STARTED)])
    assert (result.inserted, result.duplicates) == (0, 1)
    latecomer = _session(database, org, "latecomer")
    assert (latecomer["event_count"], latecomer["agent_name"], latecomer["started_at"]) == (0, None, None)


def test_a_session_made_ahead_but_stored_before_the_write_takes_the_batch_into_the_stored_row(
    database: Database, org: Org
) -> None:
    _ingest(database, org, _call("whole"))
    raced = _call("raced")
    with session_scope(database.writer) as db:
        events = EVENTS.validate_python([raced[0], raced[2]])
        prepared = ingest.prepare(events, sqlite=database.dialect == "sqlite", organization_id=org.id)
        assert list(prepared.made) == [("hedy", "raced")]  # the batch starts it: made ahead, before any lock
        _ingest(database, org, raced[1:2])  # another transaction stores the session first
        result = ingest.ingest_prepared(db, organization_id=org.id, prepared=prepared)
    assert (result.inserted, result.duplicates) == (2, 0)
    assert _session(database, org, "raced") == _session(database, org, "whole")


def test_a_session_made_ahead_gets_its_updated_at_when_its_transaction_writes_it(
    database: Database, org: Org
) -> None:
    with session_scope(database.writer) as db:
        events = EVENTS.validate_python(_call("dated"))
        prepared = ingest.prepare(events, sqlite=database.dialect == "sqlite", organization_id=org.id)
        after_prepare = utcnow()
        ingest.ingest_prepared(db, organization_id=org.id, prepared=prepared)
    with session_scope(database.reader) as db:
        written = db.scalars(
            select(Session.updated_at).where(
                Session.organization_id == org.id, Session.channel_manager_sid == "dated"
            )
        ).one()
    assert written >= after_prepare


def test_a_batch_prepared_for_one_organization_is_refused_for_another(database: Database, org: Org) -> None:
    events = EVENTS.validate_python(_call("elsewhere"))
    prepared = ingest.prepare(events, sqlite=True, organization_id=org.id)
    with session_scope(database.writer) as db, pytest.raises(ValueError, match="another organization"):
        ingest.ingest_prepared(db, organization_id=org.id + 1, prepared=prepared)
