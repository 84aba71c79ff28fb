"""Analysis jobs: process the due sessions, analyze one session, the full summary on demand.

These are jobs, not request-bound services: each phase runs in a transaction of its own (`session_scope`),
and no transaction is open while the summarizer runs (it may call out over the network).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session as DBSession

from sessionary.analysis import store
from sessionary.analysis.facts import load_facts
from sessionary.analysis.models import SessionSummary
from sessionary.analysis.rating import Norm, Rating, RatingRules, rate
from sessionary.analysis.schemas import SessionSummaryResponse
from sessionary.analysis.summarizers import (
    ExtractiveSummarizer,
    FallbackSummarizer,
    OpenAISummarizer,
    Summarizer,
    SummaryResult,
)
from sessionary.config import Settings
from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.errors import Conflict
from sessionary.sessions import service as sessions
from sessionary.tenancy import models as _tenancy  # noqa: F401  (the organization table every foreign key names)

if TYPE_CHECKING:  # only a test's transport names it; summarizers.py imports it when needed
    import httpx

log = logging.getLogger(__name__)


@dataclass
class Analyzer:
    """How sessions are analyzed: the rating rules, the summarizer, and the worker's pacing."""

    rules: RatingRules = field(default_factory=RatingRules)
    summarizer: Summarizer = field(default_factory=ExtractiveSummarizer)
    delay: timedelta = timedelta(0)  # how long a mark settles before it is ripe
    batch: int = 50
    closers: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: Settings, *, transport: httpx.BaseTransport | None = None) -> Analyzer:
        """The analyzer the settings describe (an OpenAI summarizer falls back to the extractive one)."""
        closers: list[Callable[[], None]] = []
        summarizer: Summarizer = ExtractiveSummarizer()
        if settings.summarizer == "openai":
            key = settings.openai_api_key
            remote = OpenAISummarizer(
                base_url=settings.openai_base_url,
                model=settings.openai_model,
                api_key=key.get_secret_value() if key else None,
                timeout=settings.openai_timeout_seconds,
                transport=transport,
            )
            closers.append(remote.close)
            summarizer = FallbackSummarizer(remote, ExtractiveSummarizer())
        return cls(
            rules=RatingRules.from_settings(settings),
            summarizer=summarizer,
            delay=timedelta(seconds=settings.analysis_delay_seconds),
            batch=settings.analysis_batch,
            closers=closers,
        )

    def close(self) -> None:
        for close in self.closers:
            close()


def process_due(
    database: Database,
    *,
    analyzer: Analyzer | None = None,
    organization_id: int | None = None,
    now: datetime | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    after_batch: Callable[[float], None] | None = None,
) -> int:
    """Analyze every session due (of one organization, or all) until none is left; returns how many.
    `after_batch` is called with the seconds each claimed batch took (the worker paces itself with it)."""
    analyzer = analyzer or Analyzer()
    done = 0
    while not should_stop():
        began = time.monotonic()
        at = now or utcnow()
        ripe = at - analyzer.delay
        with session_scope(database.reader) as db:
            if not store.any_due(db, ripe_before=ripe, organization_id=organization_id):
                break
        with session_scope(database.writer) as db:
            claimed = store.claim(
                db, now=at, ripe_before=ripe, limit=analyzer.batch, organization_id=organization_id
            )
        if not claimed:  # another worker holds what is due
            break
        norms: dict[int, Norm] = {}  # per organization and claimed batch: a backlog sees its norm grow
        for org_id, session_id in claimed:
            if should_stop():  # the rest of the batch is retried when its lease runs out
                break
            try:
                analyze(database, analyzer, organization_id=org_id, session_id=session_id, norms=norms)
                done += 1
            except Exception:  # the claim's lease expires and the session is retried
                log.exception("analysis of session %s failed", session_id)
        if after_batch is not None:
            after_batch(time.monotonic() - began)
    return done


def analyze(
    database: Database,
    analyzer: Analyzer,
    *,
    organization_id: int,
    session_id: int,
    norms: dict[int, Norm] | None = None,
) -> tuple[Rating, SummaryResult] | None:
    """Rate and summarize one session and store both; None when the session has not ended."""
    with session_scope(database.reader) as db:
        generation = store.generation_of(db, session_id=session_id)  # before the facts, never after
        facts = load_facts(db, organization_id=organization_id, session_id=session_id)
        norm = None if norms is None else norms.get(organization_id)
        if norm is None:
            norm = store.org_norm(db, organization_id=organization_id, window=analyzer.rules.latency_window)
            if norms is not None:
                norms[organization_id] = norm
    if facts.ended_at is None:
        with session_scope(database.writer) as db:
            store.finish(db, facts=facts, generation=generation, now=utcnow())
        return None
    rating = rate(facts, analyzer.rules, norm)
    summary = analyzer.summarizer.summarize(facts)  # no transaction is open here
    with session_scope(database.writer) as db:
        store.save(db, facts=facts, rating=rating, summary=summary, generation=generation)
    return rating, summary


def stored_summary(db: DBSession, *, session_id: int) -> SessionSummaryResponse | None:
    """The session's stored summary and rating; None until it is analyzed (never computed here)."""
    stored = db.get(SessionSummary, session_id)
    return None if stored is None else SessionSummaryResponse(summary=stored.summary, rating=stored.rating)


def full_summary(
    database: Database, analyzer: Analyzer, *, organization_id: int, session_id: str, recompute: bool = False
) -> SessionSummaryResponse:
    """The stored summary; an ended session not analyzed yet is analyzed now (and with `recompute`, again).

    A session that has not ended has no summary yet (nulls); recomputing one is a Conflict.
    """
    with session_scope(database.reader) as db:
        session = sessions.get_session(db, organization_id=organization_id, session_id=session_id)
        stored = stored_summary(db, session_id=session.id)
        ended, number = session.ended_at is not None, session.id
    if not ended:
        if recompute:
            raise Conflict(f"Session {session_id} has not ended: there is nothing to summarize yet")
        return SessionSummaryResponse(summary=None, rating=None)
    if stored is not None and not recompute:
        return stored
    result = analyze(database, analyzer, organization_id=organization_id, session_id=number)
    if result is None:
        return SessionSummaryResponse(summary=None, rating=None)
    rating, summary = result
    return SessionSummaryResponse(summary=summary.summary, rating=rating.text)


def mark_all(database: Database, *, organization_id: int | None = None) -> int:
    """Mark every ended session (of one organization, or all) due now, for `sessionary analyze --all`."""
    with session_scope(database.writer) as db:
        return store.mark_ended_due(db, organization_id=organization_id, now=utcnow())
