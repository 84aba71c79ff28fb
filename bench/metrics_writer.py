"""Bulk writes for bench/metrics.py on either database: the same INSERT statements (with `?` marks and
constant literals) run as executemany on SQLite and as COPY on PostgreSQL (the constants filled in)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from harness import Target

_INSERT = re.compile(r"INSERT INTO (\w+) \((.*?)\) VALUES \((.*)\)\s*$", re.S)


@dataclass
class Writer:
    """One connection of the target, in one transaction from `begin` to `commit`."""

    target: Target
    sqlite: sqlite3.Connection | None = None
    pg: psycopg.Connection[Any] | None = None
    _plans: dict[str, tuple[str, list[Any]]] = field(default_factory=dict)

    @classmethod
    def open(cls, target: Target) -> Writer:
        if target.kind == "sqlite":
            return cls(target, sqlite=target.connect_sqlite())
        conn = target.connect_pg()
        conn.execute("SET TIME ZONE 'UTC'")  # the fill's naive timestamps are UTC
        conn.commit()
        return cls(target, pg=conn)

    def begin(self) -> None:
        if self.sqlite is not None:
            self.sqlite.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        if self.sqlite is not None:
            self.sqlite.execute("COMMIT")
        else:
            assert self.pg is not None
            self.pg.commit()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.execute(sql, params)[0][0]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        if self.sqlite is not None:
            return self.sqlite.execute(sql, params).fetchall()
        assert self.pg is not None
        cursor = self.pg.execute(sql.replace("?", "%s"), params)
        return cursor.fetchall() if cursor.description else []

    def insert(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """executemany (SQLite) or COPY (PostgreSQL) of an `INSERT INTO t (...) VALUES (?, 'x', ...)`."""
        if self.sqlite is not None:
            self.sqlite.executemany(sql, rows)
            return
        assert self.pg is not None
        copy_sql, values = self._plan(sql)
        with self.pg.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in rows:
                given = iter(row)
                copy.write_row([next(given) if v is _MARK else v for v in values])

    def _plan(self, sql: str) -> tuple[str, list[Any]]:
        if sql not in self._plans:
            match = _INSERT.match(sql)
            assert match is not None, sql
            table, columns, values = match.groups()
            self._plans[sql] = (
                f"COPY {table} ({columns}) FROM STDIN",
                [_value(v) for v in values.split(",")],
            )
        return self._plans[sql]

    def finish(self) -> None:
        """After the fill: sequences past the ids given, statistics (ANALYZE), a checkpointed SQLite file;
        PostgreSQL: VACUUM ANALYZE, what autovacuum does after a bulk insert (insert threshold), which this
        machine's server, with autovacuum off, never would (the first reader would set every row's hint
        bits: whichever code ran first would pay for it)."""
        if self.sqlite is not None:
            self.sqlite.execute("ANALYZE")
            self.sqlite.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        assert self.pg is not None
        for table in ("session", "session_label", "journey_customer"):
            self.pg.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        self.pg.commit()
        self.pg.autocommit = True
        self.pg.execute("VACUUM ANALYZE")
        self.pg.autocommit = False

    def reset_rollups(self) -> None:
        """Empty the metrics tables, for another `sessionary metrics refresh` from scratch."""
        tables = ("metrics_rollup", "metrics_session_state", "metrics_org_state", "metrics_segment")
        if self.sqlite is not None:
            for table in tables:
                self.sqlite.execute(f"DELETE FROM {table}")
            return
        assert self.pg is not None
        self.pg.execute(f"TRUNCATE {', '.join(tables)}")
        self.pg.commit()

    def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        if self.pg is not None:
            self.pg.close()


_MARK = object()


def _value(text: str) -> Any:
    text = text.strip()
    if text == "?":
        return _MARK
    if text.startswith("'"):
        return text.strip("'")
    return int(text)
