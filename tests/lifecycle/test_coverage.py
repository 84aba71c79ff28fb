"""Every table that names a session, a customer or a contact is reached by a session's deletion: walked
through SQLAlchemy's metadata, so a table added later without a way to delete its rows fails here."""

from __future__ import annotations

import inspect

from sqlalchemy import BigInteger, Column, ForeignKey, MetaData, String, Table

import sessionary.models  # noqa: F401  (every table on Base.metadata)
from sessionary.db import Base
from sessionary.lifecycle import coverage, deletion


def _owner_package(table: str) -> str:
    """The package whose models module declares the table (the one package that may write it)."""
    for mapper in Base.registry.mappers:
        if mapper.local_table.name == table:
            return mapper.class_.__module__.rsplit(".", 1)[0]
    raise AssertionError(f"no model declares {table}")


def test_every_table_naming_a_session_customer_or_contact_is_covered_by_deletion() -> None:
    assert coverage.uncovered(Base.metadata) == []


def test_each_registry_entry_is_a_real_table_with_such_a_column_deleted_by_its_owner() -> None:
    called = inspect.getsource(deletion)
    for table, covered in coverage.REGISTRY.items():
        kinds = {kind for _, kind in coverage.identity_columns(Base.metadata.tables[table])}
        assert kinds, f"{table} names no session, customer or contact: no entry needed"
        if covered.by is None:  # kept: only a person's records may be
            assert kinds == {"contact"}, f"{table} holds a session's rows: it may not be kept"
            continue
        assert covered.by.__module__.startswith(_owner_package(table)), f"{table} deleted by a non-owner"
        assert f".{covered.by.__name__}(" in called, f"lifecycle.deletion never calls {covered.by.__name__}"


def _with(*planted: Table) -> MetaData:
    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    for table in planted:
        table.to_metadata(metadata)
    return metadata


def test_a_planted_table_with_a_session_column_and_no_way_to_delete_it_fails_the_check() -> None:
    scratch = MetaData()
    loose = Table("planted_notes", scratch, Column("id", BigInteger, primary_key=True),
                  Column("session_id", BigInteger))  # fmt: skip
    nulling = ForeignKey("session.id", ondelete="SET NULL")
    nulled = Table("planted_marks", scratch, Column("id", BigInteger, primary_key=True),
                   Column("parent_session_id", BigInteger, nulling))  # fmt: skip
    person = Table("planted_people", scratch, Column("id", BigInteger, primary_key=True),
                   Column("cookie_id", String(200)))  # fmt: skip
    assert sorted(coverage.uncovered(_with(loose, nulled, person))) == [
        "planted_marks.parent_session_id",
        "planted_notes.session_id",
        "planted_people.cookie_id",
    ]


def test_a_planted_table_cascading_from_sessions_is_covered() -> None:
    scratch = MetaData()
    cascade = ForeignKey("session.id", ondelete="CASCADE")
    cascading = Table("planted_notes", scratch, Column("id", BigInteger, primary_key=True),
                      Column("session_id", BigInteger, cascade))  # fmt: skip
    assert coverage.uncovered(_with(cascading)) == []
