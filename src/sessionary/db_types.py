"""Portable column types: UTC timestamps that refuse naive datetimes, JSON that is JSONB on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY, PostgreSQL ids may outgrow 32 bits.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp; stored naive (UTC) on SQLite, timestamptz on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return _SQLiteUTC()
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime needs a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("UTCDateTime refuses naive datetimes; attach a timezone at the edge")
        # Aware on both: SQLite's column type (below) formats it with sqlite_text.
        return value if value.tzinfo is UTC else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _SQLiteUTC(sqlite.DATETIME):
    """SQLite DATETIME text ("YYYY-MM-DD HH:MM:SS.ffffff", UTC), written and read by C-speed isoformat."""

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        def process(value: datetime | None) -> str | None:
            return None if value is None else sqlite_text(value)

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        def process(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value)

        return process


def sqlite_text(value: datetime) -> str:
    """How a UTC timestamp is stored on SQLite: "YYYY-MM-DD HH:MM:SS.ffffff" (sorts as it should). The one
    encoder of timestamps for SQLite (UTCDateTime and fastsql use it); a naive datetime is refused."""
    if value.tzinfo is None:
        raise ValueError("sqlite_text refuses naive datetimes; attach a timezone at the edge")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # drops "+00:00"; years are 4 digits


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
