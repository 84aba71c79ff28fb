"""Content retention's part of the analysis: a session's summary text removed (its rating stays)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.orm import Session as DBSession

from sessionary.analysis.models import SessionSummary

_CHUNK = 400


def forget_summaries(db: DBSession, *, organization_id: int, session_ids: Sequence[int]) -> int:
    """Empty these sessions' summaries (the rating and summarizer stay); how many had one."""
    total = 0
    for start in range(0, len(session_ids), _CHUNK):
        result = db.execute(
            update(SessionSummary)
            .where(
                SessionSummary.organization_id == organization_id,
                SessionSummary.session_id.in_(session_ids[start : start + _CHUNK]),
                SessionSummary.summary.is_not(None),
            )
            .values(summary=None)
            .execution_options(synchronize_session=False)
        )
        total += int(getattr(result, "rowcount", 0) or 0)
    return total
