"""fastsql, the one driver-level SQL layer: one timestamp encoder that refuses naive datetimes, ids allocated
up front that the following insert uses, and values written and read back as SQLAlchemy's column types
write and read them, on every database."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, cast

import psycopg
import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.orm import Session as DBSession

from sessionary.conversations.models import Conversation
from sessionary.db import Base, Database, session_scope
from sessionary.db_types import JSONType, UTCDateTime, sqlite_text
from sessionary.fastsql import (
    COPY_FROM,
    SQLITE_ROWS_PER_INSERT,
    FastSQL,
    _binary_types,
    _pieces,
    column_when,
    one_of,
)
from sessionary.metrics.models import MetricsSessionState
from sessionary.sessions import store as sessions_store
from sessionary.sessions.models import Session, SessionCount
from tests.conftest import Org

NAIVE = datetime(2025, 3, 1, 12, 0, tzinfo=UTC).replace(tzinfo=None)
_SESSIONS = cast(Table, Session.__table__)


@pytest.mark.parametrize("sqlite", [True, False])
def test_column_when_refuses_a_naive_datetime(sqlite: bool) -> None:
    with pytest.raises(ValueError, match="naive"):
        column_when(NAIVE, sqlite=sqlite)


def test_sqlite_text_refuses_a_naive_datetime_and_stores_other_zones_as_utc() -> None:
    with pytest.raises(ValueError, match="naive"):
        sqlite_text(NAIVE)
    paris = datetime(2025, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    assert sqlite_text(paris) == "2025-03-01 12:00:00.000000"


def test_fastsql_when_refuses_a_naive_datetime_on_each_database(database: Database) -> None:
    with session_scope(database.reader) as db:
        raw = FastSQL(db)
        with pytest.raises(ValueError, match="naive"):
            raw.when(NAIVE)
        assert raw.when(None) is None


def _row(org: Org, sid: str, at: datetime) -> dict[str, object]:
    return sessions_store.placeholder(org.id, ("fastsql-test", sid), at, at)


def test_allocated_ids_are_the_ids_a_following_insert_stores(database: Database, org: Org) -> None:
    at = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    sids = [f"alloc-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    with session_scope(database.writer) as db:
        ids = sessions_store.insert(db, [_row(org, sid, at) for sid in sids])
        # A row the database numbers itself comes after them.
        later = sessions_store.ensure_placeholder(
            db, organization_id=org.id, key=("fastsql-test", "later"), at=at
        )
    with session_scope(database.reader) as db:
        stored = dict(
            db.execute(select(Session.channel_manager_sid, Session.id).where(Session.id.in_(ids))).all()
        )
    assert stored == dict(zip(sids, ids, strict=True))
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    assert later > max(ids)


def test_values_written_through_fastsql_read_back_as_sqlalchemy_reads_them(
    database: Database, org: Org
) -> None:
    at = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    ended = datetime(2025, 3, 1, 13, 30, tzinfo=timezone(timedelta(hours=2)))  # 11:30 UTC
    change = {
        "is_test": True,
        "user_terminated": False,
        "field_versions": {"agent_name": "v1", "nested": [1, 2.5, None]},
        "ended_at": ended,
        "duration": 12.5,
        "llm_seed": 2**62,
        "agent_name": "Zoë",
    }
    with session_scope(database.writer) as db:
        [session_id] = sessions_store.insert(db, [_row(org, f"values-{uuid.uuid4().hex[:8]}", at)])
        sessions_store.update(db, [(session_id, change)], now=at)
    with session_scope(database.reader) as db:
        stored = db.get(Session, session_id)
        assert stored is not None
        assert {name: getattr(stored, name) for name in change} == {
            **change,
            "ended_at": ended.astimezone(UTC),
        }
        assert stored.updated_at == at
        key = (stored.channel_manager_service, stored.channel_manager_sid)
        columns = [c.name for c in _SESSIONS.columns if c.name not in ("id", "channel_manager_sid")]
        locked = sessions_store.lock(db, organization_id=org.id, keys=[key], columns=columns)
        orm = {name: getattr(stored, name) for name in columns}
    assert {name: locked[key][name] for name in columns} == orm
    assert {type(locked[key][name]) for name in ("is_test", "ended_at", "field_versions")} == {
        bool,
        datetime,
        dict,
    }


def test_a_date_column_takes_fastsqls_day_on_each_database(database: Database) -> None:
    with session_scope(database.reader) as db:
        raw = FastSQL(db)
        day_column = cast(Table, MetricsSessionState.__table__).c.day
        [write] = raw.writers([day_column])
        [read] = raw.readers([day_column])
        value = date(2025, 3, 1)
        stored = write(value) if write else value
        assert (read(stored) if read else stored) == value
        assert stored == ("2025-03-01" if raw.sqlite else value)


def test_rows_inserted_by_copy_read_back_as_rows_inserted_by_insert_statements(
    database: Database, org: Org
) -> None:
    """A batch of COPY_FROM rows or more goes by COPY on PostgreSQL, a smaller one by INSERTs."""
    at = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)

    def row(sid: str) -> dict[str, object]:
        values = _row(org, sid, at)
        return {
            **values,
            "field_versions": {"a": "Zoë\t\\n", "b": [1, None]},
            "ended_at": at,
            "is_test": True,
        }

    tag = uuid.uuid4().hex[:8]
    with session_scope(database.writer) as db:
        copied = sessions_store.insert(db, [row(f"copy-{tag}-{n}") for n in range(COPY_FROM)])
        [inserted] = sessions_store.insert(db, [row(f"insert-{tag}")])
    columns = [c.name for c in _SESSIONS.columns if c.name not in ("id", "channel_manager_sid")]
    with session_scope(database.reader) as db:
        stored = {s.id: s for s in db.scalars(select(Session).where(Session.id.in_([*copied, inserted])))}
        values = {i: [getattr(stored[i], name) for name in columns] for i in stored}
    assert len(stored) == COPY_FROM + 1
    assert all(values[i] == values[inserted] for i in copied)
    assert stored[inserted].field_versions == {"a": "Zoë\t\\n", "b": [1, None]}


def test_insert_rows_takes_only_insert_into_a_table(database: Database) -> None:
    with session_scope(database.writer) as db, pytest.raises(ValueError, match="INSERT INTO table"):
        FastSQL(db).insert_rows("INSERT INTO session; DROP TABLE session", [Session.__table__.c.id], [(1,)])


def test_pairs_in_finds_each_pair_by_one_probe_of_the_whole_key_on_sqlite(database: Database) -> None:
    # A bare `(a, b) IN (VALUES ...)` was planned as a walk of the organization's every session key (a cost
    # that grew with the organization); the plan must search the unique key on all three of its columns.
    with session_scope(database.reader) as db:
        raw = FastSQL(db)
        if not raw.sqlite:
            pytest.skip("PostgreSQL joins unnest(); its planner is not SQLite's")
        pairs = [("a", "b"), ("c", "d"), ("e", "f")]
        [(condition, params)] = raw.pairs_in("(channel_manager_service, channel_manager_sid)", pairs)
        plan = raw.execute(
            f"EXPLAIN QUERY PLAN SELECT id FROM session WHERE organization_id = ? AND {condition}",
            (1, *params),
        )
    details = " ".join(str(row[-1]) for row in plan)
    assert "organization_id=? AND channel_manager_service=? AND channel_manager_sid=?" in details


def test_insert_select_of_more_rows_than_one_statement_takes_inserts_each_once_and_counts_the_new(
    database: Database, org: Org
) -> None:
    """SQLite inserts up to SQLITE_ROWS_PER_INSERT rows a statement (fewer of a wide table such as session):
    rows across several statements, some stored before, go in once each; the count is the new rows only,
    and the session_count trigger counted each."""
    at = datetime(2025, 4, 2, 9, 0, tzinfo=UTC)
    tag = f"multi-{uuid.uuid4().hex[:8]}"
    total = 2 * SQLITE_ROWS_PER_INSERT + 7
    rows = [_row(org, f"{tag}-{n:04d}", at + timedelta(seconds=n)) for n in range(total)]
    stored_first = rows[SQLITE_ROWS_PER_INSERT - 3 : SQLITE_ROWS_PER_INSERT + 4]  # across a boundary
    with session_scope(database.writer) as db:
        assert len(sessions_store.create(db, stored_first)) == len(stored_first)
    with session_scope(database.writer) as db:
        created = sessions_store.create(db, rows)
    with session_scope(database.reader) as db:
        sids = db.scalars(
            select(Session.channel_manager_sid).where(
                Session.organization_id == org.id, Session.channel_manager_sid.like(f"{tag}-%")
            )
        ).all()
        counted = db.scalar(
            select(func.sum(SessionCount.n)).where(
                SessionCount.organization_id == org.id, SessionCount.day == at.date()
            )
        )
    assert len(created) == total - len(stored_first)
    assert {sid for _, sid in created} == {row["channel_manager_sid"] for row in rows} - {
        row["channel_manager_sid"] for row in stored_first
    }
    assert sorted(sids) == sorted(row["channel_manager_sid"] for row in rows)
    assert counted == total


def test_insert_select_counts_the_rows_it_inserted_across_statements_not_those_it_skipped(
    database: Database, org: Org
) -> None:
    table = cast(Table, Conversation.__table__)
    columns = [table.c.organization_id, table.c.conversation_id, table.c.timestamp]
    tag = f"count-{uuid.uuid4().hex[:8]}"
    start = datetime(2025, 4, 3, 9, 0, tzinfo=UTC)
    total = 2 * SQLITE_ROWS_PER_INSERT + 5
    skip = " ON CONFLICT (organization_id, conversation_id) DO NOTHING"
    with session_scope(database.writer) as db:
        raw = FastSQL(db)
        rows = [(org.id, f"{tag}-{n:04d}", raw.when(start + timedelta(seconds=n))) for n in range(total)]
        first = rows[SQLITE_ROWS_PER_INSERT - 2 : SQLITE_ROWS_PER_INSERT + 3]
        assert raw.insert_select("INSERT INTO conversation", columns, first, skip) == len(first)
        assert raw.insert_select("INSERT INTO conversation", columns, rows, skip) == total - len(first)
        assert raw.insert_select("INSERT INTO conversation", columns, rows, skip) == 0


def test_insert_select_of_any_count_of_rows_stores_each_row_once(database: Database, org: Org) -> None:
    """Counts on either side of a statement's rows and of the powers of two the rest goes in (`_pieces`)."""
    table = cast(Table, Conversation.__table__)
    columns = [table.c.organization_id, table.c.conversation_id, table.c.timestamp]
    tag = f"any-{uuid.uuid4().hex[:8]}"
    start = datetime(2025, 4, 4, 9, 0, tzinfo=UTC)
    counts = [1, 2, 3, 127, 128, 129, SQLITE_ROWS_PER_INSERT - 1, SQLITE_ROWS_PER_INSERT + 1, 455]
    with session_scope(database.writer) as db:
        raw = FastSQL(db)
        for batch, count in enumerate(counts):
            rows = [
                (org.id, f"{tag}-{batch}-{n:04d}", raw.when(start + timedelta(seconds=n)))
                for n in range(count)
            ]
            assert raw.insert_select("INSERT INTO conversation", columns, rows) == count
    with session_scope(database.reader) as db:
        stored = db.scalars(
            select(Conversation.conversation_id).where(
                Conversation.organization_id == org.id, Conversation.conversation_id.like(f"{tag}-%")
            )
        ).all()
    assert len(stored) == sum(counts)
    assert set(stored) == {f"{tag}-{b}-{n:04d}" for b, count in enumerate(counts) for n in range(count)}


@pytest.mark.parametrize("per", [1, 7, 50, SQLITE_ROWS_PER_INSERT])
def test_sqlite_statements_of_any_count_of_rows_come_in_a_few_sizes_that_cover_the_rows_in_order(
    per: int,
) -> None:
    """A SQLite connection keeps each statement text it prepared (a statement of 200 rows: ~200 KB), so
    every count of rows must go in statements of the same few sizes: `per`, or a power of two below it."""
    sizes: set[int] = set()
    for count in range(0, 3 * per + 300):
        pieces = list(_pieces(count, per))
        starts = [start for start, _ in pieces]
        assert starts == [sum(size for _, size in pieces[:n]) for n in range(len(pieces))]
        assert sum(size for _, size in pieces) == count
        sizes.update(size for _, size in pieces)
    assert all(size == per or (size < per and size & (size - 1) == 0) for size in sizes)
    assert len(sizes) <= per.bit_length() + 1


def test_pairs_in_of_any_count_finds_exactly_the_stored_pairs(database: Database, org: Org) -> None:
    """SQLite pads a chunk's list of pairs to one of a few lengths by repeating its last pair: the same
    set, so each stored pair is found once and no other."""
    tag = f"pairs-{uuid.uuid4().hex[:8]}"
    at = datetime(2025, 4, 5, 9, 0, tzinfo=UTC)
    with session_scope(database.writer) as db:
        sessions_store.create(db, [_row(org, f"{tag}-{n:04d}", at) for n in range(450)])
    for count in (1, 2, 3, 5, 9, 401, 450):
        wanted = [("fastsql-test", f"{tag}-{n:04d}") for n in range(count)] + [("fastsql-test", "absent")]
        found: list[str] = []
        with session_scope(database.reader) as db:
            raw = FastSQL(db)
            for condition, params in raw.pairs_in("(channel_manager_service, channel_manager_sid)", wanted):
                found += [
                    row[0]
                    for row in raw.execute(
                        f"SELECT channel_manager_sid FROM session WHERE organization_id = ? AND {condition}",
                        (org.id, *params),
                    )
                ]
        assert sorted(found) == [sid for _, sid in wanted[:-1]]


def test_one_of_matches_exactly_the_listed_values_of_any_count(database: Database, org: Org) -> None:
    tag = f"oneof-{uuid.uuid4().hex[:8]}"
    at = datetime(2025, 4, 6, 9, 0, tzinfo=UTC)
    sids = [f"{tag}-{n}" for n in range(5)]
    with session_scope(database.writer) as db:
        created = sessions_store.create(db, [_row(org, sid, at) for sid in sids])
    ids = [created[("fastsql-test", sid)] for sid in sids]
    with session_scope(database.reader) as db:
        for listed in ([], sids[:1], sids[1:4], [*sids, "absent", 'it\'s "quoted"']):
            got = db.scalars(
                select(Session.channel_manager_sid).where(one_of(db, Session.channel_manager_sid, listed))
            ).all()
            assert sorted(got) == sorted(set(listed) & set(sids))
        by_id = db.scalars(select(Session.id).where(one_of(db, Session.id, [ids[0], ids[2], -1]))).all()
    assert sorted(by_id) == sorted([ids[0], ids[2]])


def _keys_of(db: DBSession, org: Org, tag: str) -> dict[str, int]:
    stmt = select(Session.channel_manager_sid, Session.id).where(
        Session.organization_id == org.id, Session.channel_manager_sid.like(f"{tag}-%")
    )
    return {sid: session_id for sid, session_id in db.execute(stmt).all()}


def test_insert_select_skips_the_stored_rows_of_a_batch_and_counts_only_the_new(
    database: Database, org: Org
) -> None:
    """PostgreSQL COPYs a batch of COPY_FROM rows or more first; a batch holding a stored row falls back
    to the INSERT ... ON CONFLICT DO NOTHING, in the same transaction, which goes on and commits both."""
    at = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    tag = f"skip-{uuid.uuid4().hex[:8]}"
    first = [_row(org, f"{tag}-{n}", at) for n in range(COPY_FROM)]
    again = [_row(org, f"{tag}-{n}", at) for n in range(COPY_FROM // 2, COPY_FROM + COPY_FROM // 2)]
    with session_scope(database.writer) as db:
        created = sessions_store.create(db, first)
        assert len(created) == COPY_FROM
        stored = _keys_of(db, org, tag)
        recreated = sessions_store.create(db, again)
    new_sids = {f"{tag}-{n}" for n in range(COPY_FROM, COPY_FROM + COPY_FROM // 2)}
    assert {sid for _, sid in recreated} == new_sids
    with session_scope(database.reader) as db:
        after = _keys_of(db, org, tag)
    assert len(after) == COPY_FROM + COPY_FROM // 2
    assert {sid: after[sid] for sid in stored} == stored  # the stored ones kept their rows
    assert {after[sid] for sid in new_sids} == set(recreated.values())


def test_insert_select_raises_a_violation_its_conflict_clause_does_not_skip(
    database: Database, org: Org
) -> None:
    at = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    tag = f"orphan-{uuid.uuid4().hex[:8]}"
    rows = [_row(org, f"{tag}-{n}", at) | {"organization_id": 2**40} for n in range(COPY_FROM)]
    # (a driver-level statement: the driver's own error, as fastsql's other statements raise theirs)
    with (
        pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)),
        session_scope(database.writer) as db,
    ):
        sessions_store.create(db, rows)


def test_update_rows_sets_each_rows_columns_and_the_last_row_of_a_key_wins(
    database: Database, org: Org
) -> None:
    at = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    now = datetime(2025, 3, 2, 8, 30, 0, 250000, tzinfo=UTC)
    tag = f"upd-{uuid.uuid4().hex[:8]}"
    with session_scope(database.writer) as db:
        one, two, untouched = sessions_store.insert(db, [_row(org, f"{tag}-{n}", at) for n in range(3)])
        change = {"event_count": 5, "field_versions": {"a": "x"}, "ended_at": at + timedelta(hours=1)}
        sessions_store.update(
            db,
            [
                (one, change),
                (two, {**change, "event_count": 7}),
                (one, {**change, "event_count": 9, "field_versions": {"a": "y\\n\t"}}),
                (two, {"is_test": True}),  # another set of columns: a statement of its own
            ],
            now=now,
        )
    with session_scope(database.reader) as db:
        stored = {s.id: s for s in db.scalars(select(Session).where(Session.id.in_([one, two, untouched])))}
    assert (stored[one].event_count, stored[one].field_versions) == (9, {"a": "y\\n\t"})
    assert (stored[two].event_count, stored[two].field_versions, stored[two].is_test) == (7, {"a": "x"}, True)
    assert stored[one].ended_at == stored[two].ended_at == at + timedelta(hours=1)
    assert stored[one].updated_at == stored[two].updated_at == now
    assert (stored[untouched].event_count, stored[untouched].updated_at) == (0, at)


def test_update_rows_takes_only_update_of_a_table(database: Database) -> None:
    with session_scope(database.writer) as db, pytest.raises(ValueError, match="UPDATE table SET"):
        FastSQL(db).update_rows(
            "UPDATE session; DROP TABLE session", _SESSIONS.c.id, [_SESSIONS.c.id], [(1,)]
        )


def _scratch(raw: FastSQL) -> str:
    """A temporary table of the transaction's connection (dropped at its end on both databases)."""
    name = f"scratch_{uuid.uuid4().hex[:8]}"
    raw.execute(f"CREATE TEMPORARY TABLE {name} (id INTEGER PRIMARY KEY, note VARCHAR(20))")
    return name


def _scratch_columns(name: str) -> list[Column[Any]]:
    """The scratch table's columns, as `FastSQL.insert_rows` takes them."""
    table = Table(name, MetaData(), Column("id", Integer, primary_key=True), Column("note", String(20)))
    return list(table.c)


def test_statements_sent_in_pipelined_take_effect_and_fetch_reads_them(database: Database) -> None:
    with session_scope(database.writer) as db:
        raw = FastSQL(db)
        table = _scratch(raw)
        with raw.pipelined(3):
            raw.executemany(f"INSERT INTO {table} (id, note) VALUES (?, ?)", [(1, "a"), (2, "b")])
            raw.insert_rows(f"INSERT INTO {table}", _scratch_columns(table), [(3, "c")])
            inside = raw.fetch(f"SELECT id, note FROM {table} ORDER BY id")
            raw.executemany(f"UPDATE {table} SET note = ? WHERE id = ?", [("z", 1)])
        after = raw.fetch(f"SELECT note FROM {table} ORDER BY id")
        raw.execute(f"DROP TABLE {table}")
    assert [tuple(row) for row in inside] == [(1, "a"), (2, "b"), (3, "c")]
    assert [row[0] for row in after] == ["z", "b", "c"]


def _insert_twice(database: Database) -> None:
    with session_scope(database.writer) as db:
        raw = FastSQL(db)
        table = _scratch(raw)
        with raw.pipelined(2):
            raw.executemany(f"INSERT INTO {table} (id, note) VALUES (?, ?)", [(1, "a"), (1, "b")])


def test_an_error_of_a_statement_sent_in_pipelined_is_raised_by_the_block(database: Database) -> None:
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        _insert_twice(database)


def test_pipelined_leaves_a_block_of_copy_sized_inserts_unpipelined(database: Database) -> None:
    """COPY has no pipeline mode: a block inserting COPY_FROM rows or more runs as without it."""
    rows = [(n, "x") for n in range(COPY_FROM)]
    with session_scope(database.writer) as db:
        raw = FastSQL(db)
        table = _scratch(raw)
        with raw.pipelined(len(rows)):
            raw.insert_rows(f"INSERT INTO {table}", _scratch_columns(table), rows)
        assert raw.fetch(f"SELECT count(*) FROM {table}")[0][0] == COPY_FROM
        raw.execute(f"DROP TABLE {table}")


def test_every_table_takes_copy_in_binary_form_on_postgresql() -> None:
    """Every column type of the schema has a binary COPY form (fastsql._BINARY): a new type without one
    would send its table back to text COPY, a fifth dearer on both sides, with nothing else to tell."""
    tables = [table for table in Base.metadata.sorted_tables if table.name != "alembic_version"]
    assert len(tables) > 10
    binary = {t.name: _binary_types(tuple(t.columns)) is not None for t in tables}
    assert binary == dict.fromkeys(binary, True)


def test_a_column_type_without_a_binary_form_goes_by_text_copy_and_reads_back(database: Database) -> None:
    name = f"scratch_{uuid.uuid4().hex[:8]}"
    table = Table(name, MetaData(), Column("id", Integer, primary_key=True), Column("amount", Numeric(10, 2)))
    assert _binary_types(tuple(table.c)) is None
    rows = [(n, f"{n}.25") for n in range(COPY_FROM)]
    with session_scope(database.writer) as db:
        raw = FastSQL(db)
        raw.execute(f"CREATE TEMPORARY TABLE {name} (id INTEGER PRIMARY KEY, amount NUMERIC(10, 2))")
        raw.insert_rows(f"INSERT INTO {name}", list(table.c), rows)
        stored = raw.fetch(f"SELECT id, CAST(amount AS TEXT) FROM {name} ORDER BY id")
        raw.execute(f"DROP TABLE {name}")
    assert [(row[0], str(row[1])) for row in stored] == rows


def _typed_table(name: str) -> Table:
    """A table of every column type that has a binary COPY form (fastsql._BINARY)."""
    return Table(
        name,
        MetaData(),
        Column("id", BigInteger, primary_key=True),
        Column("i4", Integer),
        Column("i2", SmallInteger),
        Column("s", String(50)),
        Column("t", Text),
        Column("b", Boolean),
        Column("f", Float),
        Column("ts", UTCDateTime()),
        Column("d", Date),
        Column("j", JSONType),
    )


def _typed_values(n: int) -> tuple[Any, ...]:
    """Row `n`: the edges of each type (integer limits, NULLs, non-ASCII and control characters, another
    time zone, nested JSON)."""
    if n % 7 == 0:
        return (n, None, None, None, None, None, None, None, None, None)
    zone = timezone(timedelta(hours=-5 if n % 2 else 3))
    return (
        2**62 + n,
        -(2**31) if n % 3 else 2**31 - 1,
        -(2**15) if n % 3 else 2**15 - 1,
        f"Zoë\t{n}\n\\",
        "long " * n,
        n % 2 == 0,
        n / 3,
        datetime(2025, 3, 1, 12, 0, 0, n, tzinfo=zone),
        date(2025, 3, 1) + timedelta(days=n),
        {"n": n, "text": 'é\u0001"', "list": [1, 2.5, None, {"deep": True}]},
    )


def _converted(converts: Sequence[Any], row: Sequence[Any]) -> tuple[Any, ...]:
    """A row through fastsql's writers or readers (None: the value as it is; NULL stays NULL)."""
    return tuple(c(v) if c and v is not None else v for c, v in zip(converts, row, strict=True))


def test_copy_in_binary_form_stores_each_type_as_an_insert_statement_does(database: Database) -> None:
    """COPY_FROM rows go by COPY (binary on PostgreSQL: every type above has a binary form), fewer by an
    INSERT: every value reads back the same from both tables, and as it was written."""
    tag = uuid.uuid4().hex[:8]
    copied, inserted = _typed_table(f"copied_{tag}"), _typed_table(f"inserted_{tag}")
    assert _binary_types(tuple(copied.c)) is not None
    rows = [_typed_values(n) for n in range(COPY_FROM)]
    with session_scope(database.writer) as db:
        raw = FastSQL(db)
        writers, readers = raw.writers(list(copied.c)), raw.readers(list(copied.c))
        driver_rows = [_converted(writers, row) for row in rows]
        for table in (copied, inserted):
            table.create(db.connection())
        raw.insert_rows(f"INSERT INTO {copied.name}", list(copied.c), driver_rows)
        for row in driver_rows:
            raw.insert_rows(f"INSERT INTO {inserted.name}", list(inserted.c), [row])
        names = ", ".join(c.name for c in copied.c)
        read = {
            table.name: [
                _converted(readers, row) for row in raw.fetch(f"SELECT {names} FROM {table.name} ORDER BY id")
            ]
            for table in (copied, inserted)
        }
        for table in (copied, inserted):
            table.drop(db.connection())
    expected = sorted(
        (tuple(v.astimezone(UTC) if isinstance(v, datetime) else v for v in row) for row in rows),
        key=lambda row: row[0],
    )
    assert read[copied.name] == expected
    assert read[inserted.name] == expected


# information_schema's udt_name of a column -> the binary form COPY must send it in
_UDT_BINARY = {
    "int8": "int8",
    "int4": "int4",
    "int2": "int2",
    "varchar": "text",
    "text": "text",
    "bool": "bool",
    "float8": "float8",
    "timestamptz": "timestamptz",
    "date": "date",
    "jsonb": "jsonb",
}


def test_the_binary_copy_form_of_each_column_is_its_migrated_columns_type(database: Database) -> None:
    """Binary COPY does not convert (an int8 sent to an int4 column is refused): the form fastsql picks from
    the models must be the type the migrations gave each column, in every table."""
    if database.dialect == "sqlite":
        pytest.skip("SQLite has no COPY")
    tables = [table for table in Base.metadata.sorted_tables if table.name != "alembic_version"]
    with session_scope(database.reader) as db:
        rows = FastSQL(db).fetch(
            "SELECT table_name, column_name, udt_name FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
        )
    migrated = {(row[0], row[1]): _UDT_BINARY.get(row[2], row[2]) for row in rows}
    picked = {
        (table.name, column.name): kind
        for table in tables
        for column, kind in zip(table.columns, _binary_types(tuple(table.columns)) or [], strict=True)
    }
    assert len(picked) > 100
    assert picked == {key: migrated.get(key) for key in picked}
