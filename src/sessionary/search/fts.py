"""The two full-text indexes behind one small interface: SQLite FTS5 and PostgreSQL tsvector/GIN.

Each gives the organization's matching turns with a score (higher is better), a way to pick each
session's best turn while grouping, and the marked-up text of a turn around its match.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    Subquery,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR, aggregate_order_by
from sqlalchemy.orm import Session as DBSession

from sessionary.ingest.models import Event
from sessionary.search import models
from sessionary.search.query import SearchQuery, Term

SNIPPET_WORDS = 32


class Index(Protocol):
    def matches(self, query: SearchQuery, organization_id: int) -> Select[Any]:
        """The organization's matching turns: columns event_id, session_id, score (higher is better)."""

    def aggregates(self, matches: Subquery) -> list[ColumnElement[Any]]:
        """Per-session aggregate columns over `matches`: score, match_count, best_event_id."""

    def marked(
        self, db: DBSession, query: SearchQuery, event_ids: Sequence[int], free: Sequence[str]
    ) -> dict[int, str]:
        """Each turn's text around its match, the matching words between free[0] and free[1].

        `free` holds four characters that occur in none of the turns' texts."""


class SQLiteIndex:
    """FTS5: bm25 ranks the turns; rowid is event.id."""

    # `rank` is FTS5's bm25() as a column: the function itself cannot be used inside an aggregate.
    _fts = table(models.FTS_TABLE, column("rowid", Integer), column("rank", Float))
    _name: ColumnElement[Any] = literal_column(models.FTS_TABLE)

    def _match(self, query: SearchQuery) -> ColumnElement[bool]:
        return self._name.match(bindparam("fts_query", query.fts5()))

    def matches(self, query: SearchQuery, organization_id: int) -> Select[Any]:
        score = -self._fts.c.rank  # bm25 is lower-is-better
        return (
            select(Event.id.label("event_id"), Event.session_id, score.label("score"))
            .select_from(self._fts)
            .join(Event, Event.id == self._fts.c.rowid)
            .where(self._match(query), Event.organization_id == organization_id)
        )

    def aggregates(self, matches: Subquery) -> list[ColumnElement[Any]]:
        # With exactly one max() in an aggregate query, SQLite takes a bare column from the row that has
        # the maximum: the best turn comes for free from the grouping pass.
        return [
            func.sum(matches.c.score).label("score"),
            func.count().label("match_count"),
            func.max(matches.c.score).label("best_score"),
            matches.c.event_id.label("best_event_id"),
        ]

    def marked(
        self, db: DBSession, query: SearchQuery, event_ids: Sequence[int], free: Sequence[str]
    ) -> dict[int, str]:
        # One look-up per turn, as a rowid *range*: FTS5 plans `rowid = ?` with MATCH as a scan of the
        # whole match (ms for a common word), a one-row range as a seek (µs).
        snippet = func.snippet(self._name, 0, free[0], free[1], "…", SNIPPET_WORDS)
        stmt = (
            select(snippet)
            .select_from(self._fts)
            .where(
                self._match(query),
                self._fts.c.rowid >= bindparam("id"),
                self._fts.c.rowid <= bindparam("id"),
            )
        )
        found: dict[int, str] = {}
        for event_id in event_ids:
            text = db.scalar(stmt, {"id": event_id})
            if text is not None:
                found[event_id] = text
        return found


class PostgresIndex:
    """A stored tsvector column (NULL except on transcripts) with a GIN index; ts_rank ranks the turns."""

    _vector = literal_column(f"event.{models.VECTOR_COLUMN}", type_=TSVECTOR)
    _config: ColumnElement[Any] = literal_column(f"'{models.TS_CONFIG}'::regconfig")

    def _tsquery(self, query: SearchQuery) -> ColumnElement[Any]:
        parts = [self._term(index, term) for index, term in enumerate(query.terms)]
        return reduce(lambda left, right: left.op("&&", return_type=TSQUERY)(right), parts)

    def _term(self, index: int, term: Term) -> ColumnElement[Any]:
        if term.prefix:  # a single word of letters and digits (see query.parse): safe inside quotes
            return func.to_tsquery(self._config, bindparam(f"t{index}", f"'{term.text}':*"), type_=TSQUERY)
        # The text goes through the same parser as the indexed turns; punctuation cannot form syntax.
        return func.phraseto_tsquery(self._config, bindparam(f"t{index}", term.text), type_=TSQUERY)

    def matches(self, query: SearchQuery, organization_id: int) -> Select[Any]:
        tsquery = self._tsquery(query)
        return select(
            Event.id.label("event_id"),
            Event.session_id,
            func.ts_rank(self._vector, tsquery, type_=Float).label("score"),
        ).where(
            Event.type == "transcript",
            Event.organization_id == organization_id,
            self._vector.op("@@")(tsquery),
        )

    def aggregates(self, matches: Subquery) -> list[ColumnElement[Any]]:
        best = func.array_agg(aggregate_order_by(matches.c.event_id, matches.c.score.desc()))
        return [
            func.sum(matches.c.score).label("score"),
            func.count().label("match_count"),
            func.max(matches.c.score).label("best_score"),
            best[1].label("best_event_id"),
        ]

    def marked(
        self, db: DBSession, query: SearchQuery, event_ids: Sequence[int], free: Sequence[str]
    ) -> dict[int, str]:
        # ts_headline drops what its parser takes for markup tags (`<b>`), so `<` and `>` go in as two
        # stand-ins and come back afterwards: the snippet keeps the text as it was said.
        options = (
            f'StartSel="{free[0]}", StopSel="{free[1]}", MaxWords={SNIPPET_WORDS}, MinWords=12, ShortWord=0'
        )
        text = func.replace(func.replace(Event.data["text"].as_string(), "<", free[2]), ">", free[3])
        headline = func.ts_headline(self._config, text, self._tsquery(query), options)
        stmt = select(Event.id, headline).where(Event.id.in_(event_ids))
        back = str.maketrans({free[2]: "<", free[3]: ">"})
        return {event_id: marked.translate(back) for event_id, marked in db.execute(stmt)}


def index_for(db: DBSession) -> Index:
    """The index of the database `db` is bound to."""
    return SQLiteIndex() if db.get_bind().dialect.name == "sqlite" else PostgresIndex()
