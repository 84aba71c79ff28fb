"""What the console shows from other domains, each read through its owner's service (the console reads
no other package's tables itself) and shaped here for the templates: one function per source.

  - search_condition: full-text search over transcripts (search/)
  - LIST_COLUMNS / list_extras: extra columns of the sessions list: for journey (web/app) sessions pages,
    referrer, campaign and device (journey/read/details.py)
  - session_extras: "summary" (the stored one, analysis/), "recording" (signed stream URLs,
    recordings/links.py), "journey" (journey/read/details.py: facts and page trail),
    "customer_sessions" (journey/read/contacts.py: the same customer's other web visits and calls)
    and "provider" (transcripts/reports.py: a voice platform's own summary, verdict, cost, outcome)
A block with nothing to show is left out of `session_extras`, and the page leaves it out.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session as DBSession

from sessionary.analysis import service as analysis
from sessionary.journey.read import contacts as journey_contacts
from sessionary.journey.read import details as journey
from sessionary.recordings import links
from sessionary.recordings.tokens import TokenSigner
from sessionary.search import service as search
from sessionary.sessions.service import SessionRow
from sessionary.transcripts import reports

_SEARCH_MAX_TURNS = (
    5_000  # matching turns looked at, newest first (the API's SESSIONARY_SEARCH_MAX_TURNS default)
)
# (key, header) of extra sessions-list columns; list_extras fills them per session id.
LIST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("pages", "Pages"),
    ("referrer", "Referrer"),
    ("campaign", "Campaign"),
    ("device", "Device"),
)


def search_condition(db: DBSession, *, organization_id: int, text: str) -> ColumnElement[bool] | None:
    """A condition on `session` keeping the sessions whose transcript matches `text` (the search API's
    syntax), among the newest SEARCH_MAX_TURNS matching turns like the API; None when `text` has no word."""
    return search.session_condition(
        db, organization_id=organization_id, text=text, max_turns=_SEARCH_MAX_TURNS
    )


def list_extras(
    db: DBSession, *, organization_id: int, sessions: list[SessionRow]
) -> dict[int, dict[str, str]]:
    """Per session id, the values of the LIST_COLUMNS (a session left out shows empty cells): the
    journey columns of the page's web/app sessions, one query per page."""
    columns = journey.list_columns(db, organization_id=organization_id, sessions=sessions)
    return {
        session_id: {
            "pages": str(c.pageviews),
            "referrer": c.referrer,
            "campaign": c.campaign,
            "device": c.device,
        }
        for session_id, c in columns.items()
    }


def session_extras(
    db: DBSession, *, organization_id: int, session: SessionRow, signer: TokenSigner, phone_region: str = "US"
) -> dict[str, Any]:
    """Blocks of the session page that come from other domains, by name; a missing name is not shown.
    `phone_region` reads national phone numbers in a call's `source` (SESSIONARY_JOURNEY_PHONE_REGION)."""
    extras: dict[str, Any] = {"summary": summary_block(db, session=session)}
    report = reports.provider_report(db, organization_id=organization_id, session_id=session.id)
    if report is not None:
        extras["provider"] = provider_block(report)
    recordings = links.stream_links(db, organization_id=organization_id, session_id=session.id, signer=signer)
    if recordings:
        extras["recording"] = recordings
    block = journey_block(db, organization_id=organization_id, session=session)
    if block:
        extras["journey"] = block
    others = journey_contacts.customer_sessions(
        db, organization_id=organization_id, session=session, phone_region=phone_region
    )
    if others:
        extras["customer_sessions"] = {"url": None, "sessions": others}
    return extras


def provider_block(report: reports.ProviderReport) -> dict[str, Any]:
    """The voice platform's own conclusions, shown next to sessionary's summary: its summary, and its
    other findings (verdict, sentiment, cost, how the call ended) as label/value rows."""
    rows = [
        (
            name.replace("_", " "),
            value if isinstance(value, str | int | float | bool) else orjson.dumps(value).decode(),
        )
        for name, value in report.attributes.items()
        if name != "summary"
    ]
    return {"provider": report.provider.capitalize(), "summary": report.summary, "rows": rows}


def summary_block(db: DBSession, *, session: SessionRow) -> dict[str, Any]:
    """The stored summary and rating (the analysis worker writes them after the session ends); never
    computed here, so the page stays fast: until then a note says why there is none."""
    stored = analysis.stored_summary(db, session_id=session.id)
    if stored is not None:
        return {"summary": stored.summary, "rating": stored.rating, "note": None}
    note = "The session has not ended yet." if session.ended_at is None else "Not analyzed yet."
    return {"summary": None, "rating": None, "note": note}


def journey_block(db: DBSession, *, organization_id: int, session: SessionRow) -> dict[str, Any] | None:
    """The facts (each with what its absence means) and the page trail of a web/app session; None for
    other sessions."""
    found = journey.details(db, organization_id=organization_id, session=session)
    if found is None:
        return None
    facts = [
        ("Pages viewed", str(found.pageviews)),
        ("Events", str(found.events)),
        ("Campaign", found.campaign or "none"),
        ("Referrer", found.referrer or "direct"),
        ("Device", found.device or "unknown"),
        ("Geolocation", found.geolocation or "unknown"),
        ("Segments", ", ".join(found.segments) or "none"),
    ]
    pages = [(_clock(p.seconds), p.where, p.title) for p in found.trail]
    return {"facts": facts, "pages": pages}


def _clock(seconds: int) -> str:
    """m:ss, the time into the session."""
    return f"{seconds // 60}:{seconds % 60:02d}"
