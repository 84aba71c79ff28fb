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
from itertools import islice
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, select, tuple_
from sqlalchemy.orm import Session as DBSession
from sqlalchemy.orm import aliased

from sessionary.db_types import UTCDateTime
from sessionary.ingest.models import Event
from sessionary.listing import ListParams, Page
from sessionary.search.fts import INDEXES, Index, index_for
from sessionary.search.query import SearchQuery
from sessionary.search.schemas import SearchHit, SearchMatch
from sessionary.sessions.models import Session

# Snippet marks (and stand-ins): private-use characters that occur in none of the page's texts.
_PRIVATE_USE = range(0xE000, 0xF900)


@dataclass(frozen=True)
class _Ranked:
    session_id: int
    score: float
    match_count: int
    best_event_id: int


def search(db: DBSession, *, organization_id: int, query: SearchQuery, params: ListParams) -> Page[SearchHit]:
    """One page of the organization's sessions whose transcripts match `query`, best first."""
    index = index_for(db)
    ranked, total = _ranked_page(db, index, query, organization_id, params)
    page_ids = [r.session_id for r in ranked]
    sessions = {s.id: s for s in db.scalars(select(Session).where(Session.id.in_(page_ids)))}
    best = _best_matches(db, index, query, [r.best_event_id for r in ranked])
    hits = [_hit(sessions[r.session_id], r, best[r.best_event_id]) for r in ranked]
    return Page(items=hits, total_count=total)


def _ranked_page(
    db: DBSession, index: Index, query: SearchQuery, organization_id: int, params: ListParams
) -> tuple[list[_Ranked], int]:
    """The page's sessions with their aggregates, and how many sessions match in all."""
    start, end = params.start_datetime, params.end_datetime
    page_stmt, count_stmt = _statements(
        db.get_bind().dialect.name, index.shape(query), start is not None, end is not None
    )
    values = {**index.parameters(query), "organization_id": organization_id, "start": start, "end": end}
    connection = db.connection()
    rows = []
    if params.limit:
        rows = list(connection.execute(page_stmt, {**values, "limit": params.limit, "offset": params.offset}))
    if rows:
        total = int(rows[0].total)
    else:  # past the last page, or limit 0: count on its own
        total = connection.execute(count_stmt, values).scalar() or 0
    ranked = [_Ranked(r.session_id, float(r.score), int(r.match_count), int(r.best_event_id)) for r in rows]
    return ranked, total


@lru_cache(maxsize=128)
def _statements(dialect: str, shape: Hashable, start: bool, end: bool) -> tuple[Select[Any], Select[Any]]:
    """The page and count statements for one shape of query, with or without each time bound."""
    index = INDEXES[dialect]
    matches = index.matches(shape).subquery("m")
    grouped = select(matches.c.session_id, *index.aggregates(matches)).group_by(matches.c.session_id)
    g = grouped.subquery("g")
    stmt = select(g.c.session_id, g.c.score, g.c.match_count, g.c.best_event_id)
    if start or end:  # the session's timestamp: one look-up per matching session, after grouping
        stmt = stmt.join(Session, Session.id == g.c.session_id)
        if start:
            stmt = stmt.where(Session.timestamp >= bindparam("start", type_=UTCDateTime()))
        if end:
            stmt = stmt.where(Session.timestamp < bindparam("end", type_=UTCDateTime()))
    page = (
        stmt.add_columns(func.count().over().label("total"))
        .order_by(g.c.score.desc(), g.c.session_id.desc())
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )
    return page, select(func.count()).select_from(stmt.subquery())


@dataclass(frozen=True)
class _Turn:
    timestamp: Any
    source: str | None
    text: str
    turn_index: int


def _best_matches(
    db: DBSession, index: Index, query: SearchQuery, event_ids: list[int]
) -> dict[int, SearchMatch]:
    """Each turn's timestamp, source, position in its session and highlighted snippet."""
    if not event_ids:
        return {}
    turns = {
        event_id: _Turn(timestamp, data.get("source"), str(data.get("text", "")), int(turn_index))
        for event_id, timestamp, data, turn_index in db.connection().execute(_TURNS, {"ids": event_ids})
    }
    free = _free_characters(turn.text for turn in turns.values())
    marks = (free[0], free[1])
    marked = index.marked(db, query, event_ids, free)
    return {
        event_id: SearchMatch(
            timestamp=turn.timestamp,
            source=turn.source,
            turn_index=turn.turn_index,
            snippet=render_snippet(marked.get(event_id, turn.text), marks),
        )
        for event_id, turn in turns.items()
    }


def _turns_statement() -> Select[Any]:
    """Turns by event id, each with its position among its session's turns (time order, as the timeline)."""
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
    return select(Event.id, Event.timestamp, Event.data, position).where(
        Event.id.in_(bindparam("ids", expanding=True))
    )


_TURNS = _turns_statement()


def _free_characters(texts: Iterable[str], count: int = 4) -> list[str]:
    """`count` private-use characters found in none of `texts`: marks that cannot be confused with text."""
    seen = set("".join(texts))
    free = list(islice((chr(code) for code in _PRIVATE_USE if chr(code) not in seen), count))
    if len(free) < count:  # the page's texts would need 6,400 distinct private-use characters
        raise ValueError("no free private-use characters to mark matches with")
    return free


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
