"""SQLite: the WAL copied back into the database file by a background thread, not by a committing request.

In WAL mode every commit appends the pages it changed to the `-wal` file, and SQLite copies them back into
the database file (a checkpoint, with two fsyncs) from inside the commit that takes the WAL past
`wal_autocheckpoint` pages (db_sqlite.py: 10,000, about 40 MiB). That commit holds the writer lock
meanwhile: every 40 MiB of writes, one request waited for the copy of all of them (0.1-0.5 s; in issue
16's sessions bench a quarter to a third of the database's time once an organization holds 1M sessions,
whose random `source` index spreads each batch over thousands of pages).

`WalCheckpointer`, a thread of every server on a SQLite file, runs a PASSIVE checkpoint every
`SESSIONARY_SQLITE_CHECKPOINT_SECONDS` on a connection of its own: PASSIVE never waits for a reader or a
writer (it copies what the readers no longer need and returns), so no request waits for it and it holds
no lock a request takes. The commit-time checkpoint stays as the backstop (a CLI import, or writes faster
than the thread): it then finds most pages copied already. Several server processes each run one; a
checkpoint already running makes the others' return at once.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sessionary.background import PollingThread
from sessionary.db import Database


@dataclass(frozen=True)
class Checkpointed:
    """What one PASSIVE checkpoint reported: another checkpoint was running (busy), the frames in the WAL,
    and how many of them are in the database file now."""

    busy: bool
    frames: int
    copied: int


class WalCheckpointer(PollingThread):
    """Checkpoints a SQLite file database's WAL every `poll_seconds`; does nothing on other databases."""

    def __init__(self, database: Database, *, poll_seconds: float) -> None:
        super().__init__(name="wal-checkpointer", poll_seconds=poll_seconds)
        self.path = database.engine.url.database if database.dialect == "sqlite" else None
        self._conn: sqlite3.Connection | None = None

    def start(self) -> None:
        """Start on SQLite (a file: open_database has no in-memory databases), not on PostgreSQL, which
        checkpoints by itself, nor when `poll_seconds` is 0 (off: only commits checkpoint)."""
        if self.path is not None and self.poll_seconds > 0:
            super().start()

    def stop(self, timeout: float = 30.0) -> None:
        super().stop(timeout)
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def work(self) -> bool:
        self.checkpoint()
        return False  # a pass copies all it can: wait for the next commits

    def checkpoint(self) -> Checkpointed:
        """One PASSIVE checkpoint (the database's busy timeout is not waited for: PASSIVE never blocks)."""
        if self._conn is None:
            assert self.path is not None
            # mode=rw: a database file that is not there (any more) is an error, not a new empty file.
            uri = f"{Path(self.path).resolve().as_uri()}?mode=rw"
            self._conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        row = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return Checkpointed(busy=bool(row[0]), frames=int(row[1]), copied=int(row[2]))
