"""The newest `max_turns` matching turns are the ones scored, wherever they lie among the stored events.

PostgreSQL walks them in id ranges (search/fts.py, `PostgresIndex.reach`): the newest ids first, guessed
from a sample of the newest events, then further back only if those held too few matches. These tests put
the matches where the guess falls short, so every range is walked, and check the answer is the one walk's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import select

from sessionary import migrate
from sessionary.db import Database, open_database, session_scope
from sessionary.eventlog.models import Event
from sessionary.eventlog.schemas import EventIn
from sessionary.ingest import service as ingest
from sessionary.listing import ListParams
from sessionary.search import service as search
from sessionary.search.fts import index_for
from sessionary.search.query import parse
from sessionary.search.reach import Reach, reach_of
from sessionary.tenancy import service as tenancy
from tests.conftest import empty_database
from tests.helpers import event

EVENTS = TypeAdapter(list[EventIn])
LATER_TURNS = 200
KIWI = '"kiwi fruit"'  # a phrase: one word alone is left to the planner, which knows how common it is


@pytest.fixture(params=["sqlite", "postgresql"])
def stored(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[Database, int]]:
    """A database of its own (so that the newest events are these): six sessions of two turns saying KIWI
    (k0 to k5, days 10 to 15), then a session of LATER_TURNS turns without the word."""
    with empty_database(request.param, tmp_path) as url:
        migrate.upgrade(url)
        database = open_database(url, pool_size=1)
        try:
            with session_scope(database.writer) as db:
                org = tenancy.get_or_create_organization(db, name="window").id
            _ingest(database, org, [turn for n in range(6) for turn in _kiwis(n)])
            later = [
                event(f"later-{n}", sid="later", timestamp="2024-06-20T10:00:00Z", data=_said("apple pie"))
                for n in range(LATER_TURNS)
            ]
            _ingest(database, org, later)
            yield database, org
        finally:
            database.dispose()


def _said(text: str) -> dict[str, str]:
    return {"source": "user", "text": text}


def _kiwis(n: int) -> list[dict[str, Any]]:
    stamp = f"2024-06-{10 + n}T10:00:0{{}}Z"
    return [
        event(f"k{n}-a", sid=f"k{n}", timestamp=stamp.format(1), data=_said("a kiwi fruit")),
        event(f"k{n}-b", sid=f"k{n}", timestamp=stamp.format(2), data=_said("kiwi fruit, kiwi fruit")),
    ]


def _ingest(database: Database, org: int, events: list[dict[str, Any]]) -> None:
    with session_scope(database.writer) as db:
        ingest.ingest_events(db, organization_id=org, events=EVENTS.validate_python(events))


def _search(database: Database, org: int, max_turns: int, **window: Any) -> search.SearchResult:
    params = ListParams(0, 25, [], [], None, None, [], window.get("start"), window.get("end"))
    with session_scope(database.reader) as db:
        return search.search(
            db, organization_id=org, query=parse(KIWI), params=params, max_turns=max_turns, timeout=60
        )


def _hits(result: search.SearchResult) -> list[tuple[int, int]]:
    """(day of the session, its matching turns), best first."""
    return [(hit.timestamp.day, hit.match_count) for hit in result.page.items]


def _reach(database: Database, org: int, max_turns: int, q: str = KIWI) -> dict[str, int] | None:
    with session_scope(database.reader) as db:
        found = index_for(db).reach(db, parse(q), org, max_turns)
        return found.values() if found else None


def test_the_newest_matches_are_scored_when_they_lie_behind_many_newer_events(
    stored: tuple[Database, int],
) -> None:
    database, org = stored
    one = _search(database, org, max_turns=1)  # PostgreSQL: found in the third range only
    assert (one.exact, one.page.total_count, _hits(one)) == (False, 1, [(15, 1)])
    three = _search(database, org, max_turns=3)  # PostgreSQL: in the second range
    assert (three.exact, three.page.total_count, _hits(three)) == (False, 2, [(15, 2), (14, 1)])
    twelve = _search(database, org, max_turns=12)  # every match: reached, so maybe more
    assert (twelve.exact, twelve.page.total_count) == (False, 6)
    every = _search(database, org, max_turns=13)
    assert (every.exact, every.page.total_count) == (True, 6)
    assert sorted(_hits(every)) == [(day, 2) for day in range(10, 16)]


def test_a_time_window_is_applied_in_every_range(stored: tuple[Database, int]) -> None:
    database, org = stored
    window = {"start": datetime(2024, 6, 11, tzinfo=UTC), "end": datetime(2024, 6, 13, tzinfo=UTC)}
    capped = _search(database, org, max_turns=3, **window)
    assert (capped.exact, capped.page.total_count, _hits(capped)) == (False, 2, [(12, 2), (11, 1)])
    whole = _search(database, org, max_turns=5, **window)
    assert (whole.exact, whole.page.total_count, sorted(_hits(whole))) == (True, 2, [(11, 2), (12, 2)])


def test_postgres_starts_with_the_newest_ids_only_when_the_matches_are_dense(
    stored: tuple[Database, int],
) -> None:
    """The guess the tests above rely on: with 12 matches among the newest ~220 events, a window of 1 or 3
    turns starts near the newest ids (and the matches lie further back); all 12 are one walk, and so is one
    word. SQLite's index walks its matches newest first by itself and never splits."""
    database, org = stored
    ranges = {max_turns: _reach(database, org, max_turns) for max_turns in (1, 3, 12)}
    assert _reach(database, org, 1, q="kiwi") is None
    if database.dialect == "sqlite":
        assert ranges == {1: None, 3: None, 12: None}
        return
    with session_scope(database.reader) as db:
        kiwis = db.scalars(select(Event.id).where(Event.event_id.like("k%"))).all()
    one, three = ranges[1], ranges[3]
    assert one is not None
    assert max(kiwis) < one["mid"]  # the third range
    assert three is not None
    assert three["mid"] <= min(kiwis)
    assert max(kiwis) < three["near"]  # the second
    assert ranges[12] is None


def test_the_sample_picks_a_walk_for_dense_words_and_the_bitmap_for_rarer_ones() -> None:
    # 4,000 sampled ids of 2,000,000; the window 5,000 matching turns.
    dense = reach_of(2_000_000, 1_996_001, 200, 5_000)  # 1 id in 20 matches: 100,000 ids back
    assert dense == Reach("walk", 2_000_000 - 125_000, 2_000_000 - 500_000)
    rarer = reach_of(2_000_000, 1_996_001, 80, 5_000)  # 1 in 50: a walk would read 250,000 rows
    assert rarer is not None
    assert rarer.plan == "bitmap"
    assert reach_of(2_000_000, 1_996_001, 8, 5_000) is None  # the window reaches back over half the ids
    assert reach_of(2_000_000, 1_996_001, 0, 5_000) is None  # nothing in the sample: one walk
    assert reach_of(None, None, 0, 5_000) is None  # no events at all
