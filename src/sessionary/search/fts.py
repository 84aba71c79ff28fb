"""The two full-text indexes behind one small interface: SQLite FTS5 and PostgreSQL tsvector/GIN.

Each gives the organization's matching turns with a score (higher is better), a way to pick each
session's best turn while grouping, and the text of a piece of a turn around its match with the matches
marked (the pieces are bounded, see service.SNIPPET_PIECE: highlighting costs more than linear time).
Statements are built once per shape of query (see `shape`) and take the query's words as bound values.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Hashable, Mapping, Sequence
from contextlib import closing
from functools import cache, partial, reduce
from typing import Any, Protocol, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    CompoundSelect,
    Float,
    Integer,
    Select,
    Subquery,
    Text,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY, TSVECTOR, aggregate_order_by
from sqlalchemy.orm import Session as DBSession

from sessionary.eventlog.models import Event
from sessionary.search import models
from sessionary.search.query import TOKEN, SearchQuery
from sessionary.search.reach import REACH_SAMPLE, WINDOW, Plan, Reach, ranges, reach_of

SNIPPET_WORDS = 32
ORGANIZATION = bindparam("organization_id", type_=Integer)
# What `Index.newest` may add to the walk (the service's time window on the session's timestamp).
Narrow = Callable[[Select[Any]], Select[Any]]
# A condition on a turn's tsvector: whether it matches the query.
Matching = Callable[[ColumnElement[Any]], ColumnElement[bool]]


class Index(Protocol):
    def shape(self, query: SearchQuery) -> Hashable:
        """What the form of the statements depends on (the values are bound separately)."""

    def parameters(self, query: SearchQuery) -> dict[str, Any]:
        """The bound values of the query's words."""

    def matches(self, shape: Any) -> Select[Any]:
        """The organization's matching turns: event_id, session_id, score (higher is better)."""

    def newest_first(self) -> ColumnElement[Any]:
        """The order to walk the matches in: the most recently stored turn first."""

    def reach(self, db: DBSession, query: SearchQuery, organization_id: int, window: int) -> Reach | None:
        """How `newest` should look for the newest `window` matches (see search/reach.py), or None: in one
        walk."""

    def newest(self, shape: Any, narrow: Narrow, plan: Plan | None) -> Subquery:
        """The newest `window` matching turns after `narrow`, as `m`: event_id, session_id, score."""

    def aggregates(self, matches: Subquery) -> list[ColumnElement[Any]]:
        """Per-session aggregates over `matches`: score, match_count, best_event_id (its best turn)."""

    def marked(
        self, db: DBSession, query: SearchQuery, pieces: Mapping[int, str], free: Sequence[str]
    ) -> dict[int, str]:
        """Each piece's text around its match (by turn id), the matching words between free[0] and free[1]
        (a piece that does not match is left out); `free` holds four characters found in no piece."""


class SQLiteIndex:
    """FTS5: bm25 ranks the turns; the FTS rowid is event.id."""

    # `rank` is FTS5's bm25() as a column: the function itself cannot be used inside an aggregate.
    _fts = table(models.FTS_TABLE, column("rowid", Integer), column("rank", Float))
    _name: ColumnElement[Any] = literal_column(models.FTS_TABLE)

    def shape(self, query: SearchQuery) -> Hashable:
        return None

    def parameters(self, query: SearchQuery) -> dict[str, Any]:
        return {"fts_query": query.fts5()}

    def matches(self, shape: Any) -> Select[Any]:
        return (
            select(Event.id.label("event_id"), Event.session_id, (-self._fts.c.rank).label("score"))
            .select_from(self._fts)
            .join(Event, Event.id == self._fts.c.rowid)
            .where(self._name.match(bindparam("fts_query")), Event.organization_id == ORGANIZATION)
        )

    def newest_first(self) -> ColumnElement[Any]:
        return self._fts.c.rowid.desc()  # FTS5 walks its doclists backwards: no sort, stops at the LIMIT

    def reach(self, db: DBSession, query: SearchQuery, organization_id: int, window: int) -> Reach | None:
        return None  # the walk above already stops at the window

    def newest(self, shape: Any, narrow: Narrow, plan: Plan | None) -> Subquery:
        return narrow(self.matches(shape)).order_by(self.newest_first()).limit(WINDOW).subquery("m")

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
        self, db: DBSession, query: SearchQuery, pieces: Mapping[int, str], free: Sequence[str]
    ) -> dict[int, str]:
        # FTS5's snippet() costs the square of the query's matches in the text it is given, and the
        # index's copy of a turn is the whole turn: the pieces get an index of their own, in memory.
        with closing(sqlite3.connect(":memory:")) as memory:
            memory.execute(f"CREATE VIRTUAL TABLE piece USING fts5(text, tokenize='{models.TOKENIZER}')")
            memory.executemany("INSERT INTO piece(rowid, text) VALUES (?, ?)", pieces.items())
            rows = memory.execute(_SNIPPETS, (free[0], free[1], query.fts5())).fetchall()
        return {int(event_id): snippet for event_id, snippet in rows}


_SNIPPETS = f"SELECT rowid, snippet(piece, 0, ?, ?, '…', {SNIPPET_WORDS}) FROM piece WHERE piece MATCH ?"


class PostgresIndex:
    """A stored tsvector column (NULL except on transcripts) with a GIN index; ts_rank ranks the turns."""

    _vector = literal_column(f"event.{models.VECTOR_COLUMN}", type_=TSVECTOR)
    _config: ColumnElement[Any] = literal_column(f"'{models.TS_CONFIG}'::regconfig")

    def shape(self, query: SearchQuery) -> Hashable:
        return tuple(term.prefix for term in query.terms)

    def parameters(self, query: SearchQuery) -> dict[str, Any]:
        # A prefix term is one word of letters and digits (see query.parse): safe inside the quotes.
        return {
            f"t{n}": f"'{term.text}':*" if term.prefix else term.text for n, term in enumerate(query.terms)
        }

    def _tsquery(self, shape: tuple[bool, ...]) -> ColumnElement[Any]:
        parts = [
            # The words go through the same parser as the indexed turns; punctuation forms no syntax.
            func.to_tsquery(self._config, bindparam(f"t{n}"), type_=TSQUERY)
            if prefix
            else func.phraseto_tsquery(self._config, bindparam(f"t{n}"), type_=TSQUERY)
            for n, prefix in enumerate(shape)
        ]
        return reduce(lambda left, right: left.op("&&", return_type=TSQUERY)(right), parts)

    def matches(self, shape: Any) -> Select[Any]:
        tsquery = self._tsquery(shape)
        score = func.ts_rank(self._vector, tsquery, type_=Float)
        return select(Event.id.label("event_id"), Event.session_id, score.label("score")).where(
            Event.type == "transcript",
            Event.organization_id == ORGANIZATION,
            self._vector.op("@@")(tsquery),
        )

    def newest_first(self) -> ColumnElement[Any]:
        return Event.id.desc()

    def reach(self, db: DBSession, query: SearchQuery, organization_id: int, window: int) -> Reach | None:
        connection = db.connection()
        connection.execute(_CUSTOM_PLANS)
        if _one_word(query):
            return None  # its statistics tell the planner how common it is: it walks the key when it is
        values = {**self.parameters(query), "organization_id": organization_id, "sample": REACH_SAMPLE}
        newest, oldest, found = connection.execute(self._sample(self.shape(query)), values).one()
        return reach_of(newest, oldest, found, window)

    @cache  # noqa: B019  (one instance, a handful of shapes)
    def _sample(self, shape: Any) -> Select[Any]:
        """The newest and oldest id among the newest `sample` events, and how many of them match."""
        recent = (
            select(Event.id, Event.organization_id, Event.type, self._vector.label("vector"))
            .order_by(Event.id.desc())
            .limit(bindparam("sample", type_=Integer))
            .subquery("recent")
        )
        matching = and_(
            recent.c.organization_id == ORGANIZATION,
            recent.c.type == "transcript",
            _matching(self._tsquery(shape))(recent.c.vector),
        )
        counted = select(func.max(recent.c.id), func.min(recent.c.id), func.count().filter(matching))
        return cast(Select[Any], counted)

    def newest(self, shape: Any, narrow: Narrow, plan: Plan | None) -> Subquery:
        tsquery = self._tsquery(shape)
        rows: Select[Any] | CompoundSelect[Any]
        if plan is None:
            rows = self._walk(tsquery, _matching(tsquery), narrow, None, None, WINDOW)
        else:
            # The planner estimates two words' matches as if the words were unrelated (`lab results`: 3,600
            # turns for 85,000) and would then read them all rather than AND the index's bitmap with an id
            # range. As a subquery's value, the tsquery gets the default estimate, and the AND is chosen;
            # `IS TRUE` makes a test no index answers: the walk along the primary key.
            hidden = _matching(select(tsquery).scalar_subquery())
            walked: Matching = lambda vector: hidden(vector).is_(True)  # noqa: E731
            first = partial(self._walk, tsquery, walked if plan == "walk" else hidden, narrow)
            rows = ranges(first, partial(self._walk, tsquery, hidden, narrow))
        return rows.subquery("m")

    def _walk(
        self,
        tsquery: ColumnElement[Any],
        matching: Matching,
        narrow: Narrow,
        since: Any,
        before: Any,
        limit: Any,
    ) -> Select[Any]:
        """The newest `limit` turns `matching` with since <= id < before (None: no bound), scored."""
        score = func.ts_rank(self._vector, tsquery, type_=Float)
        turns = select(Event.id.label("event_id"), Event.session_id, score.label("score"))
        rows = narrow(
            cast(Select[Any], turns).where(
                Event.type == "transcript", Event.organization_id == ORGANIZATION, matching(self._vector)
            )
        )
        rows = rows.where(Event.id >= since) if since is not None else rows
        rows = rows.where(Event.id < before) if before is not None else rows
        return rows.order_by(Event.id.desc()).limit(limit)

    def aggregates(self, matches: Subquery) -> list[ColumnElement[Any]]:
        order = (matches.c.score.desc(), matches.c.event_id.desc())  # ties: the newest turn, as on SQLite
        best = func.array_agg(aggregate_order_by(matches.c.event_id, *order))
        return [
            func.sum(matches.c.score).label("score"),
            func.count().label("match_count"),
            func.max(matches.c.score).label("best_score"),
            best[1].label("best_event_id"),
        ]

    def marked(
        self, db: DBSession, query: SearchQuery, pieces: Mapping[int, str], free: Sequence[str]
    ) -> dict[int, str]:
        options = (
            f'StartSel="{free[0]}", StopSel="{free[1]}", MaxWords={SNIPPET_WORDS}, MinWords=12, ShortWord=0'
        )
        values = {
            **self.parameters(query),
            "ids": list(pieces),
            "texts": list(pieces.values()),
            "options": options,
            "lt": free[2],
            "gt": free[3],
        }
        rows = db.connection().execute(self._headlines(self.shape(query)), values)
        back = str.maketrans({free[2]: "<", free[3]: ">"})
        return {event_id: marked.translate(back) for event_id, marked in rows if free[0] in marked}

    @cache  # noqa: B019  (one instance, a handful of shapes)
    def _headlines(self, shape: Any) -> Select[Any]:
        # ts_headline drops what its parser takes for markup tags (`<b>`), so `<` and `>` go in as two
        # stand-ins and come back afterwards: the snippet keeps the text as it was said.
        piece = (
            func.unnest(bindparam("ids", type_=ARRAY(BigInteger)), bindparam("texts", type_=ARRAY(Text)))
            .table_valued("id", "said")
            .render_derived(name="piece")
        )
        stand_ins = func.replace(func.replace(piece.c.said, "<", bindparam("lt")), ">", bindparam("gt"))
        headline = func.ts_headline(self._config, stand_ins, self._tsquery(shape), bindparam("options"))
        return select(piece.c.id, headline)


def _one_word(query: SearchQuery) -> bool:
    (first, *more) = query.terms
    return not more and not first.phrase and len(TOKEN.findall(first.text)) == 1


def _matching(tsquery: ColumnElement[Any]) -> Matching:
    return lambda vector: vector.op("@@", return_type=Boolean)(tsquery)


# Every statement of a search is planned with its values (a prepared statement's generic plan cannot tell
# a narrow id range from a wide one, nor a rare word from a common one).
_CUSTOM_PLANS = text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")

INDEXES: dict[str, Index] = {"sqlite": SQLiteIndex(), "postgresql": PostgresIndex()}


def index_for(db: DBSession) -> Index:
    """The index of the database `db` is bound to."""
    return INDEXES[db.get_bind().dialect.name]
