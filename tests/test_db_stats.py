"""db_stats.py: on PostgreSQL, a table that reached FIRST_ROWS live rows without planner statistics, or
GROWTH times the rows of its last ones, is analyzed; one analyzed and not grown is left to autovacuum. The
settings the product needs (autovacuum, track_counts, no table with autovacuum turned off) are checked,
each one off named in a warning."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from sessionary.db import Database, open_database, session_scope
from sessionary.db_stats import (
    FIRST_ROWS,
    GROWTH,
    StatisticsKeeper,
    due_tables,
    setting_warnings,
    warnings_for,
)
from tests.conftest import empty_postgres_schema


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    with empty_postgres_schema() as url:
        yield url


@pytest.fixture
def postgres(postgres_schema_url: str) -> Iterator[Database]:
    database = open_database(postgres_schema_url, pool_size=2)
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


def _server_setting(database: Database, name: str) -> str:
    with session_scope(database.reader) as db:
        return str(db.scalar(text(f"SHOW {name}")))


def _named(warnings: list[str], name: str) -> list[str]:
    return [warning for warning in warnings if warning.startswith(f"PostgreSQL setting {name} ")]


def test_warnings_for_names_each_needed_setting_that_is_not_on_and_what_it_is_for() -> None:
    assert warnings_for({"autovacuum": "on", "track_counts": "on"}, []) == []
    (off,) = warnings_for({"autovacuum": "off", "track_counts": "on"}, [])
    assert off.startswith("PostgreSQL setting autovacuum is 'off', should be 'on'")
    assert "dead row versions" in off
    both = warnings_for({}, ["event", "session"])
    assert [w.split(" is ")[0] for w in both[:2]] == [
        "PostgreSQL setting autovacuum",
        "PostgreSQL setting track_counts",
    ]
    assert "'unknown'" in both[0]
    assert both[2].startswith("autovacuum is turned off for the tables event, session")


def test_the_servers_own_autovacuum_and_track_counts_are_what_the_warnings_say(postgres: Database) -> None:
    """Read through a real connection: a warning for each of the two exactly when the server has it off
    (this machine's PostgreSQL runs with autovacuum off: the warning is exercised for real there)."""
    warnings = setting_warnings(postgres)
    for name in ("autovacuum", "track_counts"):
        assert bool(_named(warnings, name)) == (_server_setting(postgres, name) != "on"), name


def test_track_counts_turned_off_for_the_connection_is_warned(postgres_schema_url: str) -> None:
    url = make_url(postgres_schema_url)
    options = f"{url.query['options']} -ctrack_counts=off"
    database = open_database(url.update_query_dict({"options": options}).render_as_string(False), pool_size=1)
    try:
        assert _server_setting(database, "track_counts") == "off"
        (warning,) = _named(setting_warnings(database), "track_counts")
        assert "row counts" in warning
    finally:
        database.dispose()


def test_a_table_with_autovacuum_turned_off_is_named_until_reset(postgres: Database) -> None:
    with session_scope(postgres.writer) as db:
        for table in ("kept", "left_off", "set_false", "set_no"):
            db.execute(text(f"CREATE TABLE {table} (n integer)"))
        db.execute(text("ALTER TABLE left_off SET (autovacuum_enabled = off)"))
        db.execute(text("ALTER TABLE set_false SET (autovacuum_enabled = false)"))
        db.execute(text("ALTER TABLE set_no SET (autovacuum_enabled = 'no')"))
        db.execute(text("ALTER TABLE kept SET (autovacuum_enabled = on, fillfactor = 90)"))
    (tables,) = [w for w in setting_warnings(postgres) if w.startswith("autovacuum is turned off")]
    assert tables.startswith("autovacuum is turned off for the tables left_off, set_false, set_no (")
    with session_scope(postgres.writer) as db:
        for table in ("left_off", "set_false", "set_no"):
            db.execute(text(f"ALTER TABLE {table} RESET (autovacuum_enabled)"))
    assert not [w for w in setting_warnings(postgres) if w.startswith("autovacuum is turned off")]


def test_sqlite_has_no_setting_to_warn_about(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path}/settings.db", pool_size=1)
    try:
        assert setting_warnings(database) == []
    finally:
        database.dispose()


def test_the_keeper_logs_the_warnings_on_its_first_pass_only(
    postgres: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with session_scope(postgres.writer) as db:
        db.execute(text("CREATE TABLE unswept (n integer) WITH (autovacuum_enabled = off)"))
    keeper = StatisticsKeeper(postgres)
    with caplog.at_level(logging.WARNING, logger="sessionary.db_stats"):
        keeper.work()
        keeper.work()
    logged = [r.getMessage() for r in caplog.records if r.name == "sessionary.db_stats"]
    assert logged == setting_warnings(postgres)
    assert any("unswept" in message for message in logged)
