"""Full-text search over transcripts: the organization's sessions whose turns match, best first.

A hit is a session (total_count counts sessions), scored by the sum of its matching turns' scores, so a
session that mentions the words more often, or more exactly, ranks higher; ties go to the newer session id.
Each hit carries its best matching turn with an HTML-safe snippet.
"""

from __future__ import annotations

import html
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, islice
from typing import Any, cast

from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, select, tuple_
from sqlalchemy.orm import Session as DBSession
from sqlalchemy.orm import aliased

from sessionary.db import time_budget
from sessionary.db_types import UTCDateTime
from sessionary.eventlog.models import Event
from sessionary.eventlog.schemas import TURN_MAX_CHARS
from sessionary.listing import ListParams, Page
from sessionary.search import query as search_query
from sessionary.search.fts import INDEXES, SNIPPET_WORDS, Index, index_for
from sessionary.search.query import TOKEN, SearchQuery
from sessionary.search.reach import Plan
from sessionary.search.schemas import SearchHit, SearchMatch
from sessionary.sessions.models import Session

# A snippet is taken from at most SNIPPET_PIECE characters of its turn (highlighting costs the square of the
# query's matches in the text it is given), found among the turn's first TEXT_SCAN characters (the ingest's
# limit on a turn: only turns stored before it can be longer).
SNIPPET_PIECE = 2_000
TEXT_SCAN = TURN_MAX_CHARS
# Snippet marks (and stand-ins): private-use characters that occur in none of the page's texts.
# (Ranges walked on demand: as one tuple of their 137,000 code points they held 5 MB in every process.)
_PRIVATE_USE = (range(0xE000, 0xF900), range(0xF0000, 0xFFFFE), range(0x100000, 0x10FFFE))


_TOO_LONG = "The search took too long: narrow it with more words or a time window"


@dataclass(frozen=True)
class _Ranked:
    session_id: int
    score: float
    match_count: int
    best_event_id: int


@dataclass(frozen=True)
class SearchResult:
    page: Page[SearchHit]
    # False when the query reached `max_turns` matching turns: hits and total_count then come from the
    # most recently stored `max_turns` matching turns, and there may be more.
    exact: bool


def search(
    db: DBSession,
    *,
    organization_id: int,
    query: SearchQuery,
    params: ListParams,
    max_turns: int,
    timeout: float,
) -> SearchResult:
    """One page of the organization's sessions whose transcripts match `query`, best first; Unavailable
    when its statements take more than `timeout` seconds."""
    index = index_for(db)
    with time_budget(db, timeout, message=_TOO_LONG):
        ranked, total, exact = _ranked_page(db, index, query, organization_id, params, max_turns)
        page_ids = [r.session_id for r in ranked]
        sessions = {s.id: s for s in db.scalars(select(Session).where(Session.id.in_(page_ids)))}
        best = _best_matches(db, index, query, [r.best_event_id for r in ranked])
    hits = [_hit(sessions[r.session_id], r, best[r.best_event_id]) for r in ranked]
    return SearchResult(Page(items=hits, total_count=total), exact)


def _ranked_page(
    db: DBSession, index: Index, query: SearchQuery, organization_id: int, params: ListParams, max_turns: int
) -> tuple[list[_Ranked], int, bool]:
    """The page's sessions with their aggregates, how many sessions match, and whether that is exact."""
    start, end = params.start_datetime, params.end_datetime
    reach = index.reach(db, query, organization_id, max_turns)
    page_stmt, count_stmt = _statements(
        db.get_bind().dialect.name,
        index.shape(query),
        start is not None,
        end is not None,
        reach.plan if reach else None,
    )
    values = {
        **(reach.values() if reach else {}),
        **index.parameters(query),
        "organization_id": organization_id,
        "start": start,
        "end": end,
        "window": max_turns,
    }
    connection = db.connection()
    rows = []
    if params.limit:
        rows = list(connection.execute(page_stmt, {**values, "limit": params.limit, "offset": params.offset}))
    if rows:
        total, turns = int(rows[0].total), int(rows[0].turns)
    else:  # past the last page, or limit 0: count on its own
        counted = connection.execute(count_stmt, values).one()
        total, turns = int(counted.total), int(counted.turns or 0)
    ranked = [_Ranked(r.session_id, float(r.score), int(r.match_count), int(r.best_event_id)) for r in rows]
    return ranked, total, turns < max_turns  # exactly max_turns: there may have been more


@lru_cache(maxsize=128)
def _statements(
    dialect: str, shape: Hashable, start: bool, end: bool, plan: Plan | None
) -> tuple[Select[Any], Select[Any]]:
    """The page and count statements for one shape of query, with or without each time bound (and, on
    PostgreSQL, with or without the id ranges of `Index.reach`).

    The matching turns are walked newest first (highest event id) and at most `window` of them are
    scored and grouped: the cost of a query is bounded however common its words are.
    """
    index = INDEXES[dialect]

    def narrow(walk: Select[Any]) -> Select[Any]:
        # The session's timestamp, checked while walking so that the window is the range's.
        if start or end:
            walk = walk.join(Session, Session.id == Event.session_id)
        if start:
            walk = walk.where(Session.timestamp >= bindparam("start", type_=UTCDateTime()))
        if end:
            walk = walk.where(Session.timestamp < bindparam("end", type_=UTCDateTime()))
        return walk

    m = index.newest(shape, narrow, plan)
    g = select(m.c.session_id, *index.aggregates(m)).group_by(m.c.session_id).subquery("g")
    page = (
        select(
            g.c.session_id,
            g.c.score,
            g.c.match_count,
            g.c.best_event_id,
            func.count().over().label("total"),
            func.sum(g.c.match_count).over().label("turns"),
        )
        .order_by(g.c.score.desc(), g.c.session_id.desc())
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )
    count = select(func.count().label("total"), func.sum(g.c.match_count).label("turns"))
    return page, cast(Select[Any], count)


@dataclass(frozen=True)
class _Turn:
    timestamp: Any
    source: str | None
    text: str  # its first TEXT_SCAN characters
    turn_index: int


def _best_matches(
    db: DBSession, index: Index, query: SearchQuery, event_ids: list[int]
) -> dict[int, SearchMatch]:
    """Each turn's timestamp, source, position in its session and highlighted snippet."""
    if not event_ids:
        return {}
    turns = {
        event_id: _Turn(timestamp, source, text or "", int(turn_index))
        for event_id, timestamp, source, text, turn_index in db.connection().execute(
            _TURNS, {"ids": event_ids}
        )
    }
    words = _words(query)
    pieces = {event_id: _piece(turn.text, words) for event_id, turn in turns.items()}
    free = _free_characters(pieces.values())
    marked = index.marked(db, query, pieces, free) if free else {}
    marks = (free[0], free[1]) if free else ("", "")
    return {
        event_id: SearchMatch(
            timestamp=turn.timestamp,
            source=turn.source,
            turn_index=turn.turn_index,
            snippet=render_snippet(marked[event_id], marks)
            if event_id in marked
            else _plain(pieces[event_id]),
        )
        for event_id, turn in turns.items()
    }


def _turns_statement() -> Select[Any]:
    """Turns by event id, each with its position among its session's turns (time order, as the timeline);
    of its text only the first TEXT_SCAN characters leave the database."""
    earlier = aliased(Event)
    position = (
        select(func.count())
        .where(
            earlier.session_id == Event.session_id,
            earlier.type == "transcript",
            tuple_(earlier.timestamp, earlier.id) < tuple_(Event.timestamp, Event.id),
        )
        .scalar_subquery()
    )
    said = func.substr(Event.data["text"].as_string(), 1, TEXT_SCAN)
    return select(Event.id, Event.timestamp, Event.data["source"].as_string(), said, position).where(
        Event.id.in_(bindparam("ids", expanding=True))
    )


_TURNS = _turns_statement()


def _words(query: SearchQuery) -> re.Pattern[str]:
    """The start of any of the query's words, wherever a word starts (case ignored)."""
    tokens = sorted({token for term in query.terms for token in TOKEN.findall(term.text)}, key=len)
    return re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, reversed(tokens))) + ")", re.IGNORECASE)


def _piece(text: str, words: re.Pattern[str]) -> str:
    """At most SNIPPET_PIECE characters of `text` to highlight: all of it when it is that short, else the
    piece centred on the first word of the query found in it (its start when none is found as typed)."""
    if len(text) <= SNIPPET_PIECE:
        return text
    found = words.search(text)
    start = max(0, found.start() - SNIPPET_PIECE // 2) if found else 0
    if start:
        space = text.find(" ", start, start + 64)  # not from the middle of a word
        start = space + 1 if space != -1 else start
    return text[start : start + SNIPPET_PIECE]


def _plain(piece: str) -> str:
    """The snippet of a turn whose piece could not be marked: its first SNIPPET_WORDS words, escaped."""
    words = piece.split()
    cut = " ".join(words[:SNIPPET_WORDS]) + ("…" if len(words) > SNIPPET_WORDS else "")
    return html.escape(cut)


def _free_characters(texts: Iterable[str], count: int = 4) -> list[str] | None:
    """`count` private-use characters found in none of `texts`, to mark matches unambiguously; None when
    the texts hold nearly all 137,000 of them (then the snippet is the escaped text, unmarked)."""
    seen = set("".join(texts))
    codes = chain.from_iterable(_PRIVATE_USE)
    free = list(islice((chr(code) for code in codes if chr(code) not in seen), count))
    return free if len(free) == count else None


def render_snippet(marked: str, marks: tuple[str, str]) -> str:
    """HTML: the text escaped, each marked stretch in <mark>...</mark>."""
    pattern = f"({re.escape(marks[0])}|{re.escape(marks[1])})"
    parts = []
    for piece in re.split(pattern, marked):
        if piece == marks[0]:
            parts.append("<mark>")
        elif piece == marks[1]:
            parts.append("</mark>")
        else:
            parts.append(html.escape(piece))
    return "".join(parts)


def _hit(session: Session, ranked: _Ranked, best: SearchMatch) -> SearchHit:
    return SearchHit(
        session_id=str(session.id),
        timestamp=session.timestamp,
        conversation_id=session.conversation_id,
        agent_name=session.agent_name,
        channel_manager_type=session.channel_manager_type,
        session_type=session.session_type,
        duration=session.duration,
        score=ranked.score,
        match_count=ranked.match_count,
        best_match=best,
    )


def session_condition(
    db: DBSession, *, organization_id: int, text: str, max_turns: int
) -> ColumnElement[bool] | None:
    """A condition on `session` keeping the sessions whose transcript matches `text` (the search syntax),
    among the newest `max_turns` matching turns; None when `text` has no word (the console's list filter)."""
    try:
        query = search_query.parse(text)
    except search_query.QueryError:
        return None
    index = index_for(db)
    matches = (
        index.matches(index.shape(query))
        .order_by(index.newest_first())
        .limit(max_turns)
        .params(**index.parameters(query), organization_id=organization_id)
        .subquery()
    )
    return Session.id.in_(select(matches.c.session_id))
