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
  `pairs_in` (a row-value IN list each database plans cheaply), `any_of` (a value list as one condition
  and one parameter, an index condition on both).
* **Bulk writes.** `insert_rows` takes many plain rows by COPY on PostgreSQL (one unnest INSERT below
  `COPY_FROM` rows; executemany on SQLite); `insert_select` takes them with an ON CONFLICT clause and counts
  those inserted (on PostgreSQL a COPY under a savepoint when the clause only skips rows and none is stored
  yet, else one INSERT ... SELECT FROM unnest() of binary arrays; on SQLite INSERTs of up to 200 rows each,
  not a statement per row, whose statement journal a trigger makes copy each changed page per row);
  `insert_many` the same for a statement of the caller's (an upsert) through `rows_from`; `update_rows` sets
  many rows' columns by key (one UPDATE ... FROM unnest() on PostgreSQL, executemany on SQLite).
* **Execution.** Statements go to the DBAPI connection of the session's transaction, under SQLAlchemy: even
  its `exec_driver_sql` cost as much per statement as SQLite's own work on a small batch.

The per-database differences of the hot paths live here and in db_sqlite.py.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, cast

import orjson
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Date,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session as DBSession
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import NullType

from sessionary.db_sqlite import ID_HIGH_WATER
from sessionary.db_types import UTCDateTime, sqlite_text

COPY_FROM = 100  # rows from which `FastSQL.insert_rows` uses PostgreSQL's COPY
SQLITE_ROWS_PER_INSERT = 200  # rows of one SQLite INSERT of `FastSQL.insert_select` (fewer if wide)
# Values of one SQLite INSERT at most: a statement holds ~125 bytes of program a value, kept prepared by
# each connection (a session row of 40 columns: 50 rows, 250 KB, where 200 rows took 1 MB).
SQLITE_VALUES_PER_INSERT = 2_000
_INSERT_INTO = re.compile(r"INSERT INTO (\w+)")
# An ON CONFLICT clause that only skips rows: `insert_select` may COPY first (`FastSQL._copied`).
_SKIPS = re.compile(r" ON CONFLICT \([\w, ]+\) DO NOTHING")
_COPY_SAVEPOINT = "fastsql_copy"
_UPDATE = re.compile(r"UPDATE (\w+) SET")
_UNIQUE_VIOLATION = "23505"
_CHUNK = 400  # pairs per SQLite IN (SELECT * FROM (VALUES ...)) list: well under its parameter limit
Convert = Callable[[Any], Any]


@lru_cache(maxsize=256)
def _postgres(text: str) -> str:
    return text.replace("?j", "%s::jsonb").replace("?", "%s")


def is_sqlite(db: DBSession) -> bool:
    """Whether the session's database is SQLite (otherwise PostgreSQL)."""
    return db.get_bind().dialect.name == "sqlite"


def one_of(db: DBSession, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values` as one statement text whatever the count of values. PostgreSQL: `= ANY(array)`,
    which the driver prepares once per connection. SQLite: `IN (SELECT value FROM json_each(?))` (one JSON
    array; the subquery is probed through the column's index): an IN list is a statement of its own for
    each length, which each connection prepares anew and keeps (issue 16: the ingest's upsert of the
    analysis queue held 50 KB per length, 9 lengths per connection)."""
    if is_sqlite(db):
        array: BindParameter[str] = bindparam(None, orjson.dumps(list(values)).decode())
        return cast(
            ColumnElement[bool],
            column.in_(select(literal_column("value")).select_from(func.json_each(array))),
        )
    return cast(
        ColumnElement[bool],
        column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type))),
    )


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

    def fetch(self, text: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        """The rows of a statement that returns rows (a SELECT, or a write with RETURNING), as `execute`
        gives them; unlike `execute`, also inside `pipelined`, where it waits for the answers so far."""
        cursor = self.driver.cursor()
        try:
            cursor.execute(self.sql(text), tuple(params))
            return list(cursor.fetchall())
        finally:
            cursor.close()

    @contextmanager
    def pipelined(self, rows: int = 0) -> Iterator[None]:
        """PostgreSQL: the block's statements go out without waiting for each one's answer (psycopg's
        pipeline mode): a `fetch` waits for the answers so far, the end of the block for all of them, and
        an error of any statement is raised there. A transaction of a few small statements thus costs one
        round trip per read instead of one per statement. Inside, only `fetch`, `executemany` and
        `insert_rows` of fewer than `COPY_FROM` rows (`rows`: the most the block inserts; at or above it
        the block is not pipelined, since COPY has no pipeline mode); not `execute`. SQLite: as without."""
        if self.sqlite or rows >= COPY_FROM or not _pipeline_supported():
            yield
            return
        with self.driver.pipeline():
            yield

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

    def insert_rows(self, insert: str, columns: Sequence[Column[Any]], rows: Sequence[Sequence[Any]]) -> None:
        """`insert` ("INSERT INTO table": the caller names its table in SQL text, where the table-owner
        check reads it) the plain rows into `columns` (values in this driver's form, `writers`; JSON columns'
        values as JSON text). PostgreSQL takes `COPY_FROM` rows or more by COPY ... FROM STDIN, fewer by one
        INSERT ... SELECT FROM unnest() (`insert_select`): an executemany of INSERTs costs its server a
        statement per row, most of a journey import's time and a round trip each in a pipeline. SQLite: one
        executemany of INSERTs."""
        found = _INSERT_INTO.fullmatch(insert)
        if found is None:
            raise ValueError(f"insert_rows takes 'INSERT INTO table', not {insert!r}")
        if not rows:
            return
        if not self.sqlite and len(rows) < COPY_FROM:
            self.insert_select(insert, columns, [tuple(row) for row in rows])
            return
        names = ", ".join(f'"{column.name}"' for column in columns)
        if self.sqlite:
            marks = ", ".join(self.mark(column) for column in columns)
            self.executemany(f"{insert} ({names}) VALUES ({marks})", rows)
            return
        cursor = self.driver.cursor()
        try:
            _copy(cursor, found.group(1), names, tuple(columns), rows)
        finally:
            cursor.close()

    def insert_select(
        self, insert: str, columns: Sequence[Column[Any]], rows: list[tuple[Any, ...]], conflict: str = ""
    ) -> int:
        """`insert` ("INSERT INTO table", as for `insert_rows`) these rows (values in the driver's form,
        `writers`) into `columns`, then `conflict` (an ON CONFLICT clause); returns how many rows it
        inserted (-1: the driver cannot tell).

        SQLite: INSERTs of many rows each (`_insert_values`). PostgreSQL: `COPY_FROM` rows or more under an
        `ON CONFLICT (...) DO NOTHING` go by COPY first (`_copied`); otherwise, or when a row is stored
        already, one INSERT ... SELECT FROM unnest() of one binary array per column, so the server parses,
        plans and runs one statement for the batch instead of one per row (psycopg's executemany sends each
        row on its own, a cost per row in the client and the server)."""
        if _INSERT_INTO.fullmatch(insert) is None:
            raise ValueError(f"insert_select takes 'INSERT INTO table', not {insert!r}")
        if not rows:
            return 0
        names = ", ".join(f'"{column.name}"' for column in columns)
        if self.sqlite:
            return self._insert_values(f"{insert} ({names}) VALUES ", len(columns), rows, conflict)
        copied = len(rows) >= COPY_FROM and _SKIPS.fullmatch(conflict)
        if copied and self._copied(insert, names, tuple(columns), rows):
            return len(rows)
        sql = f"{insert} ({names}) {_unnest(tuple(columns))}{conflict}"
        cursor = self.driver.cursor()
        try:
            cursor.execute(sql, [list(values) for values in zip(*rows, strict=True)])
            return int(cursor.rowcount) if cursor.rowcount is not None else -1
        finally:
            cursor.close()

    def _insert_values(self, head: str, width: int, rows: list[tuple[Any, ...]], conflict: str) -> int:
        """SQLite: `head` + up to `SQLITE_ROWS_PER_INSERT` rows of VALUES per statement (fewer when that
        would be more than `SQLITE_VALUES_PER_INSERT` values); the rows inserted.

        Not an executemany (one statement per row): a table with a trigger makes SQLite open a statement
        journal for each statement, which copies every page the statement changes before changing it, so a
        statement per row copies each index page once per row (half the cost of inserting a session, whose
        `session_count` trigger this is); a statement of many rows copies each page once. The rows go in
        statements of the few sizes `_pieces` gives, which each connection prepares once."""
        values_most = min(SQLITE_VALUES_PER_INSERT, _sqlite_variable_limit(self.driver))
        per = max(1, min(SQLITE_ROWS_PER_INSERT, values_most // width))
        one = "(" + ", ".join("?" * width) + ")"
        cursor = self.driver.cursor()
        inserted = 0
        try:
            for start, size in _pieces(len(rows), per):
                part = rows[start : start + size]
                values = [value for row in part for value in row]
                cursor.execute(head + ", ".join([one] * len(part)) + conflict, values)
                inserted += cursor.rowcount
        finally:
            cursor.close()
        return inserted

    def _copied(
        self, insert: str, names: str, columns: tuple[Column[Any], ...], rows: Sequence[Sequence[Any]]
    ) -> bool:
        """PostgreSQL: COPY the rows in, under a savepoint; False (the savepoint rolled back, nothing
        written) if one of them is stored already (a unique violation), when only an INSERT ... ON CONFLICT
        DO NOTHING can tell which. COPY costs the server a fifth less than that INSERT and the client's
        copy formats rows in C, where the INSERT's binary arrays are built in Python; most batches are
        all new."""
        table = insert.removeprefix("INSERT INTO ")
        cursor = self.driver.cursor()
        try:
            cursor.execute(f"SAVEPOINT {_COPY_SAVEPOINT}")
            try:
                _copy(cursor, table, names, columns, rows)
            except Exception as error:
                if getattr(error, "sqlstate", None) != _UNIQUE_VIOLATION:
                    raise
                cursor.execute(f"ROLLBACK TO SAVEPOINT {_COPY_SAVEPOINT}")
                cursor.execute(f"RELEASE SAVEPOINT {_COPY_SAVEPOINT}")
                return False
            cursor.execute(f"RELEASE SAVEPOINT {_COPY_SAVEPOINT}")
            return True
        finally:
            cursor.close()

    def update_rows(
        self, update: str, key: Column[Any], columns: Sequence[Column[Any]], rows: Sequence[Sequence[Any]]
    ) -> None:
        """`update` ("UPDATE table SET": the caller names its table in SQL text, as for `insert_rows`) each
        row's `columns` (values in the driver's form, `writers`, then its `key` value last); when rows repeat
        a key, the last one wins, as one UPDATE after the other would.

        SQLite: one executemany. PostgreSQL: one UPDATE ... FROM unnest() of one binary array per column
        (the rows deduplicated by key first: an UPDATE takes one of the rows joined to a target row)."""
        table = _UPDATE.fullmatch(update)
        if table is None:
            raise ValueError(f"update_rows takes 'UPDATE table SET', not {update!r}")
        if not rows:
            return
        if self.sqlite:
            sets = ", ".join(f'"{column.name}" = {self.mark(column)}' for column in columns)
            self.executemany(f'{update} {sets} WHERE "{key.name}" = ?', list(rows))
            return
        last = list({row[-1]: row for row in rows}.values())
        sets = ", ".join(f'"{column.name}" = _v.c{n}' for n, column in enumerate(columns))
        source = _unnest((*columns, key))
        match = f'{table.group(1)}."{key.name}" = _v.c{len(columns)}'
        sql = f"{update} {sets} FROM ({source}) AS _v WHERE {match}"
        cursor = self.driver.cursor()
        try:
            cursor.execute(sql, [list(values) for values in zip(*last, strict=True)])
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

    def any_of(self, column: str, values: Sequence[Any], element: str) -> tuple[str, list[Any]]:
        """`column IN values` as one condition and its one parameter, one statement text whatever the count
        (`element`: the values' PostgreSQL type, e.g. "varchar"); the raw-SQL twin of `one_of`, planned as
        one index probe per value on both. PostgreSQL: `= ANY(array)`, an index condition whatever the
        table's statistics say (a join to `unnest(array)` was planned as a scan of the organization's every
        row while its statistics were stale). SQLite: `IN (SELECT value FROM json_each(?))`."""
        if self.sqlite:
            return f"{column} IN (SELECT value FROM json_each(?))", [orjson.dumps(list(values)).decode()]
        return f"{column} = ANY(?::{element}[])", [list(values)]

    def pairs_in(self, columns: str, pairs: Sequence[tuple[str, str]]) -> list[tuple[str, list[Any]]]:
        """`columns IN pairs` for a pair of text columns (`columns` is "(a, b)"): as conditions with their
        parameters, as few as the database plans cheaply.

        PostgreSQL plans a long row-value IN list one index probe per pair (36 ms of planning for 400 pairs
        against 5 ms of execution), so there the pairs go in as two arrays joined by unnest: one condition.
        SQLite takes the row values in chunks under its parameter limit, as a subquery `IN (SELECT * FROM
        (VALUES ...))`: a bare `IN (VALUES ...)` list is planned as a walk of every row of the index's
        leading column (the organization's whole session key index per chunk: a cost that grew with the
        organization), while the subquery is one probe of the whole key per pair. A chunk's list is padded
        to one of a few lengths (`_padded`), so each connection prepares each text once."""
        if not self.sqlite:
            arrays = [[first for first, _ in pairs], [second for _, second in pairs]]
            return [(f"{columns} IN (SELECT * FROM unnest(?::varchar[], ?::varchar[]))", arrays)]
        conditions = []
        for start in range(0, len(pairs), _CHUNK):
            chunk = list(pairs[start : start + _CHUNK])
            chunk += chunk[-1:] * (_padded(len(chunk), _CHUNK) - len(chunk))  # a pair twice: the same set
            values = ", ".join(["(?, ?)"] * len(chunk))
            conditions.append(
                (f"{columns} IN (SELECT * FROM (VALUES {values}))", [v for pair in chunk for v in pair])
            )
        return conditions

    def rows_from(self, types: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[tuple[str, list[Any]]]:
        """Rows for an `INSERT INTO t (columns) <source> ...` (`types`: each column's PostgreSQL array element
        type, e.g. "varchar", "bigint"), as sources with their parameters, in the rows' order.

        PostgreSQL: one `SELECT * FROM unnest(?::type[], ...)` of one array per column, so a statement of
        thousands of rows is planned once and cheaply (a VALUES list of them was planned row by row).
        SQLite: `VALUES (?, ...), ...` in chunks under its parameter limit, of the sizes `_pieces` gives."""
        if not self.sqlite:
            arrays = [[row[index] for row in rows] for index in range(len(types))]
            return [(f"SELECT * FROM unnest({', '.join(f'?::{t}[]' for t in types)})", arrays)]
        per = max(1, _CHUNK * 2 // len(types))
        sources = []
        for start, size in _pieces(len(rows), per):
            chunk = rows[start : start + size]
            values = ", ".join([f"({self.marks(len(types))})"] * len(chunk))
            sources.append((f"VALUES {values}", [value for row in chunk for value in row]))
        return sources

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

    def insert_many(
        self, into: str, types: Sequence[str], rows: Sequence[Sequence[Any]], tail: str = ""
    ) -> None:
        """`{into} <rows> {tail}` for many rows: `into` is "INSERT INTO t (columns)", `types` each column's
        PostgreSQL type ("bigint", "date", "text"...), `tail` e.g. an ON CONFLICT clause (the rows' keys
        distinct), the rows given as `rows_from` gives them: on PostgreSQL one statement planned and run
        once (an executemany costs its server a statement per row, most of a rollup backfill's time)."""
        for source, parameters in self.rows_from(types, rows) if rows else []:
            self.execute(f"{into} {source} {tail}", parameters)


def _copy(cursor: Any, table: str, names: str, columns: tuple[Column[Any], ...], rows: Iterable[Any]) -> None:
    """PostgreSQL: COPY the rows (values in the driver's form, JSON as JSON text) into `names` of `table`,
    in COPY's binary format where every column's type has a binary form here (`_binary_types`), else in
    its text format. Binary saves the client formatting every value as text (2.7 -> 0.7 us a row of the
    `event` table, in C either way) and the server parsing it back (3.3 -> 2.7 us)."""
    types = _binary_types(columns)
    if types is not None and "jsonb" in types:
        from psycopg.types.json import set_json_dumps

        set_json_dumps(_as_text, cursor)  # the values are JSON text already (`FastSQL.json`)
    binary = "" if types is None else " (FORMAT BINARY)"
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN{binary}") as copy:
        if types is not None:
            copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def _as_text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"a JSON value goes to COPY as JSON text (FastSQL.json), not {type(value).__name__}")
    return value


# A column's PostgreSQL type (as SQLAlchemy compiles it, less its length) -> the binary form COPY sends.
# VARCHAR goes as text: their binary forms are the same bytes.
_BINARY = {
    "BIGINT": "int8",
    "INTEGER": "int4",
    "SMALLINT": "int2",
    "VARCHAR": "text",
    "TEXT": "text",
    "BOOLEAN": "bool",
    "FLOAT": "float8",
    "DOUBLE PRECISION": "float8",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "DATE": "date",
    "JSONB": "jsonb",
}


@lru_cache(maxsize=64)
def _binary_types(columns: tuple[Column[Any], ...]) -> list[str] | None:
    """Each column's type for a binary COPY, or None when one has no binary form here (text COPY then)."""
    types = [_BINARY.get(_pg_type(column).split("(")[0]) for column in columns]
    return None if None in types else cast(list[str], types)


def _pg_type(column: Column[Any]) -> str:
    """The column's PostgreSQL type as SQLAlchemy compiles it; a foreign key not typed yet is a BIGINT (every
    id is a BigIntPK)."""
    if isinstance(column.type, NullType):
        return "BIGINT"
    return str(column.type.compile(dialect=postgresql.dialect()))


@lru_cache(maxsize=64)
def _unnest(columns: tuple[Column[Any], ...]) -> str:
    """PostgreSQL: `SELECT ... FROM unnest(%s::type[], ...)`, one array per column (JSON goes as text and is
    cast in the SELECT: `?j` values are JSON text)."""
    arrays, picks = [], []
    for n, column in enumerate(columns):
        json = isinstance(column.type, JSON)
        kind = "text" if json else _pg_type(column)
        arrays.append(f"%b::{kind}[]")  # binary: the text form of an array escapes every element
        picks.append(f"c{n}::jsonb" if json else f"c{n}")
    aliases = ", ".join(f"c{n}" for n in range(len(columns)))
    return f"SELECT {', '.join(picks)} FROM unnest({', '.join(arrays)}) AS t({aliases})"


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


def _pipeline_supported() -> bool:
    """Whether psycopg's libpq has pipeline mode. psycopg is imported here, not with this module: a SQLite
    server never loads it (5 MB in every worker)."""
    import psycopg

    return bool(psycopg.Pipeline.is_supported())


def _pieces(count: int, per: int) -> Iterator[tuple[int, int]]:
    """(start, size) of the SQLite statements that take `count` rows, at most `per` each: full ones, then
    the rest in falling powers of two, so a table's insert has at most log2(per) + 2 statement texts.

    SQLite connections keep their prepared statements by text (Python's sqlite3: the last 128), and one of
    200 rows holds ~200 KB. With a size of its own for each batch's remainder, every batch prepared a new
    one and each connection's cache filled with them (issue 16: 4-8 MB a connection, 5 connections a
    server worker, 10-15 % of the server's memory), pushing the small everyday statements out."""
    start = 0
    while count - start >= per:
        yield start, per
        start += per
    while start < count:
        size = 1 << ((count - start).bit_length() - 1)
        yield start, size
        start += size


def _padded(count: int, most: int) -> int:
    """The length of an IN list of `count` values (up to `most`), padded to one of a few (`_pieces`)."""
    return min(most, 1 << max(0, count - 1).bit_length())


def _sqlite_variable_limit(connection: Any) -> int:
    """The most `?` a statement of this SQLite connection may hold (32,766 since SQLite 3.32; 999 before)."""
    return int(connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
