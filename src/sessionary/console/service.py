"""What the console pages show, read through the domains' own services (never their tables)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session as DBSession

from sessionary import listing
from sessionary.console import sources
from sessionary.console.listquery import ListQuery
from sessionary.labels import service as labels
from sessionary.listing import ListParams, OrderByDirection
from sessionary.recordings.tokens import TokenSigner
from sessionary.sessions import service as sessions
from sessionary.transcripts import service as transcripts
from sessionary.transcripts.schemas import TimelineEvent

LATENCY_CATEGORIES = ("stt", "llm", "tts", "tool", "http")
SESSION_TYPES = ("voice", "chat", "web", "app", "other")


@dataclass(frozen=True)
class Options:
    """The organization's own values for the filter lists."""

    channels: list[str]
    agents: list[str]
    prompts: list[str]


@dataclass(frozen=True)
class SessionsView:
    rows: list[tuple[sessions.SessionRow, str | None]]  # each session with its newest label's code
    total: int
    page: int
    pages: int
    search_note: str | None = None
    extra_columns: tuple[tuple[str, str], ...] = ()
    extras: dict[int, dict[str, str]] = field(default_factory=dict)


def options(db: DBSession, *, organization_id: int) -> Options:
    """Distinct channel types, agents and prompts (loose index scans; capped)."""

    def values(name: str) -> list[str]:
        return sessions.name_values(db, organization_id=organization_id, name=name)

    return Options(
        channels=values("channel_manager_type"), agents=values("agent_name"), prompts=values("prompt_name")
    )


def list_sessions(db: DBSession, *, organization_id: int, query: ListQuery) -> SessionsView:
    """One page of the filtered sessions, in the query's order, with the total count."""
    extra: list[ColumnElement[bool]] = []
    note = None
    if query.q:
        condition = sources.search_condition(db, organization_id=organization_id, text=query.q)
        if condition is None:
            note = "The search text has no word to look for; it was not applied."
        else:
            extra.append(condition)
    params = ListParams(
        page=query.page,
        limit=query.limit,
        search_fields=[],
        search_field_values=[],
        order_by=query.sort,
        order_by_direction=OrderByDirection.desc if query.descending else OrderByDirection.asc,
        fields=[],
        start_datetime=None,
        end_datetime=None,
    )
    page = sessions.filtered_page(
        db, organization_id=organization_id, f=query.filter, params=params, extra=extra
    )
    label_ids = [s.session_label_id for s in page.items if s.session_label_id is not None]
    codes = labels.codes_of(db, label_ids=label_ids)
    rows = [(s, codes.get(s.session_label_id) if s.session_label_id else None) for s in page.items]
    pages = listing.total_pages(page.total_count, query.limit)
    extras = sources.list_extras(db, organization_id=organization_id, sessions=page.items)
    return SessionsView(
        rows=rows,
        total=page.total_count,
        page=query.page,
        pages=pages,
        search_note=note,
        extra_columns=sources.LIST_COLUMNS,
        extras=extras,
    )


@dataclass
class Turn:
    """One transcript turn with what happened just before it (latency) and right after it (tool calls)."""

    index: int | None
    source: str | None
    text: str | None
    offset: str
    tools: list[TimelineEvent] = field(default_factory=list)
    latency_ms: dict[str, float] = field(default_factory=dict)

    @property
    def latency_total(self) -> float:
        return sum(self.latency_ms.values())


@dataclass(frozen=True)
class SessionView:
    session: sessions.SessionRow
    turns: list[Turn]
    max_latency_ms: float
    labels: list[labels.LabelRow]
    conversation_size: int
    extras: dict[str, Any]
    tokens: dict[str, int] = field(default_factory=dict)  # LLM token usage, summed from latency metadata


def session_view(
    db: DBSession, *, organization_id: int, session_id: str, signer: TokenSigner, phone_region: str = "US"
) -> SessionView:
    """Everything the session page shows (NotFound for another organization's session); `signer` signs
    the recordings' stream URLs; `phone_region` reads national numbers in a call's source."""
    timeline = transcripts.timeline(db, organization_id=organization_id, session_id=session_id)
    session = sessions.get_session(db, organization_id=organization_id, session_id=session_id)
    turns = build_turns(timeline.events)
    size = 0
    if session.conversation_id is not None:
        size = sessions.conversation_size(
            db, organization_id=organization_id, conversation_id=session.conversation_id
        )
    return SessionView(
        session=session,
        turns=turns,
        max_latency_ms=max((t.latency_total for t in turns), default=0.0),
        labels=session_labels(db, organization_id=organization_id, session_id=session.id),
        conversation_size=size,
        tokens=token_usage(timeline.events),
        extras=sources.session_extras(
            db, organization_id=organization_id, session=session, signer=signer, phone_region=phone_region
        ),
    )


USAGE_KEYS = ("input_tokens", "output_tokens")


def token_usage(events: list[TimelineEvent]) -> dict[str, int]:
    """LLM tokens of the session, summed from its latency entries' `input_tokens=N` / `output_tokens=N`
    metadata (what traced runtimes report per LLM call; README "Connect your agent")."""
    totals: dict[str, int] = {}
    for event in events:
        if event.kind != "latency":
            continue
        for item in event.metadata or ():
            name, _, value = item.partition("=")
            if name in USAGE_KEYS and value.isdigit():
                totals[name] = totals.get(name, 0) + int(value)
    return totals


def build_turns(events: list[TimelineEvent]) -> list[Turn]:
    """Turns in order: tool calls fold into the turn they follow; latency (and tool time) measured between
    two turns is charted on the turn it preceded, the answer it was waiting for."""
    turns: list[Turn] = []
    pending: dict[str, float] = {}
    for event in events:
        if event.kind == "transcript":
            turn = Turn(index=event.turn_index, source=event.source, text=event.text, offset=event.offset)
            turn.latency_ms, pending = pending, {}
            turns.append(turn)
            continue
        if event.kind == "tool":
            if not turns:
                turns.append(Turn(index=None, source=None, text=None, offset=event.offset))
            turns[-1].tools.append(event)
        category = event.category or "tool"
        if event.duration_ms is not None and category in LATENCY_CATEGORIES:
            pending[category] = pending.get(category, 0.0) + event.duration_ms
    if pending and turns:
        for category, ms in pending.items():
            turns[-1].latency_ms[category] = turns[-1].latency_ms.get(category, 0.0) + ms
    return turns


def session_labels(db: DBSession, *, organization_id: int, session_id: int) -> list[labels.LabelRow]:
    """The session's labels, newest first."""
    params = ListParams(
        page=0,
        limit=200,
        search_fields=["session_id"],
        search_field_values=[str(session_id)],
        order_by=None,
        order_by_direction=None,
        fields=[],
        start_datetime=None,
        end_datetime=None,
    )
    return labels.list_labels(db, organization_id=organization_id, params=params).items
