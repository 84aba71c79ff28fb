"""Data the console shows from domains that other branches build: one function per source.

Each returns None (or an empty mapping) until its domain is wired in; the page then leaves its block out.
  - search_condition: full-text search over transcripts (issue 3's search/ package)
  - LIST_COLUMNS / list_extras: extra columns of the sessions list, e.g. for journey (web/app) sessions
    pages, referrer, campaign and device (issue 4's journey/)
  - session_extras: "recording" (signed stream URLs, recordings/), "summary" (the stored one,
    analysis/), "journey" (issue 4's journey/: page trail, campaign, referrer, device, geolocation,
    segments) and "customer_sessions" (issue 4: the same customer's other web visits and calls)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session as DBSession

from sessionary.analysis.models import SessionSummary
from sessionary.console import journey
from sessionary.recordings.models import Recording
from sessionary.recordings.routes import STREAM_PATH
from sessionary.recordings.tokens import TokenSigner
from sessionary.search import fts
from sessionary.search import query as search_query
from sessionary.sessions.models import Session

_SEARCH_MAX_TURNS = (
    5_000  # matching turns looked at, newest first (the API's SESSIONARY_SEARCH_MAX_TURNS default)
)


def search_condition(db: DBSession, *, organization_id: int, text: str) -> ColumnElement[bool] | None:
    """A condition on `session` keeping the sessions whose transcript matches `text` (the search API's
    syntax), among the newest SEARCH_MAX_TURNS matching turns like the API; None when `text` has no word."""
    try:
        query = search_query.parse(text)
    except search_query.QueryError:
        return None
    index = fts.index_for(db)
    matches = (
        index.matches(index.shape(query))
        .order_by(index.newest_first())
        .limit(_SEARCH_MAX_TURNS)
        .params(**index.parameters(query), organization_id=organization_id)
        .subquery()
    )
    return Session.id.in_(select(matches.c.session_id))


def session_extras(
    db: DBSession, *, organization_id: int, session: Session, signer: TokenSigner, phone_region: str = "US"
) -> dict[str, Any]:
    """Blocks of the session page that come from other domains, by name; a missing name is not shown.
    `phone_region` reads national phone numbers in a call's `source` (SESSIONARY_JOURNEY_PHONE_REGION)."""
    extras: dict[str, Any] = {"summary": summary_block(db, session=session)}
    recordings = recording_block(db, session=session, signer=signer)
    if recordings:
        extras["recording"] = recordings
    block = journey.journey_block(db, organization_id=organization_id, session=session)
    if block:
        extras["journey"] = block
    others = journey.customer_sessions(
        db, organization_id=organization_id, session=session, phone_region=phone_region
    )
    if others:
        extras["customer_sessions"] = others
    return extras


def recording_block(db: DBSession, *, session: Session, signer: TokenSigner) -> list[dict[str, Any]]:
    """The session's recordings, oldest first, each with a signed stream URL (relative, like the page)."""
    found = db.scalars(select(Recording).where(Recording.session_id == session.id).order_by(Recording.id))

    def url(r: Recording) -> str:
        token = signer.issue(organization_id=r.organization_id, recording_id=r.id)
        return f"{STREAM_PATH}?{urlencode({'token': token})}"

    return [
        {
            "url": url(r),
            "name": r.filename or f"recording {r.id}",
            "mime": r.content_type if r.content_type and r.content_type.startswith("audio/") else None,
        }
        for r in found
    ]


def summary_block(db: DBSession, *, session: Session) -> dict[str, Any]:
    """The stored summary and rating (the analysis worker writes them after the session ends); never
    computed here, so the page stays fast: until then a note says why there is none."""
    stored = db.get(SessionSummary, session.id)
    if stored is not None:
        return {"summary": stored.summary, "rating": stored.rating, "note": None}
    note = "The session has not ended yet." if session.ended_at is None else "Not analyzed yet."
    return {"summary": None, "rating": None, "note": note}


# (key, header) of extra sessions-list columns; list_extras fills them per session id.
LIST_COLUMNS: tuple[tuple[str, str], ...] = journey.LIST_COLUMNS


def list_extras(db: DBSession, *, organization_id: int, sessions: list[Session]) -> dict[int, dict[str, str]]:
    """Per session id, the values of the LIST_COLUMNS (a session left out shows empty cells): the
    journey columns of the page's web/app sessions, one query per page."""
    return journey.list_extras(db, organization_id=organization_id, sessions=sessions)
