"""db_checkpoint.py: on a SQLite file a server's thread copies the committed WAL back into the database file
(PASSIVE: it waits for no reader or writer); it runs nowhere else, and only when its setting is not 0."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from sessionary.config import MIN_CHECKPOINT_SECONDS, Settings
from sessionary.db import Database, open_database, session_scope
from sessionary.db_checkpoint import WalCheckpointer
from tests.conftest import empty_postgres_schema
from tests.helpers import LiveServer


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[tuple[Path, Database]]:
    path = tmp_path / "wal.db"
    database = open_database(f"sqlite:///{path}", pool_size=2)
    try:
        with session_scope(database.writer) as db:
            db.execute(text("CREATE TABLE note (n INTEGER)"))
        yield path, database
    finally:
        database.dispose()


def _write(database: Database, rows: int) -> None:
    with session_scope(database.writer) as db:
        db.execute(
            text(
                "WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < :rows)"
                " INSERT INTO note SELECT v FROM n"
            ),
            {"rows": rows},
        )


def _rows_in_the_file_alone(path: Path, copy: Path) -> int:
    """The rows of `note` in the database file without its WAL (a copy of the file opened on its own)."""
    shutil.copyfile(path, copy)
    with closing(sqlite3.connect(copy)) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM note").fetchone()[0])
        except sqlite3.OperationalError:  # the table itself is still only in the WAL
            return 0


def test_a_pass_copies_every_committed_frame_into_the_database_file(
    sqlite_file: tuple[Path, Database], tmp_path: Path
) -> None:
    path, database = sqlite_file
    _write(database, 500)  # far below the commit-time checkpoint's 10,000 pages: the rows are in the WAL
    assert _rows_in_the_file_alone(path, tmp_path / "before.db") == 0
    checkpointer = WalCheckpointer(database, poll_seconds=60)
    try:
        done = checkpointer.checkpoint()
        assert not done.busy
        assert done.frames > 0
        assert done.copied == done.frames
        assert _rows_in_the_file_alone(path, tmp_path / "after.db") == 500
    finally:
        checkpointer.stop()


def test_a_pass_neither_waits_for_an_open_write_nor_copies_it(
    sqlite_file: tuple[Path, Database], tmp_path: Path
) -> None:
    path, database = sqlite_file
    _write(database, 10)
    writer = sqlite3.connect(path, isolation_level=None)
    checkpointer = WalCheckpointer(database, poll_seconds=60)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO note VALUES (-1)")  # holds the write lock, not committed
        done = checkpointer.checkpoint()
        assert not done.busy
        assert done.copied == done.frames > 0  # the committed frames, copied while the writer waits
        assert _rows_in_the_file_alone(path, tmp_path / "copy.db") == 10
        writer.execute("COMMIT")
        with session_scope(database.reader) as db:
            assert db.scalar(text("SELECT count(*) FROM note")) == 11
    finally:
        writer.close()
        checkpointer.stop()


def test_a_database_file_that_is_not_there_is_an_error_not_created(tmp_path: Path) -> None:
    path = tmp_path / "never opened.db"  # (a space: the path goes into a file: URI)
    database = open_database(f"sqlite:///{path}", pool_size=1)
    checkpointer = WalCheckpointer(database, poll_seconds=60)
    try:
        with pytest.raises(sqlite3.OperationalError, match="unable to open"):
            checkpointer.checkpoint()
        assert not path.exists()
    finally:
        checkpointer.stop()
        database.dispose()


def test_a_path_with_uri_characters_is_checkpointed(tmp_path: Path) -> None:
    path = tmp_path / "a#b d.db"  # each of '#' and ' ' is escaped in a file: URI
    database = open_database(f"sqlite:///{path}", pool_size=1)
    checkpointer = WalCheckpointer(database, poll_seconds=60)
    assert checkpointer.path == str(path)
    try:
        with session_scope(database.writer) as db:
            db.execute(text("CREATE TABLE note (n INTEGER)"))
        done = checkpointer.checkpoint()
        assert done.copied == done.frames > 0
    finally:
        checkpointer.stop()
        database.dispose()


def _checkpointers() -> int:
    """The checkpointer threads running in this process (the test session's servers run theirs too)."""
    return sum(thread.name == "wal-checkpointer" for thread in threading.enumerate())


def test_it_starts_on_a_sqlite_file_and_closes_its_connection_when_stopped(
    sqlite_file: tuple[Path, Database],
) -> None:
    _, database = sqlite_file
    checkpointer = WalCheckpointer(database, poll_seconds=0.05)
    before = _checkpointers()
    checkpointer.start()
    assert _checkpointers() == before + 1
    checkpointer.stop()
    assert _checkpointers() == before
    assert checkpointer._conn is None


def test_it_does_not_start_on_postgresql() -> None:
    with empty_postgres_schema() as url:
        postgres = open_database(url, pool_size=1)
        try:
            checkpointer = WalCheckpointer(postgres, poll_seconds=0.05)
            assert checkpointer.path is None
            before = _checkpointers()
            checkpointer.start()
            assert _checkpointers() == before
            checkpointer.stop()
        finally:
            postgres.dispose()


@pytest.mark.parametrize(("seconds", "running"), [(0.5, True), (0, False)])
def test_a_server_on_sqlite_runs_it_unless_its_setting_is_0(
    tmp_path: Path, seconds: float, running: bool
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'served.db'}",
        blob_dir=tmp_path / "blobs",
        analysis_worker=False,
        sqlite_checkpoint_seconds=seconds,
    )
    before = _checkpointers()
    with LiveServer.start(settings):
        during = _checkpointers()
    assert during == before + running


@pytest.mark.parametrize("seconds", [MIN_CHECKPOINT_SECONDS / 2, -1, 3601])
def test_a_checkpoint_period_out_of_bounds_is_refused_naming_the_setting(seconds: float) -> None:
    with pytest.raises(ValidationError, match="sqlite_checkpoint_seconds"):
        Settings(sqlite_checkpoint_seconds=seconds)
