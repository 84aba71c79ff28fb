"""The facts of an ended session that its rating and summary are computed from, read from its events."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from statistics import fmean
from typing import Any

from sqlalchemy.orm import Session as DBSession

from sessionary.transcripts import formatting as fmt
from sessionary.transcripts import service as transcripts

_TYPES = ("transcript", "tool_call", "latency")


@dataclass(frozen=True)
class Turn:
    source: str  # user | agent
    text: str
    at: datetime


@dataclass(frozen=True)
class ToolOutcome:
    name: str
    result: Any
    error: Any
    at: datetime


@dataclass(frozen=True)
class SessionFacts:
    """A session's turns, tool calls and latencies in time order, with how it ended."""

    session_id: int
    organization_id: int
    started_at: datetime
    ended_at: datetime | None
    duration: float | None = None
    agent_name: str | None = None
    user_terminated: bool | None = None
    transfer_voicemail_detected: bool | None = None
    turns: tuple[Turn, ...] = ()
    tools: tuple[ToolOutcome, ...] = ()
    latency_ms: dict[str, list[float]] = field(default_factory=dict)  # category -> measurements

    def latency_means(self) -> dict[str, float]:
        """Mean latency in ms per category measured."""
        return {category: round(fmean(values), 3) for category, values in self.latency_ms.items() if values}


def load_facts(db: DBSession, *, organization_id: int, session_id: int) -> SessionFacts:
    """The facts of the organization's session (NotFound when it is not the organization's)."""
    session, events = transcripts.session_events(
        db, organization_id=organization_id, session_id=str(session_id), types=_TYPES
    )
    turns: list[Turn] = []
    tools: list[ToolOutcome] = []
    latency: dict[str, list[float]] = defaultdict(list)
    for event in events:
        data = event.data
        if event.type == "transcript":
            turns.append(Turn(source=data["source"], text=data.get("text") or "", at=event.timestamp))
        elif event.type == "tool_call":
            tools.append(
                ToolOutcome(
                    data["tool_name"], data.get("tool_result"), data.get("tool_error"), event.timestamp
                )
            )
        elif (ms := fmt.usable_ms(data.get("value"), data.get("unit"))) is not None:
            latency[data["category"]].append(ms)
    return SessionFacts(
        session_id=session.id,
        organization_id=session.organization_id,
        started_at=session.timestamp,
        ended_at=session.ended_at,
        duration=session.duration,
        agent_name=session.agent_name,
        user_terminated=session.user_terminated,
        transfer_voicemail_detected=session.transfer_voicemail_detected,
        turns=tuple(turns),
        tools=tuple(tools),
        latency_ms=dict(latency),
    )


def brief(value: Any, limit: int = 80) -> str:
    """A tool payload in a few words: `code: message`, `key=value, ...`, or truncated text."""
    if isinstance(value, dict):
        if "message" in value or "code" in value:
            text = ": ".join(str(value[key]) for key in ("code", "message") if value.get(key) is not None)
        else:
            scalars = [(k, v) for k, v in value.items() if isinstance(v, str | int | float | bool)]
            text = ", ".join(f"{k}={v}" for k, v in scalars[:3]) or f"{len(value)} fields"
    elif isinstance(value, list):
        text = f"{len(value)} items"
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_error(value: Any) -> bool:
    """Whether a tool_error payload reports an error (null, empty string, {} and [] do not)."""
    return value not in (None, "", {}, [])
