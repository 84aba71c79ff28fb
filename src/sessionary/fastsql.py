"""The one layer for driver-level SQL on both databases: hot paths write through it, nothing else does.

A request's transaction may run a handful of statements over thousands of rows; through SQLAlchemy Core
each statement costs more (construction, cache key, per-row parameter processing) than the database's own
work, so hot paths write their statements as text once and pass values in the form the driver takes.

* **Placeholders.** Statements are written with `?`, and `?j` for a JSON value; `FastSQL.sql` turns them into
  each driver's form (SQLite `?`, psycopg `%s` and `%s::jsonb`).
* **Timestamps.** `column_when` (and `FastSQL.when`, `when_encoder`) is the one encoder: SQLite text
  "YYYY-MM-DD HH:MM:SS.ffffff" in UTC (db_types.sqlite_text, what `UTCDateTime` stores) or the aware datetime
  itself for PostgreSQL. Both refuse a naive datetime, as `UTCDateTime` does. Dates: `FastSQL.day`.
* **JSON.** `FastSQL.json` makes the text for a `?j` placeholder; `read_json` reads a value back.
* **Columns.** `writers` / `readers` pick the above (and booleans) by a table's column types, once per set
  of columns, so a store that writes any set of columns builds its statement and value forms once (`mark`:
  `?` or `?j`).
* **Ids.** `allocate_ids` gives new rows their ids up front, so one executemany inserts them.
* **Locks and key lists.** `for_update` (PostgreSQL's row locks; a SQLite writer holds the database's) and
  `pairs_in` (a row-value IN list each database plans cheaply).
* **Many rows.** `insert_many`: an upsert of thousands of rows as one statement on PostgreSQL (unnest).
* **Execution.** Statements go to the DBAPI connection of the session's transaction, under SQLAlchemy: even
  its `exec_driver_sql` cost as much per statement as SQLite's own work on a small batch.

The per-database differences of the hot paths live here and in db_sqlite.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Column, Date
from sqlalchemy.orm import Session as DBSession

from sessionary.db_sqlite import ID_HIGH_WATER
from sessionary.db_types import UTCDateTime, sqlite_text

_CHUNK = 400  # pairs per SQLite IN (VALUES ...) list: well under its parameter limit
Convert = Callable[[Any], Any]


@lru_cache(maxsize=256)
def _postgres(text: str) -> str:
    return text.replace("?j", "%s::jsonb").replace("?", "%s")


def is_sqlite(db: DBSession) -> bool:
    """Whether the session's database is SQLite (otherwise PostgreSQL)."""
    return db.get_bind().dialect.name == "sqlite"


def column_when(value: datetime, *, sqlite: bool) -> Any:
    """A timestamp as the column takes it: SQLite text, or the datetime itself for PostgreSQL. A naive
    datetime is refused (ValueError) on both: its zone would be a guess."""
    return sqlite_text(value) if sqlite else _aware(value)


def when_encoder(*, sqlite: bool) -> Callable[[datetime], Any]:
    """`column_when` for one database, as one call per value (a batch encodes thousands)."""
    return sqlite_text if sqlite else _aware


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("fastsql refuses naive datetimes; attach a timezone at the edge")
    return value


class FastSQL:
    """The transaction's connection, with each dialect's placeholders and value forms."""

    def __init__(self, db: DBSession) -> None:
        connection = db.connection()  # begins the session's transaction if it has not yet
        self.sqlite = connection.dialect.name == "sqlite"
        self.driver: Any = connection.connection.driver_connection
        self._texts: dict[datetime, str] = {}

    def sql(self, text: str) -> str:
        return text.replace("?j", "?") if self.sqlite else _postgres(text)

    @property
    def for_update(self) -> str:
        """What ends a SELECT that locks its rows: PostgreSQL's FOR UPDATE; nothing on SQLite, whose writer
        (BEGIN IMMEDIATE) holds the whole database already."""
        return "" if self.sqlite else " FOR UPDATE"

    def execute(self, text: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        """The rows the statement returns (none for most writes)."""
        cursor = self.driver.cursor()
        try:
            cursor.execute(self.sql(text), tuple(params))
            return list(cursor.fetchall()) if cursor.description is not None else []
        finally:
            cursor.close()

    def executemany(self, text: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run the statement once per row; returns the rows it changed in all (-1: the driver cannot tell)."""
        rows = rows if isinstance(rows, list) else [tuple(row) for row in rows]
        if not rows:
            return 0
        cursor = self.driver.cursor()
        try:
            cursor.executemany(self.sql(text), rows)
            return int(cursor.rowcount) if cursor.rowcount is not None else -1
        finally:
            cursor.close()

    def when(self, value: datetime | None) -> Any:
        """A timestamp as this database's column takes it (`column_when`; a row repeats its dates and a
        batch its `now`, so each distinct one is formatted once)."""
        if value is None:
            return None
        if not self.sqlite:
            return column_when(value, sqlite=False)
        text = self._texts.get(value)
        if text is None:
            text = self._texts[value] = column_when(value, sqlite=True)
        return text

    @staticmethod
    def read_when(value: Any) -> datetime:
        """A timestamp as read back: aware UTC."""
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        assert isinstance(value, datetime)
        return value.astimezone(UTC)

    @staticmethod
    def json(value: Any) -> str:
        return orjson.dumps(value).decode()

    @staticmethod
    def read_json(value: Any) -> Any:
        return orjson.loads(value) if isinstance(value, str | bytes) else value

    def day(self, value: date | None) -> Any:
        """A date as the column takes it: SQLite text "YYYY-MM-DD" (what SQLAlchemy's Date stores), or the
        date itself for PostgreSQL."""
        return value.isoformat() if self.sqlite and value is not None else value

    @staticmethod
    def mark(column: Column[Any]) -> str:
        """The placeholder of a value of `column`: `?j` for JSON, else `?`."""
        return "?j" if isinstance(column.type, JSON) else "?"

    def writers(self, columns: Sequence[Column[Any]]) -> tuple[Convert | None, ...]:
        """Per column, how a Python value goes to the driver (None: as it is), by the column's type."""
        convert = {"when": self.when, "json": self.json, "day": self.day if self.sqlite else None, None: None}
        return tuple([convert[kind] for kind in _kinds(tuple(columns))])

    def readers(self, columns: Sequence[Column[Any]]) -> tuple[Convert | None, ...]:
        """Per column, how the driver's value reads back as SQLAlchemy would give it (None: as it is)."""
        return _readers(self.sqlite, tuple(columns))

    def pairs_in(self, columns: str, pairs: Sequence[tuple[str, str]]) -> list[tuple[str, list[Any]]]:
        """`columns IN pairs` for a pair of text columns (`columns` is "(a, b)"): as conditions with their
        parameters, as few as the database plans cheaply.

        PostgreSQL plans a long row-value IN list one index probe per pair (36 ms of planning for 400 pairs
        against 5 ms of execution), so there the pairs go in as two arrays joined by unnest: one condition.
        SQLite takes the row values directly, in chunks under its parameter limit."""
        if not self.sqlite:
            arrays = [[first for first, _ in pairs], [second for _, second in pairs]]
            return [(f"{columns} IN (SELECT * FROM unnest(?::varchar[], ?::varchar[]))", arrays)]
        conditions = []
        for start in range(0, len(pairs), _CHUNK):
            chunk = pairs[start : start + _CHUNK]
            values = ", ".join(["(?, ?)"] * len(chunk))
            conditions.append((f"{columns} IN (VALUES {values})", [v for pair in chunk for v in pair]))
        return conditions

    @staticmethod
    def marks(count: int) -> str:
        """`?, ?, ...` for an IN list of `count` values."""
        return ", ".join("?" * count)

    def allocate_ids(self, table: str, count: int) -> list[int]:
        """Ids for `count` new rows of `table`, so that one executemany inserts them (an INSERT ... RETURNING
        in parameter order runs row by row on SQLite). SQLite: from the largest id on, as SQLite itself would
        pick them, and above any deleted one (db_sqlite.ID_HIGH_WATER); only the transaction holding the
        write lock (BEGIN IMMEDIATE) inserts meanwhile.
        PostgreSQL: from the table's id sequence."""
        if count <= 0:
            return []
        if self.sqlite:
            largest = self.execute(
                f"SELECT max(coalesce((SELECT max(id) FROM {table}), 0),"
                f" coalesce((SELECT value FROM {ID_HIGH_WATER} WHERE name = ?), 0))",
                (table,),
            )[0][0]
            first = int(largest or 0) + 1
            return list(range(first, first + count))
        rows = self.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, ?)", (count,)
        )
        return [int(row[0]) for row in rows]

    # --- metrics (issue 16): many-row upserts ------------------------------------------------------------

    def insert_many(
        self, into: str, types: Sequence[str], rows: Sequence[Sequence[Any]], tail: str = ""
    ) -> None:
        """`{into} <rows> {tail}` for many rows: `into` is "INSERT INTO t (columns)", `types` each column's
        PostgreSQL type ("bigint", "date", "text"...), `tail` e.g. an ON CONFLICT clause (the rows' keys
        distinct). PostgreSQL: one statement of one array per column (`SELECT * FROM unnest(...)`), planned
        and executed once; an executemany costs its server a statement per row and psycopg a round of
        parameter work per row, most of a rollup backfill's time. SQLite: an executemany, as cheap there."""
        if not rows:
            return
        if self.sqlite:
            self.executemany(f"{into} VALUES ({self.marks(len(types))}) {tail}", rows)
            return
        arrays = [[row[index] for row in rows] for index in range(len(types))]
        source = ", ".join(f"?::{kind}[]" for kind in types)
        self.execute(f"{into} SELECT * FROM unnest({source}) {tail}", arrays)


def _or_none(convert: Convert) -> Convert:
    """`convert`, passing None through (a NULL reads back as None)."""

    def read(value: Any) -> Any:
        return None if value is None else convert(value)

    return read


@lru_cache(maxsize=256)
def _kinds(columns: tuple[Column[Any], ...]) -> tuple[str | None, ...]:
    """Per column, the kind of value form it takes: "when", "json", "day" or None (as it is)."""
    return tuple(_kind(column.type) for column in columns)


def _kind(type_: Any) -> str | None:
    if isinstance(type_, UTCDateTime):
        return "when"
    if isinstance(type_, JSON):
        return "json"
    if isinstance(type_, Date):
        return "day"
    return None


@lru_cache(maxsize=256)
def _readers(sqlite: bool, columns: tuple[Column[Any], ...]) -> tuple[Convert | None, ...]:
    return tuple(_reader(column.type, sqlite) for column in columns)


def _reader(kind: Any, sqlite: bool) -> Convert | None:
    if isinstance(kind, UTCDateTime):
        return _or_none(FastSQL.read_when)
    if isinstance(kind, JSON):
        return _or_none(FastSQL.read_json)
    if isinstance(kind, Boolean) and sqlite:
        return _or_none(bool)
    if isinstance(kind, Date) and sqlite:
        return _or_none(date.fromisoformat)
    return None
