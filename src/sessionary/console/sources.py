"""Data the console shows from domains that other branches build: one function per source.

Each returns None (or an empty mapping) until its domain is wired in; the page then leaves its block out.
  - search_condition: full-text search over transcripts (issue 3's search/ package)
  - LIST_COLUMNS / list_extras: extra columns of the sessions list, e.g. for journey (web/app) sessions
    pages, referrer, campaign and device (issue 4's journey/)
  - session_extras: "recording" (signed stream URL, issue 3's recordings/), "summary" (issue 3's
    analysis/), "journey" (issue 4's journey/: page trail, campaign, referrer, device, geolocation,
    segments) and "customer_sessions" (issue 4: the same customer's other web visits and calls)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session as DBSession

from sessionary.sessions.models import Session


def search_condition(db: DBSession, *, organization_id: int, text: str) -> ColumnElement[bool] | None:
    """A condition on `session` (e.g. `Session.id IN (SELECT ... FROM the FTS index MATCH :text)`) keeping
    the sessions whose transcript matches `text`; None while search is not wired."""
    return None


def session_extras(db: DBSession, *, organization_id: int, session: Session) -> dict[str, Any]:
    """Blocks of the session page that come from other domains, by name; a missing name is not shown."""
    return {}


# (key, header) of extra sessions-list columns; list_extras fills them per session id.
LIST_COLUMNS: tuple[tuple[str, str], ...] = ()


def list_extras(db: DBSession, *, organization_id: int, sessions: list[Session]) -> dict[int, dict[str, str]]:
    """Per session id, the values of the LIST_COLUMNS (a session left out shows empty cells)."""
    return {}
