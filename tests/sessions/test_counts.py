"""session_count and the exact counts read from it (sessions/counts.py), on SQLite and PostgreSQL: the
count equals COUNT(*) for ranges with and without whole days, edges at midnight and name filters; the
table follows inserts, updates that move a session to another day or name, deletions; PostgreSQL's delta
rows fold into one row per key, also while writers and other folds run."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from sessionary.db import Database, session_scope
from sessionary.sessions import counts
from sessionary.sessions.models import Session, SessionCount
from tests.conftest import Org, make_org
from tests.sessions.counting import assert_counts_exact, make_session

D = datetime(2024, 3, 10, tzinfo=UTC)  # a midnight
US = timedelta(microseconds=1)
H = timedelta(hours=1)
DAY = timedelta(days=1)
# (offset from D, agent_name, channel_manager_type): sessions on both sides of several midnights.
PLACED = [
    (-DAY, "Ava", "voice"),
    (-US, "Ava", "voice"),
    (timedelta(0), "Ava", "voice"),
    (timedelta(0), None, "voice"),
    (US, "Bob", "chat"),
    (12 * H, "Bob", None),
    (DAY - US, "Ava", "chat"),
    (DAY, "Ava", "voice"),
    (DAY + 5 * H, None, None),
    (2 * DAY + 23 * H, "Bob", "voice"),
    (3 * DAY, "Cy", "voice"),
    (10 * DAY + H, "Ava", "voice"),
]


@pytest.fixture
def placed(database: Database, org: Org) -> Org:
    with session_scope(database.writer) as db:
        for offset, agent, channel in PLACED:
            make_session(db, org.id, D + offset, agent_name=agent, channel_manager_type=channel)
    return org


def _star(db: Any, org_id: int, names: Mapping[str, Sequence[str]], start: Any, end: Any) -> int:
    where = [Session.organization_id == org_id]
    where += [getattr(Session, name).in_(list(values)) for name, values in names.items()]
    if start is not None:
        where.append(Session.timestamp >= start)
    if end is not None:
        where.append(Session.timestamp < end)
    return db.scalar(select(func.count()).select_from(Session).where(*where)) or 0


RANGES = [
    (None, None),
    (D, None),
    (None, D),
    (D, D + DAY),
    (D + US, D + DAY),
    (D, D + DAY - US),
    (D - US, D + DAY + US),
    (D + H, D + 3 * DAY + H),
    (D + 2 * H, D + 3 * H),  # inside one day
    (D + 12 * H, D + DAY + 12 * H),  # two partial days, no whole one
    (D + 23 * H, None),
    (None, D + 2 * DAY + H),
    (D + DAY, D),  # empty: start after end
    (D - 5 * DAY, D + 30 * DAY),
    (D.astimezone(timezone(timedelta(hours=2))), (D + DAY).astimezone(timezone(-timedelta(hours=5)))),
    (datetime(2024, 3, 10, 1, tzinfo=timezone(timedelta(hours=2))), None),  # 23:00 UTC the day before
    (None, datetime(2024, 3, 11, 1, tzinfo=timezone(timedelta(hours=2)))),  # its local day is not UTC's
]
NAMES: list[dict[str, list[str]]] = [
    {},
    {"agent_name": ["Ava"]},
    {"agent_name": ["Ava", "Bob"]},
    {"agent_name": ["Ava"], "channel_manager_type": ["voice"]},
    {"channel_manager_type": ["chat"]},
    {"agent_name": ["Nobody"]},
    {"agent_name": []},
]


@pytest.mark.parametrize("names", NAMES)
@pytest.mark.parametrize(("start", "end"), RANGES)
def test_the_count_equals_count_star_for_every_range_and_name_filter(
    database: Database, placed: Org, start: Any, end: Any, names: dict[str, list[str]]
) -> None:
    with session_scope(database.reader) as db:
        got = counts.count(db, organization_id=placed.id, names=names, start=start, end=end)
        assert got == _star(db, placed.id, names, start, end)


def test_the_table_holds_each_key_once_summed_and_nothing_of_another_organization(
    database: Database, placed: Org, other_org: Org
) -> None:
    assert_counts_exact(database, placed.id)
    with session_scope(database.reader) as db:
        assert counts.count(db, organization_id=other_org.id, names={}, start=None, end=None) == 0


def test_updates_that_move_sessions_to_another_day_or_name_and_deletions_keep_it_exact(
    database: Database, placed: Org
) -> None:
    org_sessions = Session.organization_id == placed.id
    with session_scope(database.writer) as db:
        db.execute(update(Session).where(org_sessions, Session.agent_name == "Ava").values(agent_name="Eve"))
    assert_counts_exact(database, placed.id)
    with session_scope(database.writer) as db:
        db.execute(update(Session).where(org_sessions, Session.agent_name.is_(None)).values(agent_name="Zed"))
        _shift(db, placed.id, 12 * H)
    assert_counts_exact(database, placed.id)
    with session_scope(database.writer) as db:  # changes no counted column: nothing to do
        db.execute(update(Session).where(org_sessions).values(duration=3.0))
        _shift(db, placed.id, US)
        db.execute(delete(Session).where(org_sessions, Session.agent_name == "Bob"))
    assert_counts_exact(database, placed.id)
    with session_scope(database.writer) as db:
        db.execute(delete(Session).where(org_sessions))
    assert_counts_exact(database, placed.id)
    with session_scope(database.reader) as db:
        assert counts.count(db, organization_id=placed.id, names={}, start=None, end=None) == 0


def _shift(db: Any, org_id: int, by: timedelta) -> None:
    """Move every session of the organization `by` later (one UPDATE per row, as ingest does)."""
    for session in db.scalars(select(Session).where(Session.organization_id == org_id)):
        session.timestamp = session.timestamp + by
    db.flush()


def test_a_rolled_back_write_leaves_the_counts_as_they_were(database: Database, placed: Org) -> None:
    db = database.writer()
    try:
        make_session(db, placed.id, D, agent_name="Ava")
        db.flush()
        db.execute(delete(Session).where(Session.organization_id == placed.id, Session.agent_name == "Bob"))
        db.rollback()
    finally:
        db.close()
    assert_counts_exact(database, placed.id)


def _deltas(database: Database, org_id: int) -> int:
    with session_scope(database.reader) as db:
        mine = SessionCount.organization_id == org_id
        stmt = select(func.count()).where(mine, SessionCount.folded.is_(False))
        return db.scalar(stmt) or 0


def _rows(database: Database, org_id: int) -> int:
    with session_scope(database.reader) as db:
        return db.scalar(select(func.count()).where(SessionCount.organization_id == org_id)) or 0


def test_folding_leaves_one_row_per_key_and_the_same_counts(database: Database, org: Org) -> None:
    for n in range(6):  # one transaction each: on PostgreSQL, delta rows
        with session_scope(database.writer) as db:
            make_session(db, org.id, D + n * H, agent_name="Ava")
            make_session(db, org.id, D + DAY + n * H, agent_name="Bob" if n % 2 else None)
    with session_scope(database.writer) as db:
        db.execute(delete(Session).where(Session.organization_id == org.id, Session.agent_name == "Bob"))
    before = _deltas(database, org.id)
    with session_scope(database.writer) as db:
        counts.fold(db, counts.unfolded_days(db, organization_id=org.id))
    assert_counts_exact(database, org.id)
    assert _deltas(database, org.id) == 0
    assert _rows(database, org.id) == 2  # (D, Ava) and (D + 1, None); Bob's key summed to 0 and went
    if database.engine.dialect.name == "postgresql":
        assert before > 2
    folder = counts.CountFolder(database)  # folds every organization's deltas, then finds none left
    assert any(not folder.work() for _ in range(100))
    assert _deltas(database, org.id) == 0


def test_a_fold_of_days_whose_rows_are_already_gone_changes_nothing(database: Database, org: Org) -> None:
    with session_scope(database.writer) as db:
        make_session(db, org.id, D, agent_name="Ava")
    with session_scope(database.writer) as db:
        days = counts.unfolded_days(db, organization_id=org.id)
        counts.fold(db, days)
        counts.fold(db, days)  # a second fold of the same days (as a concurrent folder would)
        counts.fold(db, [(org.id, (D + 5 * DAY).date())])  # a day with no rows
    assert_counts_exact(database, org.id)


def test_concurrent_writers_and_folders_on_one_hot_key_end_exact_without_deadlock(database: Database) -> None:
    org = make_org(database)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(15):
                with session_scope(database.writer) as db:
                    made = [make_session(db, org.id, D + i * US, agent_name="Ava") for _ in range(3)]
                    db.flush()
                    db.execute(update(Session).where(Session.id == made[0].id).values(agent_name=f"w{n}"))
                    db.execute(delete(Session).where(Session.id == made[1].id))
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    def fold() -> None:
        try:
            for _ in range(15):
                counts.CountFolder(database).work()
        except BaseException as error:  # noqa: BLE001
            failures.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=fold) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert_counts_exact(database, org.id)
    with session_scope(database.reader) as db:
        assert counts.count(db, organization_id=org.id, names={}, start=None, end=None) == 4 * 15 * 2
    counts.CountFolder(database).work()
    assert_counts_exact(database, org.id)
