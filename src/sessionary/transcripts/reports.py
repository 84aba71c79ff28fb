"""What a voice platform concluded about a session: its `provider.report` events (webhooks/ stores them:
summary, verdict, cost, how the call ended) merged in time order, a later report's values over an
earlier one's (Retell's call_analyzed adds the analysis to call_ended's report)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session as DBSession

from sessionary.transcripts.service import session_events

REPORT_TYPE = "provider.report"


@dataclass(frozen=True)
class ProviderReport:
    provider: str
    summary: str | None
    attributes: dict[str, Any] = field(default_factory=dict)


def provider_report(db: DBSession, *, organization_id: int, session_id: int) -> ProviderReport | None:
    """The session's merged provider report; None when no provider reported on it."""
    _session, events = session_events(
        db, organization_id=organization_id, session_id=str(session_id), types=("custom",)
    )
    merged: dict[str, Any] = {}
    provider = None
    for event in events:
        data = event.data
        if data.get("type") != REPORT_TYPE:
            continue
        provider = data.get("source") or provider
        merged.update(data.get("attributes") or {})
    if provider is None:
        return None
    summary = merged.get("summary")
    return ProviderReport(provider, summary if isinstance(summary, str) else None, merged)
