"""Conversations a batch names for the first time are inserted whole, their fields computed in Python
(conversations.service.whole_values): always the row the SQL rule derives from the sessions, whatever the
batches, their order, ties, conversations already stored, rows gone missing or concurrent writers."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DBSession

from sessionary.conversations import service as conversations
from sessionary.conversations.models import Conversation
from sessionary.db import Database, session_scope
from sessionary.eventlog.schemas import EventIn
from sessionary.ingest import service as ingest
from sessionary.sessions.models import Session
from tests.conftest import Org, make_org
from tests.helpers import event

EVENTS = TypeAdapter(list[EventIn])
BASE = datetime(2024, 6, 19, 10, 0, tzinfo=UTC)
FIELDS: dict[str, list[Any]] = {
    "agent_id": ["a1", "a2", None],
    "agent_name": ["Refills", "Billing", None],
    "agent_type": ["ai_agent", None],
    "prompt_id": ["p1", None],
    "prompt_name": ["Main", "Other", None],
    "prompt_version": ["v1", None],
    "llm_provider": ["openai", None],
    "llm_model": ["gpt", None],
    "llm_version": ["1", None],
    "llm_temperature": [0.2, 0.9, None],
    "llm_seed": [7, -(2**63), None],
    "is_legacy": [True, False, None],
}


def _ingest(db: DBSession, org: Org, events: list[dict[str, Any]]) -> None:
    ingest.ingest_events(db, organization_id=org.id, events=EVENTS.validate_python(events))


def _ingest_one(database: Database, org: Org, events: list[dict[str, Any]]) -> None:
    with session_scope(database.writer) as db:
        _ingest(db, org, events)


def _stored(db: DBSession, org: Org) -> list[tuple[Any, ...]]:
    columns = [c for c in Conversation.__table__.columns if c.key != "id"]
    query = select(*columns).where(Conversation.organization_id == org.id)
    return [tuple(row) for row in db.execute(query.order_by(Conversation.conversation_id))]


def _the_conversation(database: Database, org: Org) -> tuple[Any, ...]:
    """The organization's one conversation: its start, agent name and prompt name."""
    with session_scope(database.reader) as db:
        row = db.scalars(select(Conversation).where(Conversation.organization_id == org.id)).one()
        return (row.timestamp, row.agent_name, row.prompt_name)


def _derived_by_sql(database: Database, org: Org) -> list[tuple[Any, ...]]:
    """The organization's conversations as `derive` (the SQL rule) makes them from its sessions, rolled
    back afterwards."""
    db = database.writer()
    try:
        named = select(Session.conversation_id).where(
            Session.organization_id == org.id, Session.conversation_id.is_not(None)
        )
        ids = sorted(set(db.scalars(named)) | {row[1] for row in _stored(db, org)})
        conversations.derive(db, organization_id=org.id, conversation_ids=ids)
        return _stored(db, org)
    finally:
        db.rollback()
        db.close()


def _random_event(rng: random.Random, number: int) -> dict[str, Any]:
    sid = f"s{rng.randrange(8)}"
    when = BASE + timedelta(minutes=rng.randrange(4))  # few moments: ties between sessions are common
    if rng.random() < 0.15:
        return event(f"e{number}", "transcript", sid=sid, timestamp=when.isoformat())
    data: dict[str, Any] = {name: rng.choice(values) for name, values in FIELDS.items() if rng.random() < 0.5}
    if rng.random() < 0.8:
        data["conversation_id"] = rng.choice(["c1", "c2", "c3", "c4", None])
    kind = rng.choice(["session.started", "session.updated"])
    return event(
        f"e{number}",
        kind,
        sid=sid,
        service=rng.choice(["hedy", "zeta"]),
        timestamp=when.isoformat(),
        data=data,
    )


@pytest.fixture
def whole(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """What each `_create` call returned: the conversations the batch inserted whole."""
    created: list[set[str]] = []
    original = conversations._create

    def record(*args: Any) -> set[str]:
        done = original(*args)
        created.append(done)
        return done

    monkeypatch.setattr(conversations, "_create", record)
    return created


def test_conversations_equal_the_sql_rule_after_every_random_batch(
    database: Database, whole: list[set[str]]
) -> None:
    rng = random.Random(16)
    number = 0
    for _ in range(25):
        org = make_org(database)
        for _ in range(rng.randrange(1, 5)):
            batch = []
            for _ in range(rng.randrange(1, 9)):
                number += 1
                batch.append(_random_event(rng, number))
            _ingest_one(database, org, batch)
            with session_scope(database.reader) as db:
                assert _stored(db, org) == _derived_by_sql(database, org)
    assert any(whole), "no batch created a conversation whole: the test proves nothing"


def test_a_conversation_created_whole_takes_every_session_of_the_batch(database: Database, org: Org) -> None:
    late = {"conversation_id": "c", "agent_name": "Late", "prompt_name": None, "llm_seed": 3}
    early = {"conversation_id": "c", "agent_name": "Early", "prompt_name": "P", "is_legacy": False}
    _ingest_one(
        database,
        org,
        [
            event("1", "session.started", sid="b", timestamp="2024-06-19T10:05:00Z", data=late),
            event("2", "session.started", sid="a", timestamp="2024-06-19T10:00:00Z", data=early),
        ],
    )
    with session_scope(database.reader) as db:
        row = db.scalars(select(Conversation).where(Conversation.organization_id == org.id)).one()
        assert (row.timestamp, row.agent_name, row.prompt_name, row.llm_seed, row.is_legacy) == (
            datetime(2024, 6, 19, 10, 0, tzinfo=UTC),
            "Late",
            "P",
            3,
            False,
        )
        assert _stored(db, org) == _derived_by_sql(database, org)


def test_a_missing_row_named_anew_counts_the_stored_sessions_too(
    database: Database, org: Org, whole: list[set[str]]
) -> None:
    """Sessions already name the conversation but its row is gone (what a concurrent delete leaves): the
    batch's new session is not all of it, so the row is derived from every session."""
    first = {"conversation_id": "c", "agent_name": "Stored", "prompt_name": "P"}
    _ingest_one(database, org, [event("1", "session.started", sid="a", data=first)])
    with session_scope(database.writer) as db:
        db.execute(delete(Conversation).where(Conversation.organization_id == org.id))
    later = {"conversation_id": "c", "agent_name": "New"}
    _ingest_one(
        database, org, [event("2", "session.started", sid="b", timestamp="2024-06-19T11:00:00Z", data=later)]
    )
    assert whole[-1] == set()
    assert _the_conversation(database, org) == (datetime(2024, 6, 19, 10, 0, tzinfo=UTC), "New", "P")


def test_concurrent_batches_naming_a_new_conversation_both_count(database: Database) -> None:
    """A batch creates the conversation and holds its transaction open while another batch names it too:
    the second waits (PostgreSQL: on the conversation's key; SQLite: for the write lock) and the row ends
    as the SQL rule derives it from both sessions."""
    org = make_org(database)
    early = {"conversation_id": "c", "agent_name": "Early", "prompt_name": "P"}
    late = {"conversation_id": "c", "agent_name": "Late"}
    errors: list[BaseException] = []

    def second() -> None:
        try:
            _ingest_one(
                database,
                org,
                [event("2", "session.started", sid="b", timestamp="2024-06-19T09:00:00Z", data=early)],
            )
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    thread = threading.Thread(target=second)
    with session_scope(database.writer) as db:
        _ingest(db, org, [event("1", "session.started", sid="a", data=late)])
        thread.start()
        time.sleep(0.5)  # let the second batch reach its wait (it proves the same if it has not)
    thread.join(60)
    assert not errors
    assert not thread.is_alive()
    assert _the_conversation(database, org) == (datetime(2024, 6, 19, 9, 0, tzinfo=UTC), "Late", "P")
