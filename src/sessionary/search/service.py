"""Full-text search over transcripts: the organization's sessions whose turns match, best first.

A hit is a session (total_count counts sessions), scored by the sum of its matching turns' scores, so a
session that mentions the words more often, or more exactly, ranks higher; ties go to the newer session id.
Each hit carries its best matching turn with an HTML-safe snippet.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session as DBSession
from sqlalchemy.orm import aliased

from sessionary.ingest.models import Event
from sessionary.listing import ListParams, Page
from sessionary.search.fts import Index, index_for
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
    ranked, total = _ranked_page(db, index, index.matches(query, organization_id), params)
    sessions = {
        s.id: s for s in db.scalars(select(Session).where(Session.id.in_([r.session_id for r in ranked])))
    }
    best = _best_matches(db, index, query, [r.best_event_id for r in ranked])
    hits = [_hit(sessions[r.session_id], r, best[r.best_event_id]) for r in ranked]
    return Page(items=hits, total_count=total)


def _ranked_page(
    db: DBSession, index: Index, matches: Select[Any], params: ListParams
) -> tuple[list[_Ranked], int]:
    """The page's sessions with their aggregates, and how many sessions match in all."""
    m = matches.subquery("m")
    grouped = select(m.c.session_id, *index.aggregates(m)).group_by(m.c.session_id).subquery("g")
    stmt = select(grouped.c.session_id, grouped.c.score, grouped.c.match_count, grouped.c.best_event_id)
    if params.start_datetime is not None or params.end_datetime is not None:
        stmt = stmt.join(Session, Session.id == grouped.c.session_id)
        if params.start_datetime is not None:
            stmt = stmt.where(Session.timestamp >= params.start_datetime)
        if params.end_datetime is not None:
            stmt = stmt.where(Session.timestamp < params.end_datetime)
    rows = []
    if params.limit:
        paged = (
            stmt.add_columns(func.count().over().label("total"))
            .order_by(grouped.c.score.desc(), grouped.c.session_id.desc())
            .offset(params.offset)
            .limit(params.limit)
        )
        rows = list(db.execute(paged))
    if rows:
        total = int(rows[0].total)
    else:  # past the last page, or limit 0: count on its own
        total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    ranked = [_Ranked(r.session_id, float(r.score), int(r.match_count), int(r.best_event_id)) for r in rows]
    return ranked, total


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
    turns = _turns(db, event_ids)
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


def _turns(db: DBSession, event_ids: list[int]) -> dict[int, _Turn]:
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
    stmt = select(Event.id, Event.timestamp, Event.data, position).where(Event.id.in_(event_ids))
    return {
        event_id: _Turn(timestamp, data.get("source"), str(data.get("text", "")), int(turn_index))
        for event_id, timestamp, data, turn_index in db.execute(stmt)
    }


def _free_characters(texts: Iterable[str], count: int = 4) -> list[str]:
    """`count` private-use characters found in none of `texts`: marks that cannot be confused with text."""
    seen = set("".join(texts))
    free = [chr(code) for code in _PRIVATE_USE if chr(code) not in seen][:count]
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
