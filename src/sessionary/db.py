"""Engine, declarative base and the only two places that commit: `get_db` and `session_scope`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from fastapi import Request
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.orm import Session as DBSession

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A session begun with this execution option takes SQLite's write lock up front (BEGIN IMMEDIATE), so a
# writer never fails half-way with "database is locked" when another process writes at the same time.
WRITE_OPTION = "sessionary_write"


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


_JSON_CODEC: dict[str, Any] = {"json_serializer": _dumps, "json_deserializer": orjson.loads}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@dataclass(frozen=True)
class Database:
    """An engine with its two session factories: readers and writers."""

    engine: Engine
    reader: sessionmaker[DBSession]
    writer: sessionmaker[DBSession]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, pool_size: int = 10) -> Database:
    """Build the engine for `url` (SQLite file directories are created) and its session factories."""
    engine = _create_engine(url, pool_size=pool_size)
    reader = sessionmaker(bind=engine, expire_on_commit=False)
    writer = sessionmaker(bind=engine, expire_on_commit=False, execution_options={WRITE_OPTION: True})
    return Database(engine=engine, reader=reader, writer=writer)


def normalize_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (SQLAlchemy would pick psycopg2, which is not installed)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _create_engine(url: str, *, pool_size: int) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, **_JSON_CODEC
        )
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **_JSON_CODEC)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL + synchronous=NORMAL: a committed transaction survives a crash of the server process.
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=30000",
        "cache_size=-65536",
        "temp_store=MEMORY",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def insert_for(db: DBSession, table: Any) -> Any:
    """The dialect's INSERT construct (it has on_conflict_do_nothing / do_update) for `table`."""
    dialect = db.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


@contextmanager
def session_scope(factory: sessionmaker[DBSession]) -> Iterator[DBSession]:
    """One transaction for a CLI command or background job: commit on success, roll back on error."""
    db = factory()
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


def get_db(request: Request) -> Iterator[DBSession]:
    """The request's read transaction; commits after the route returns, before the response is sent."""
    with session_scope(request.app.state.db.reader) as db:
        yield db


def get_write_db(request: Request) -> Iterator[DBSession]:
    """The request's write transaction (SQLite: BEGIN IMMEDIATE); commits before the response is sent."""
    with session_scope(request.app.state.db.writer) as db:
        yield db
