"""Builders for analysis tests: a realistic call as native events, ingested through the ingest service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select

from sessionary.analysis import service
from sessionary.analysis.models import SessionAnalysis, SessionSummary
from sessionary.analysis.rating import RatingRules
from sessionary.db import Database, session_scope
from sessionary.eventlog.schemas import EventIn
from sessionary.ingest import service as ingest
from sessionary.labels.models import SessionLabel
from sessionary.sessions.models import Session

T0 = datetime(2024, 6, 19, 10, 0, tzinfo=UTC)
_EVENTS = TypeAdapter(list[EventIn])

PHARMACY = [
    (1, "agent", "Thanks for calling Riverside Pharmacy. How can I help you today?"),
    (4, "user", "Hi, I need to refill my blood pressure prescription."),
    (8, "agent", "Of course. Can I have your date of birth to look you up?"),
    (11, "user", "It's March third, nineteen seventy-two."),
    (15, "agent", "Done. It will be ready tomorrow after 2 PM. Anything else?"),
    (19, "user", "No, that's all. Thanks!"),
]
LOOKUP = {
    "tool_name": "lookup_patient",
    "tool_request": {"dob": "1972-03-03"},
    "tool_result": {"patient_id": "P-88213"},
}


@dataclass
class Call:
    """One session: turns and tool calls at offsets (seconds) from T0, and how it ended."""

    sid: str
    turns: list[tuple[float, str, str]] = field(default_factory=lambda: list(PHARMACY))
    tools: list[tuple[float, dict[str, Any]]] = field(default_factory=lambda: [(12, LOOKUP)])
    latency: list[tuple[float, str, float]] = field(default_factory=list)  # (offset, category, ms)
    end: float | None = 21
    ended: dict[str, Any] = field(default_factory=lambda: {"user_terminated": True})

    def events(self) -> list[dict[str, Any]]:
        out = [self._event("start", "session.started", 0, {"channel_manager_type": "voice_sip_v1"})]
        for n, (at, source, text) in enumerate(self.turns):
            out.append(
                self._event(f"t{n}", "transcript", at, {"source": source, "text": text, "lang": "en-US"})
            )
        for n, (at, data) in enumerate(self.tools):
            out.append(self._event(f"tool{n}", "tool_call", at, {"tool_call_id": f"c{n}", **data}))
        for n, (at, category, ms) in enumerate(self.latency):
            data = {"category": category, "label": f"{category}_x", "value": ms, "unit": "milliseconds"}
            out.append(self._event(f"lat{n}", "latency", at, data))
        if self.end is not None:
            out.append(self._event("end", "session.ended", self.end, self.ended))
        return out

    def _event(self, name: str, type_: str, at: float, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "event_id": f"{self.sid}-{name}",
            "type": type_,
            "timestamp": (T0 + timedelta(seconds=at)).isoformat(),
            "channel_manager_service": "hedy",
            "channel_manager_sid": self.sid,
            "data": data,
        }


def ingest_events(database: Database, organization_id: int, events: list[dict[str, Any]]) -> None:
    with session_scope(database.writer) as db:
        ingest.ingest_events(db, organization_id=organization_id, events=_EVENTS.validate_python(events))


def ingest_call(database: Database, organization_id: int, call: Call) -> int:
    """Ingest the call; returns its session id."""
    ingest_events(database, organization_id, call.events())
    with session_scope(database.reader) as db:
        found = db.scalar(
            select(Session.id).where(
                Session.organization_id == organization_id, Session.channel_manager_sid == call.sid
            )
        )
    assert found is not None
    return found


def analyze_due(
    database: Database, organization_id: int, rules: RatingRules | None = None, **kwargs: Any
) -> int:
    analyzer = service.Analyzer(rules=rules or RatingRules())
    return service.process_due(database, analyzer=analyzer, organization_id=organization_id, **kwargs)


def auto_labels(database: Database, session_id: int) -> list[SessionLabel]:
    with session_scope(database.reader) as db:
        stmt = select(SessionLabel).where(SessionLabel.session_id == session_id).order_by(SessionLabel.id)
        return [label for label in db.scalars(stmt) if label.type == "auto-rating"]


def session_label_id(database: Database, session_id: int) -> int | None:
    with session_scope(database.reader) as db:
        return db.scalar(select(Session.session_label_id).where(Session.id == session_id))


def summary_of(database: Database, session_id: int) -> SessionSummary | None:
    with session_scope(database.reader) as db:
        return db.get(SessionSummary, session_id)


def analysis_of(database: Database, session_id: int) -> SessionAnalysis | None:
    with session_scope(database.reader) as db:
        return db.get(SessionAnalysis, session_id)
