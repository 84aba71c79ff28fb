"""The search index: built for old turns by the migration, kept by the database, never broken by input."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from sqlalchemy import delete, insert, inspect, select, text

from sessionary import migrate
from sessionary.db import Database, open_database, session_scope
from sessionary.eventlog.batch import StoredBatch, StoredEvent
from sessionary.eventlog.models import Event
from sessionary.eventlog.schemas import EventIn
from sessionary.ingest import service as ingest
from sessionary.listing import ListParams
from sessionary.search import indexing, models
from sessionary.search import service as search
from sessionary.search.query import QueryError, parse
from sessionary.sessions.models import Session
from sessionary.tenancy import service as tenancy
from tests.conftest import empty_database
from tests.helpers import event

EVENTS = TypeAdapter(list[EventIn])
PARAMS = ListParams(0, 25, [], [], None, None, [], None, None)


def _ingest(database: Database, organization_id: int, events: list[dict]) -> None:
    with session_scope(database.writer) as db:
        ingest.ingest_events(db, organization_id=organization_id, events=EVENTS.validate_python(events))


def _count(database: Database, organization_id: int, q: str) -> int:
    with session_scope(database.reader) as db:
        return search.search(
            db, organization_id=organization_id, query=parse(q), params=PARAMS, max_turns=10_000, timeout=60
        ).page.total_count


def _new_org(database: Database) -> int:
    with session_scope(database.writer) as db:
        return tenancy.get_or_create_organization(db, name=f"org-{uuid.uuid4().hex[:10]}").id


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A database of each kind with no schema at all."""
    with empty_database(request.param, tmp_path) as url:
        yield url


def _store_without_the_ingest(database: Database, org: int, text_: str) -> None:
    """A session and a turn as a version before the search index stored them (today's ingest would
    index the turn itself)."""
    moment = datetime(2024, 6, 19, 10, tzinfo=UTC)
    with session_scope(database.writer) as db:
        # Core inserts naming only the columns of that schema (later migrations add more).
        inserted = db.execute(
            insert(Session.__table__).values(
                organization_id=org,
                channel_manager_service="hedy",
                channel_manager_sid="old",
                timestamp=moment,
                first_event_at=moment,
                last_event_at=moment,
                updated_at=moment,
            )
        )
        db.execute(
            insert(Event.__table__).values(
                organization_id=org,
                event_id="old",
                session_id=inserted.inserted_primary_key[0],
                type="transcript",
                timestamp=moment,
                data={"source": "user", "text": text_},
                received_at=moment,
            )
        )


def test_the_migration_indexes_turns_stored_before_it(empty_url: str) -> None:
    migrate.upgrade(empty_url, "0004-1")  # the schema just before the search index
    database = open_database(empty_url, pool_size=1)
    try:
        org = _new_org(database)
        _store_without_the_ingest(database, org, "An old turn about gazebos.")
        migrate.upgrade(empty_url)
        migrate.check(empty_url)
        assert _count(database, org, "gazebos") == 1
        _ingest(database, org, [event("new", sid="n", data={"source": "user", "text": "New gazebos."})])
        assert _count(database, org, "gazebos") == 2
    finally:
        database.dispose()


def test_the_index_objects_exist_at_head(database: Database) -> None:
    """A later batch migration of `event` on SQLite would drop its triggers: this catches it."""
    with database.engine.connect() as conn:
        if database.dialect == "sqlite":
            names = set(
                conn.scalars(
                    text("SELECT name FROM sqlite_master WHERE tbl_name IN ('event', :fts, :view)"),
                    {"fts": models.FTS_TABLE, "view": models.TEXT_VIEW},
                )
            )
            assert {*models.TRIGGERS, models.FTS_TABLE, models.TEXT_VIEW} <= names
        else:
            columns = {c["name"] for c in inspect(conn).get_columns("event")}
            indexes = {i["name"] for i in inspect(conn).get_indexes("event")}
            assert models.VECTOR_COLUMN in columns
            assert models.VECTOR_INDEX in indexes


def _indexed(database: Database, word: str) -> int:
    """Turns the index itself holds for `word` (SQLite: FTS5 rows, whether or not the event still exists)."""
    with database.engine.connect() as conn:
        if database.dialect == "sqlite":
            sql = f"SELECT count(*) FROM {models.FTS_TABLE} WHERE {models.FTS_TABLE} MATCH :w"
        else:
            sql = f"SELECT count(*) FROM event WHERE {models.VECTOR_COLUMN} @@ plainto_tsquery('simple', :w)"
        return int(conn.scalar(text(sql), {"w": word}) or 0)


def test_deleting_a_session_takes_its_turns_out_of_the_index(database: Database) -> None:
    org = _new_org(database)
    word = f"w{uuid.uuid4().hex[:8]}"
    _ingest(
        database, org, [event("d1", sid="gone", data={"source": "user", "text": f"say {word} twice {word}"})]
    )
    _ingest(database, org, [event("d2", sid="kept", data={"source": "user", "text": f"and {word} once"})])
    assert _indexed(database, word) == 2
    with session_scope(database.writer) as db:
        db.execute(
            delete(Session).where(Session.organization_id == org, Session.channel_manager_sid == "gone")
        )
    assert _indexed(database, word) == 1
    assert _count(database, org, word) == 1


def test_turns_whose_row_id_the_ingest_could_not_prove_are_indexed_by_event_id(database: Database) -> None:
    """The ingest's conflict path hands turns without row ids: the index looks them up by event_id."""
    org = _new_org(database)
    word = f"w{uuid.uuid4().hex[:8]}"
    _ingest(database, org, [event("start", "session.started", sid="s")])
    (turn,) = EVENTS.validate_python([event("t", sid="s", data={"source": "user", "text": f"about {word}"})])
    with session_scope(database.writer) as db:
        session_id = db.scalar(select(Session.id).where(Session.organization_id == org))
        db.execute(  # stored as the ingest would, but not indexed (SQLite: only the derivation indexes)
            insert(Event.__table__).values(
                organization_id=org,
                event_id="t",
                session_id=session_id,
                type="transcript",
                timestamp=turn.timestamp,
                data=turn.data.model_dump(),
                received_at=turn.timestamp,
            )
        )
    assert _indexed(database, word) == (0 if database.dialect == "sqlite" else 1)
    with session_scope(database.writer) as db:
        indexing.derive_from_ingest(db, StoredBatch(org, (StoredEvent(turn, None),), ()))
    assert _indexed(database, word) == 1
    assert _count(database, org, word) == 1


@pytest.fixture(scope="module")
def fuzz_target(database: Database) -> int:
    org = _new_org(database)
    texts = ["Refund at the café near me", 'NEAR(a b) "quoted" * - ( ) : ^', "日本語 🙂 Привет", "x" * 300]
    _ingest(
        database,
        org,
        [event(f"f{n}", sid=f"f{n}", data={"source": "user", "text": t}) for n, t in enumerate(texts)],
    )
    return org


SPECIALS = st.sampled_from(
    ['"', "*", "-", "+", "(", ")", ":", "^", "{", "}", "NEAR", "AND", "OR", "NOT", "'", "\\", " "]
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(q=st.lists(st.one_of(SPECIALS, st.text(max_size=8)), max_size=12).map("".join))
def test_any_text_is_a_valid_query_or_a_query_error(database: Database, fuzz_target: int, q: str) -> None:
    try:
        query = parse(q)
    except QueryError:
        return
    with session_scope(database.reader) as db:
        page = search.search(
            db, organization_id=fuzz_target, query=query, params=PARAMS, max_turns=3, timeout=60
        ).page
    assert page.total_count >= len(page.items)


def _result(database: Database, org: int, q: str, max_turns: int, **window: Any) -> search.SearchResult:
    params = ListParams(0, 25, [], [], None, None, [], window.get("start"), window.get("end"))
    with session_scope(database.reader) as db:
        return search.search(
            db, organization_id=org, query=parse(q), params=params, max_turns=max_turns, timeout=60
        )


def test_at_max_turns_the_newest_matching_turns_are_scored_and_the_count_says_so(
    database: Database,
) -> None:
    org = _new_org(database)
    for n in range(5):  # stored one session after another: s4's turns are the newest
        stamp = f"2024-06-{10 + n}T10:00:0{{}}Z"
        _ingest(
            database,
            org,
            [
                event(f"s{n}-start", "session.started", sid=f"s{n}", timestamp=stamp.format(0)),
                event(
                    f"s{n}-a", sid=f"s{n}", timestamp=stamp.format(1), data={"source": "user", "text": "kiwi"}
                ),
                event(
                    f"s{n}-b",
                    sid=f"s{n}",
                    timestamp=stamp.format(2),
                    data={"source": "user", "text": "kiwi!"},
                ),
            ],
        )
    everything = _result(database, org, "kiwi", max_turns=11)
    assert (everything.exact, everything.page.total_count) == (True, 5)
    assert _result(database, org, "kiwi", max_turns=10).exact is False  # reached: there may be more
    capped = _result(database, org, "kiwi", max_turns=4)
    assert (capped.exact, capped.page.total_count) == (False, 2)
    assert [hit.timestamp.day for hit in capped.page.items] == [14, 13]
    # A time window is applied while walking the matches: an older range is complete again.
    older = _result(
        database,
        org,
        "kiwi",
        max_turns=5,
        start=datetime(2024, 6, 10, tzinfo=UTC),
        end=datetime(2024, 6, 12, tzinfo=UTC),
    )
    assert (older.exact, older.page.total_count) == (True, 2)
    assert sorted(hit.timestamp.day for hit in older.page.items) == [10, 11]
