"""Engine, declarative base and the only two places that commit: `get_db` and `session_scope`."""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from fastapi import Request
from sqlalchemy import MetaData, create_engine, event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.orm import Session as DBSession

from sessionary import db_sqlite
from sessionary.db_sqlite import WRITE_OPTION
from sessionary.errors import Unavailable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


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


# A PostgreSQL connection back in the pool for this long is pinged before its next use (`ping_when_idle`).
PING_AFTER_IDLE_SECONDS = 1.0


def open_database(
    url: str,
    *,
    pool_size: int = 10,
    pool_timeout: float = 30.0,
    ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
) -> Database:
    """Build the engine for `url` (SQLite file directories are created) and its session factories.

    A connection not free within `pool_timeout` seconds is answered `Unavailable` (see session_scope).
    PostgreSQL: a pooled connection idle for `ping_after_idle` seconds is pinged first (`ping_when_idle`)."""
    engine = _create_engine(url, pool_size=pool_size, pool_timeout=pool_timeout)
    if engine.dialect.name != "sqlite":
        ping_when_idle(engine, ping_after_idle)
    reader = sessionmaker(bind=engine, expire_on_commit=False)
    writer = sessionmaker(bind=engine, expire_on_commit=False, execution_options={WRITE_OPTION: True})
    return Database(engine=engine, reader=reader, writer=writer)


def normalize_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (SQLAlchemy would pick psycopg2, which is not installed)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _create_engine(url: str, *, pool_size: int, pool_timeout: float) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=pool_timeout,
            **_JSON_CODEC,
        )
    path = parsed.database if parsed.database and parsed.database != ":memory:" else None
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # SQLAlchemy's pool for a SQLite file: 5 connections and 10 overflow, each cheap.
    engine = create_engine(
        url,
        connect_args=db_sqlite.connect_args(),
        pool_timeout=pool_timeout,
        # The most recently returned connection first (LIFO), so a worker keeps two or three connections warm,
        # each holding its prepared statements (ARCHITECTURE "Server memory"). Not on PostgreSQL: there it
        # made ingest at 1M events 22 % slower (15,034 -> 11,681 events/s; FIFO 16,158), its cause unproven.
        pool_use_lifo=True,
        **_JSON_CODEC,
    )
    db_sqlite.install(engine, str(Path(path).resolve()) if path else None)
    return engine


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """SQLAlchemy's `pool_pre_ping` for connections that sat in the pool `idle_seconds` or more: a dead one
    (the server restarted, a firewall or an idle timeout cut it) is found on checkout and replaced, and
    the pool's older connections with it, as `pool_pre_ping` does. One that was in use a moment ago (under
    load, every checkout) is not pinged: the ping was a round trip of its own on every transaction, a
    tenth of a journey write batch. A connection that died within `idle_seconds` of its last use fails
    its next statement instead, and is replaced after it (SQLAlchemy invalidates a disconnected one)."""

    @event.listens_for(engine, "checkin")
    def _back(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")  # None: fresh (a reconnection clears `info`)
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.InvalidatePoolError() from error
            raise


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
    except exc.TimeoutError as error:  # no pooled connection came free in time
        db.rollback()
        raise Unavailable("The server is busy: no database connection came free in time") from error
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


@contextmanager
def time_budget(db: DBSession, seconds: float, *, message: str) -> Iterator[None]:
    """Statements run by `db` inside the block stop after `seconds` in all (SQLite: a progress handler;
    PostgreSQL: the transaction's statement_timeout, per statement), answered `Unavailable(message)`."""
    try:
        if db.get_bind().dialect.name == "sqlite":
            dbapi_connection = db.connection().connection.dbapi_connection
            assert isinstance(dbapi_connection, sqlite3.Connection)
            with db_sqlite.deadline(dbapi_connection, seconds):
                yield
        else:
            milliseconds = str(max(1, math.ceil(seconds * 1000)))
            previous = db.execute(text("SHOW statement_timeout")).scalar_one()
            db.execute(_SET_TIMEOUT, {"value": milliseconds})
            yield
            db.execute(_SET_TIMEOUT, {"value": previous})
    except exc.OperationalError as error:
        if not _cancelled(error):
            raise
        raise Unavailable(f"{message} (the time budget is {seconds:g} s)") from error


# Transaction-local: a rollback restores the server's own value.
_SET_TIMEOUT = text("SELECT set_config('statement_timeout', :value, true)")


def _cancelled(error: exc.OperationalError) -> bool:
    """Whether a statement was stopped by its time budget (SQLite: interrupted; PostgreSQL: 57014)."""
    return getattr(error.orig, "sqlstate", None) == "57014" or db_sqlite.interrupted(error.orig)
