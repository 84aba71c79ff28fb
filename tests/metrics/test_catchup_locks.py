"""The catch-up takes its locks in the writers' order (PostgreSQL): a writer holding a session the catch-up
must count, then touching rollup rows or snapshots the catch-up touches too, finishes instead of
deadlocking. Each test stops the catch-up on that session's lock (a writer holds it), then lets the writer
go on, as a journey re-split or a deletion would, and checks both finish and the figures stay exact."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session as DBSession

from sessionary.db import Database, session_scope
from sessionary.labels.models import SessionLabel
from sessionary.lifecycle import deletion
from sessionary.metrics import catchup
from sessionary.metrics.service import metrics
from sessionary.sessions import store as sessions_store
from sessionary.sessions.filters import SessionFilter
from sessionary.sessions.models import Session
from tests.conftest import Org
from tests.metrics.journey_data import add_session, delete_sessions, journey_owner, rederive

DAY = datetime(2024, 6, 20, 9, tzinfo=UTC)
SPAN = SessionFilter(start=datetime(2024, 6, 20, tzinfo=UTC), end=datetime(2024, 6, 21, tzinfo=UTC))
WAIT_S = 30.0


@pytest.fixture
def postgres(database: Database) -> Database:
    if database.dialect != "postgresql":
        pytest.skip("SQLite serializes writers: no lock order to get wrong")
    return database


def _label(db: DBSession, org_id: int, session_id: int) -> None:
    """A label on the session (so that, deleted, its day is counted again rather than taken out)."""
    label = SessionLabel(organization_id=org_id, session_id=session_id, timestamp=DAY, type="human-rating",
                         code="BAD", user_email="q@x.io", issue_categories=["tool_error"])  # fmt: skip
    db.add(label)
    db.flush()
    db.execute(update(Session).where(Session.id == session_id).values(session_label_id=label.id))


def _wait_until_blocked(database: Database, pid: list[int]) -> None:
    """Until the catch-up's connection waits for a lock (the writer's session lock)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        with database.engine.connect() as conn:
            waiting = conn.execute(
                text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid[0]}
            ).scalar()
        if waiting == "Lock":
            return
        time.sleep(0.02)
    raise AssertionError("the catch-up never waited for the writer's session lock")


def _race(database: Database, org_id: int, held: int, write: Callable[[DBSession], object]) -> None:
    """A writer locks session `held`; a catch-up starts and waits for it; the writer then does `write`
    and commits. Both must finish without error."""
    errors: list[BaseException] = []
    pid: list[int] = []

    def catch_up() -> None:
        try:
            with session_scope(database.writer) as db:
                pid.append(int(db.execute(text("SELECT pg_backend_pid()")).scalar_one()))
                catchup.catch_up(db, organization_id=org_id)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    with session_scope(database.writer) as db:
        keyed = sessions_store.keys_of(db, organization_id=org_id, ids=[held])
        sessions_store.lock_ids(db, organization_id=org_id, ids=[row_id for row_id, _ in keyed])
        thread = threading.Thread(target=catch_up)
        thread.start()
        while not pid and thread.is_alive():
            time.sleep(0.01)
        _wait_until_blocked(database, pid)
        write(db)
    thread.join(WAIT_S)
    assert not thread.is_alive()
    assert errors == []


def _sessions_counted(database: Database, org_id: int) -> tuple[int, int]:
    """(sessions by the rollups, sessions by the session rows) of the day."""
    with session_scope(database.writer) as db:
        catchup.catch_up(db, organization_id=org_id)
        rolled = metrics(db, organization_id=org_id, f=SPAN)
        direct = len(list(db.scalars(select(Session.id).where(Session.organization_id == org_id))))
    assert rolled.source == "rollup"
    return rolled.totals.sessions, direct


def test_a_journey_resplit_deleting_a_session_the_catch_up_recounts_does_not_deadlock(
    postgres: Database, org: Org
) -> None:
    owner = journey_owner(postgres, org.id)
    with session_scope(postgres.writer) as db:
        labelled = add_session(db, org.id, owner, at=DAY, journey=(2, "email", None))
        _label(db, org.id, labelled)
        merged = add_session(db, org.id, owner, at=DAY, journey=(3, "search", "Spring"))
        add_session(db, org.id, owner, at=DAY, journey=(1, None, None))
        catchup.catch_up(db, organization_id=org.id)
    with session_scope(postgres.writer) as db:
        delete_sessions(db, labelled)  # its day is counted again at the next catch-up
    # The journey writer holds `merged` (its customer's session) and deletes it: ON DELETE SET NULL writes
    # its snapshot, which a catch-up re-counting the day drops.
    _race(postgres, org.id, merged, lambda db: delete_sessions(db, merged))
    assert _sessions_counted(postgres, org.id) == (1, 1)


def test_a_deletion_withdrawing_shares_the_catch_up_updates_does_not_deadlock(
    postgres: Database, org: Org
) -> None:
    owner = journey_owner(postgres, org.id)
    with session_scope(postgres.writer) as db:
        gone = add_session(db, org.id, owner, at=DAY, journey=(2, "email", None))
        changed = add_session(db, org.id, owner, at=DAY, journey=(3, "search", "Spring"))
        add_session(db, org.id, owner, at=DAY, journey=(1, None, None))
        catchup.catch_up(db, organization_id=org.id)
    with session_scope(postgres.writer) as db:
        delete_sessions(db, gone)  # its share is taken out (rollup rows of the day) at the next catch-up
        rederive(db, changed, (4, "search", "Spring"))  # pending: the catch-up must lock it
    # lifecycle.deletion holds `changed` and takes its share out of the same rollup rows.
    _race(postgres, org.id, changed, lambda db: deletion.delete_sessions(db, organization_id=org.id,
                                                                          session_ids=[changed]))  # fmt: skip
    assert _sessions_counted(postgres, org.id) == (1, 1)
