"""db_stats.py: on PostgreSQL, a table that reached FIRST_ROWS live rows without planner statistics, or
GROWTH times the rows of its last ones, is analyzed; one analyzed and not grown is left to autovacuum."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from sessionary.db import Database, open_database, session_scope
from sessionary.db_stats import FIRST_ROWS, GROWTH, StatisticsKeeper, due_tables
from tests.conftest import empty_postgres_schema


@pytest.fixture
def postgres() -> Iterator[Database]:
    with empty_postgres_schema() as url:
        database = open_database(url, pool_size=2)
        try:
            yield database
        finally:
            database.dispose()


def _fill(database: Database, rows: int) -> None:
    with session_scope(database.writer) as db:
        db.execute(text("INSERT INTO grown SELECT generate_series(1, :rows)"), {"rows": rows})


def _reltuples(database: Database) -> float:
    with session_scope(database.reader) as db:
        return float(db.scalar(text("SELECT reltuples FROM pg_class WHERE oid = 'grown'::regclass")) or 0)


def _counted(database: Database, rows: int) -> None:
    """Wait until the server's row counters, flushed about once a second, show `rows` live rows."""
    query = text("SELECT n_live_tup FROM pg_stat_user_tables WHERE relid = 'grown'::regclass")
    for _ in range(100):
        with session_scope(database.reader) as db:
            if db.scalar(query) == rows:
                return
        time.sleep(0.1)
    raise AssertionError(f"the counters never showed {rows} rows")


def test_a_table_without_statistics_is_analyzed_at_first_rows_and_again_when_it_doubles(
    postgres: Database,
) -> None:
    with session_scope(postgres.writer) as db:
        db.execute(text("CREATE TABLE grown (n integer)"))
    _fill(postgres, FIRST_ROWS - 1)
    _counted(postgres, FIRST_ROWS - 1)
    assert due_tables(postgres) == {}  # not yet: below FIRST_ROWS
    _fill(postgres, 1)
    _counted(postgres, FIRST_ROWS)
    assert list(due_tables(postgres)) == ["grown"]
    keeper = StatisticsKeeper(postgres)
    keeper.work()
    assert _reltuples(postgres) == FIRST_ROWS
    assert due_tables(postgres) == {}
    _fill(postgres, int(FIRST_ROWS * (GROWTH - 1)) - 1)
    _counted(postgres, int(FIRST_ROWS * GROWTH) - 1)
    assert due_tables(postgres) == {}  # grown, but not yet GROWTH times
    _fill(postgres, 1)
    _counted(postgres, int(FIRST_ROWS * GROWTH))
    assert list(due_tables(postgres)) == ["grown"]
    keeper.work()
    assert _reltuples(postgres) == FIRST_ROWS * GROWTH


def test_the_keeper_runs_no_thread_on_sqlite(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path}/stats.db", pool_size=1)
    keeper = StatisticsKeeper(database)
    keeper.start()
    try:
        assert keeper._thread.ident is None  # never started: SQLite's planner needs no statistics
    finally:
        keeper.stop()
        database.dispose()


def test_a_table_the_keeper_may_not_analyze_is_tried_again_only_once_it_has_doubled(
    postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table of another owner: PostgreSQL skips its ANALYZE with a warning, and its statistics stay
    missing; the keeper does not ask again every poll."""
    with session_scope(postgres.writer) as db:
        db.execute(text("CREATE TABLE grown (n integer)"))
    _fill(postgres, FIRST_ROWS)
    _counted(postgres, FIRST_ROWS)
    keeper = StatisticsKeeper(postgres)
    analyzed: list[list[str]] = []
    monkeypatch.setattr(keeper, "analyze", analyzed.append)  # this keeper's only, not the servers' threads
    keeper.work()  # as if skipped: nothing changes in pg_class
    keeper.work()
    _fill(postgres, FIRST_ROWS)
    _counted(postgres, FIRST_ROWS * 2)
    keeper.work()
    assert analyzed == [["grown"], ["grown"]]
