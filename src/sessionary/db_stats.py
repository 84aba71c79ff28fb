"""PostgreSQL: the planner statistics of tables that grow faster than autovacuum analyzes them.

Before a table's first ANALYZE, PostgreSQL guesses its row count from its size in pages and the declared
width of its columns (a session row of VARCHAR(200) columns is taken for 6.7 KB, 20 times its real size),
and an organization for 0.5 % of the rows. So on a new database the ingest's lookups of a batch's sessions
by key were planned as a hash join over a scan of the organization's every session: 50-490 ms a batch at
15,000 sessions, a quarter of the server's time in bench runs of 300,000 events (issue 16). Autovacuum
analyzes a table once 10 % of it changed, but looks only once a minute (naptime), and a new organization's
first import can grow a table tenfold in that time. The journey importer analyzes as it goes for the same
reason (journey/intake/importer.py).

`StatisticsKeeper`, a thread of every server on PostgreSQL, ANALYZEs each table of the schema whose live
rows reached 1,000 without statistics, or twice the count of its last statistics; past that, autovacuum
(which must stay on: README, Production) keeps them. It reads only pg_stat_user_tables (one cheap query
every KEEP_POLL_SECONDS); each table is analyzed about log2(rows / 500) times in its life.

The keeper's first pass also checks the server settings the product needs (`setting_warnings`): autovacuum
and track_counts on, and autovacuum not disabled on one of the schema's tables. A server with one of them
off works, but degrades as it grows, so each is logged as a warning naming the setting and what it is for;
`sessionary db upgrade` prints them too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from sqlalchemy import text

from sessionary.background import PollingThread
from sessionary.db import Database, session_scope

log = logging.getLogger(__name__)

KEEP_POLL_SECONDS = 2.0
FIRST_ROWS = 1_000  # live rows at which a table without statistics is analyzed
GROWTH = 2.0  # then again once its live rows reach this many times its analyzed count

_DUE = text(
    "SELECT s.relname, s.n_live_tup FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
    " WHERE s.schemaname = current_schema()"
    " AND s.n_live_tup >= greatest(:first, :growth * c.reltuples)"
    " ORDER BY s.relname"
)


# The server settings the product needs on (README, Production), and what each is for.
NEEDED_ON = {
    "autovacuum": (
        "it removes the dead row versions of the sessions that every ingest updates, merges the transcript "
        "index's pending list (which every search reads) and keeps the planner's statistics as tables grow"
    ),
    "track_counts": "autovacuum and this server's statistics keeper work from the row counts it keeps",
}
_SETTINGS = text("SELECT name, setting FROM pg_settings WHERE name IN ('autovacuum', 'track_counts')")
# The schema's tables whose own storage parameter turns autovacuum off (any spelling of false PostgreSQL
# takes: false, off, no, 0 and their prefixes).
_UNVACUUMED = text(
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
    " AND EXISTS (SELECT 1 FROM unnest(c.reloptions) AS o"
    "   WHERE o ~* '^autovacuum_enabled=(f|fa|fal|fals|false|n|no|of|off|0)$')"
    " ORDER BY c.relname"
)


def setting_warnings(database: Database) -> list[str]:
    """PostgreSQL: a warning for each setting the product needs that is not as it needs it (none on
    SQLite)."""
    if database.dialect != "postgresql":
        return []
    with session_scope(database.reader) as db:
        settings = {str(name): str(value) for name, value in db.execute(_SETTINGS)}
        tables = [str(name) for name in db.scalars(_UNVACUUMED)]
    return warnings_for(settings, tables)


def warnings_for(settings: Mapping[str, str], unvacuumed: Sequence[str]) -> list[str]:
    """The warnings for these values of the NEEDED_ON settings and these tables with autovacuum off."""
    found = [
        f"PostgreSQL setting {name} is {settings.get(name, 'unknown')!r}, should be 'on': {why} "
        "(README, Production)"
        for name, why in NEEDED_ON.items()
        if settings.get(name) != "on"
    ]
    if unvacuumed:
        found.append(
            f"autovacuum is turned off for the tables {', '.join(unvacuumed)} (storage parameter "
            f"autovacuum_enabled): {NEEDED_ON['autovacuum']}; reset it with ALTER TABLE ... RESET "
            "(autovacuum_enabled) (README, Production)"
        )
    return found


def due_tables(database: Database) -> dict[str, int]:
    """The tables of the current schema whose statistics are missing or outgrown, and their live rows."""
    with session_scope(database.reader) as db:
        rows = db.execute(_DUE, {"first": FIRST_ROWS, "growth": GROWTH})
        return {str(row[0]): int(row[1]) for row in rows}


def analyze(database: Database, tables: list[str]) -> None:
    """ANALYZE these tables (names as pg_stat_user_tables gives them), each in its own transaction."""
    for table in tables:
        with session_scope(database.writer) as db:
            quoted = db.get_bind().dialect.identifier_preparer.quote(table)  # SQLAlchemy's quoting
            db.execute(text(f"ANALYZE {quoted}"))


class StatisticsKeeper(PollingThread):
    """Analyzes the due tables every KEEP_POLL_SECONDS. Several servers may each run one: at worst two
    analyze the same table at once, which PostgreSQL runs one after the other."""

    def __init__(self, database: Database, *, poll_seconds: float = KEEP_POLL_SECONDS) -> None:
        super().__init__(name="statistics-keeper", poll_seconds=poll_seconds)
        self.database = database
        # The live rows of each table when this keeper last analyzed it: a table it may not analyze (not its
        # owner: PostgreSQL skips it with a warning) is tried again only once it has grown GROWTH times.
        self._analyzed: dict[str, int] = {}
        self._settings_checked = False

    def start(self) -> None:
        """Start on PostgreSQL; not on SQLite, whose planner needs no statistics for these lookups."""
        if self.database.dialect == "postgresql":
            super().start()

    def work(self) -> bool:
        if not self._settings_checked:
            for warning in setting_warnings(self.database):
                log.warning(warning)
            self._settings_checked = True
        due = {
            table: rows
            for table, rows in due_tables(self.database).items()
            if rows >= GROWTH * self._analyzed.get(table, 0)
        }
        if due:
            self.analyze(list(due))
            self._analyzed.update(due)
        return False  # the statistics' counters lag a little: look again after a poll

    def analyze(self, tables: list[str]) -> None:
        analyze(self.database, tables)
