"""Driver-level SQL for the journey write path, on both databases.

A single-event request's transaction stores a handful of events in about ten statements; through
SQLAlchemy Core each statement cost more (construction, cache key, per-row parameter processing) than the
database's own work, so the write path builds its statements as text once and passes values the driver
takes as they are (as ingest/event_rows.py does for native events). Statements are written with `?`
placeholders and `?j` for a JSON value; `Raw` turns them into each driver's form (`%s`, `%s::jsonb`).
Timestamps are SQLite text ("YYYY-MM-DD HH:MM:SS.ffffff", UTC) or aware datetimes, as db_types stores them.
Statements go to the DBAPI connection of the session's transaction, under SQLAlchemy: even its
exec_driver_sql cost as much per statement as SQLite's own work on a small batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy.orm import Session as DBSession

from sessionary.db_types import sqlite_text


@lru_cache(maxsize=256)
def _postgres(text: str) -> str:
    return text.replace("?j", "%s::jsonb").replace("?", "%s")


def column_when(value: datetime, *, sqlite: bool) -> Any:
    """A timestamp as the column takes it: SQLite text, or the datetime itself for PostgreSQL."""
    return sqlite_text(value) if sqlite else value


class Raw:
    """The transaction's connection, with each dialect's placeholders and value forms."""

    def __init__(self, db: DBSession) -> None:
        connection = db.connection()  # begins the session's transaction if it has not yet
        self.sqlite = connection.dialect.name == "sqlite"
        self.driver: Any = connection.connection.driver_connection
        self._texts: dict[datetime, str] = {}

    def sql(self, text: str) -> str:
        return text.replace("?j", "?") if self.sqlite else _postgres(text)

    def execute(self, text: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        """The rows the statement returns (none for most writes)."""
        cursor = self.driver.cursor()
        try:
            cursor.execute(self.sql(text), tuple(params))
            return list(cursor.fetchall()) if cursor.description is not None else []
        finally:
            cursor.close()

    def executemany(self, text: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = rows if isinstance(rows, list) else [tuple(row) for row in rows]
        if rows:
            cursor = self.driver.cursor()
            try:
                cursor.executemany(self.sql(text), rows)
            finally:
                cursor.close()

    def when(self, value: datetime | None) -> Any:
        """A timestamp as this database's column takes it (`column_when`; a row repeats its dates and a
        batch its `now`, so each distinct one is formatted once)."""
        if value is None or not self.sqlite:
            return value
        text = self._texts.get(value)
        if text is None:
            text = self._texts[value] = column_when(value, sqlite=True)
        return text

    def read_when(self, value: Any) -> datetime:
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

    def marks(self, count: int) -> str:
        """`?, ?, ...` for an IN list of `count` values."""
        return ", ".join("?" * count)
