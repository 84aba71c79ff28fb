"""SQLite specifics: pragmas, who begins transactions, and a writer queue across processes.

Writers take SQLite's lock up front (BEGIN IMMEDIATE), so none fails half-way with "database is locked".
Before that they queue on an OS file lock beside the database (`<file>.writelock`, flock): SQLite's own
busy handler polls with sleeps of up to 100 ms, so a waiting writer would often sleep on while the lock
was already free; flock wakes the next writer the moment the last one commits. The kernel drops the
lock of a process that dies, and anything that does not take it (another tool) is still serialised by
SQLite itself, through the busy timeout.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

# SQLite gives a new row the largest id + 1, so the id of a deleted newest row would be given again (a
# session's or recording's id must never stand for another). This table keeps the largest id ever deleted
# per table (triggers made by migration 0015), and `fastsql.allocate_ids` starts above it. SQLite only, and
# not an ORM table: Alembic leaves it alone (migrations/env.py).
ID_HIGH_WATER = "id_high_water"
NEVER_REUSED = ("session", "recording")


def high_water_sql(table: str) -> tuple[str, ...]:
    """The statements that make `table`'s ids never given twice (its row and its delete trigger)."""
    return (
        f"INSERT INTO {ID_HIGH_WATER} (name, value) SELECT '{table}', coalesce(max(id), 0) FROM {table}",
        f"""CREATE TRIGGER {table}_id_high_water AFTER DELETE ON {table} BEGIN
            UPDATE {ID_HIGH_WATER} SET value = old.id WHERE name = '{table}' AND value < old.id;
            END""",
    )


# A session begun with this execution option is a writer.
WRITE_OPTION = "sessionary_write"
_PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=NORMAL",  # with WAL: a committed transaction survives a crash of the server process
    "foreign_keys=ON",
    "busy_timeout=30000",
    "cache_size=-65536",  # 64 MiB per connection
    "temp_store=MEMORY",
    # The commit that takes the WAL past ~40 MiB checkpoints it (rather than every 4 MiB: a page changed by
    # many commits in between is copied back once). A server's WalCheckpointer (db_checkpoint.py) copies
    # the WAL back every 0.5 s, so in a server this is the backstop, which then finds little left to copy.
    "wal_autocheckpoint=10000",
    # Read pages through a memory map: each process's page cache is dropped whenever another process has
    # committed, and re-reading the pages by mmap costs no system call per page.
    "mmap_size=268435456",
)


class QueuedConnection(sqlite3.Connection):
    """A sqlite3 connection that holds the writer file lock from BEGIN IMMEDIATE to COMMIT/ROLLBACK."""

    lock_path: str | None = None
    _lock_fd: int | None = None

    def begin_write(self) -> None:
        if self.lock_path is not None:
            if self._lock_fd is None:
                self._lock_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._unlock()
            raise

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._unlock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._unlock()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)


def connect_args() -> dict[str, Any]:
    """Arguments for sqlite3.connect: our connection class, any thread, SQLite's own wait as a fallback."""
    return {"check_same_thread": False, "timeout": 30, "factory": QueuedConnection}


def install(engine: Engine, database_path: str | None) -> None:
    """Set up every connection of `engine` (a file database at `database_path`, or in memory)."""
    lock_path = f"{database_path}.writelock" if database_path else None

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy, not pysqlite, begins transactions
        dbapi_connection.lock_path = lock_path
        cursor = dbapi_connection.cursor()
        for pragma in _PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", _on_begin)


def _on_begin(conn: Connection) -> None:
    if conn.get_execution_options().get(WRITE_OPTION, False):
        dbapi_connection = conn.connection.dbapi_connection
        assert isinstance(dbapi_connection, QueuedConnection)
        dbapi_connection.begin_write()
    else:
        conn.exec_driver_sql("BEGIN")


# SQLite calls a progress handler every this many virtual machine instructions (well under a millisecond).
_PROGRESS_STEPS = 10_000


@contextmanager
def deadline(dbapi_connection: sqlite3.Connection, seconds: float) -> Iterator[None]:
    """Statements on this connection are interrupted once `seconds` have passed (sqlite3.OperationalError
    "interrupted"); a long call inside one C function (an FTS5 auxiliary function) is not cut short."""
    ends = time.monotonic() + seconds
    dbapi_connection.set_progress_handler(lambda: time.monotonic() > ends, _PROGRESS_STEPS)
    try:
        yield
    finally:
        dbapi_connection.set_progress_handler(None, 0)


def interrupted(error: BaseException | None) -> bool:
    """Whether `error` is SQLite's answer to an interrupted statement."""
    return isinstance(error, sqlite3.OperationalError) and str(error) == "interrupted"
