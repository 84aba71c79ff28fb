"""Each table has one owning package that alone writes it (issue 12): the package whose models module
declares the table. Other packages write it only through the owner's functions (`sessions.store.update`),
which the scan does not count: the write is in the owner's source. How writes are found: table_writes.py.

Planted foreign writes of every kind the scan knows prove it can fail."""

from __future__ import annotations

import textwrap

import pytest

from sessionary.db import Base
from tests.table_writes import Write, owners, package_of, scan, scan_package

# Foreign writes allowed, each with the module, the table and why (none today: every package writes only its
# own tables, and others through the owner's functions).
ALLOWED: set[tuple[str, str]] = set()


def foreign(writes: list[Write]) -> list[Write]:
    """The writes of a table by a package that does not own it, or of a table the scan cannot tell."""
    owner = owners()
    return [
        w
        for w in writes
        if w.table == "?" or owner.get(w.table, package_of(w.module)) != package_of(w.module)
    ]


def planted(source: str, module: str = "sessionary.labels.planted") -> list[Write]:
    """The writes the scan finds in `source`, run as a module of `module`'s package."""
    source = textwrap.dedent(source)
    namespace: dict[str, object] = {"__name__": module}
    exec(compile(source, module, "exec"), namespace)  # imports and definitions only
    return scan(module, source, namespace)


def test_every_table_has_one_owning_package() -> None:
    found = owners()
    assert set(found) == set(Base.metadata.tables)
    assert found["session"] == "sessionary.sessions"
    assert found["event"] == "sessionary.eventlog"
    assert found["server_secret"] == "sessionary.recordings"


def test_no_package_writes_a_table_it_does_not_own() -> None:
    writes = foreign(list(scan_package()))
    found = {(w.module, w.table) for w in writes}
    unexpected = [
        f"{w.module}:{w.line} writes {w.table} ({w.how})"
        for w in writes
        if (w.module, w.table) not in ALLOWED
    ]
    assert unexpected == [], "write these tables through their owning package's functions"
    assert ALLOWED - found == set(), "these allowed foreign writes are gone: remove their entries"


def test_ingest_journey_and_recordings_write_sessions_and_events_through_their_owners() -> None:
    writes = [w for w in scan_package() if (w.module, w.table) not in ALLOWED]
    assert {package_of(w.module) for w in writes if w.table == "session"} == {"sessionary.sessions"}
    assert {package_of(w.module) for w in writes if w.table == "event"} == {"sessionary.eventlog"}
    assert {"journey_session", "metrics_rollup", "server_secret"} <= {w.table for w in writes}


MODELS = """
    from typing import cast
    from sqlalchemy import Table, delete, insert, update
    from sessionary.db import insert_for
    from sessionary.eventlog import models
    from sessionary.eventlog.models import Event
    from sessionary.sessions import service as sessions
    from sessionary.sessions.models import Session
    _SESSIONS = cast(Table, Session.__table__)
    TABLE = "session"
"""
PLANTED = {
    "sql insert": ('SQL = "INSERT INTO session (id) VALUES (?)"', {"session"}),
    "sql upsert, f-string": (
        'COLUMNS = "id, data"\nSQL = f"INSERT INTO event ({COLUMNS}) VALUES (?, ?) ON CONFLICT DO NOTHING"',
        {"event"},
    ),
    "sql update": ('SQL = "UPDATE session SET duration = ? WHERE id = ?"', {"session"}),
    "sql delete, quoted": ("SQL = 'DELETE FROM \"event\" WHERE id = ?'", {"event"}),
    "sql, table from a constant": ('SQL = f"UPDATE {TABLE} SET duration = ?"', {"session"}),
    "sql, table unknown": ("def f(table):\n    return f'DELETE FROM {table}'", {"?"}),
    "insert(Model)": ("def f(db):\n    db.execute(insert(Session).values(id=1))", {"session"}),
    "update(alias)": ("def f(db):\n    db.execute(update(_SESSIONS).values(duration=1))", {"session"}),
    "delete(module.Model)": ("def f(db):\n    db.execute(delete(models.Event))", {"event"}),
    "insert_for(db, local)": (
        "def f(db):\n    table = Session.__table__\n    db.execute(insert_for(db, table).values(id=1))",
        {"session"},
    ),
    "dialect insert": (
        "from sqlalchemy.dialects import postgresql\ndef f(db):\n    db.execute(postgresql.insert(Event))",
        {"event"},
    ),
    "Table.delete()": ("def f(db):\n    db.execute(_SESSIONS.delete())", {"session"}),
    "delete in a loop": (
        "def f(db):\n    for model in (Session, Event):\n        db.execute(delete(model))",
        {"session", "event"},
    ),
    "insert(parameter)": ("def f(db, table: Table):\n    db.execute(insert(table))", {"?"}),
    "db.add(Model())": ("def f(db):\n    db.add(Session(id=1))", {"session"}),
    "db.add_all([local])": ("def f(db):\n    row = Event(id=1)\n    db.add_all([row])", {"event"}),
    "db.delete(db.get())": ("def f(db):\n    db.delete(db.get(Session, 1))", {"session"}),
    "attribute of a parameter": ("def f(session: Session | None):\n    session.duration = 1.0", {"session"}),
    "attribute of a returned model": (
        "def f(db):\n    s = sessions.get_session(db, organization_id=1, session_id='1')\n    s.source = 'x'",
        {"session"},
    ),
    "augmented attribute": ("def f(db):\n    s = db.get(Session, 1)\n    s.event_count += 1", {"session"}),
}


@pytest.mark.parametrize("case", list(PLANTED))
def test_a_planted_foreign_write_is_found(case: str) -> None:
    source, tables = PLANTED[case]
    writes = planted(MODELS + textwrap.indent(source, "    "))
    assert {w.table for w in foreign(writes)} == tables


@pytest.mark.parametrize("case", [case for case, (_, tables) in PLANTED.items() if tables == {"session"}])
def test_the_owner_may_write_its_table(case: str) -> None:
    source, _ = PLANTED[case]
    writes = planted(MODELS + textwrap.indent(source, "    "), module="sessionary.sessions.planted")
    assert writes
    assert foreign(writes) == []


def test_writes_through_the_owner_and_look_alikes_are_not_writes() -> None:
    source = '''
        """Docstrings may say INSERT INTO session or UPDATE session SET."""
        from datetime import UTC, datetime
        from sessionary.sessions import store as sessions_store
        def f(db, session, store, parts: list[str], values: dict[str, int]):
            """DELETE FROM session happens in sessions.store."""
            sessions_store.update(db, [(1, {"duration": 2.0})], now=datetime.now(UTC))
            sessions_store.set_label(session, 3)
            store.delete("blob-key")
            parts.insert(0, "text")
            values.update(duration=1)
            session.duration = 1.0  # an object of unknown type
            return "SELECT id FROM session"
    '''
    assert planted(source) == []
