"""Conversations: created the first time a session names its conversation_id, re-derived when one changes.

Derivation rule (documented in the README): `timestamp` is the earliest start of the conversation's sessions;
each other field (agent, prompt, LLM, is_legacy) is the value of the most recently started session that has
one (not NULL), ties between sessions starting at the same moment going to the greater
(channel_manager_service, channel_manager_sid). The rule reads the sessions only, so a conversation is the
same whatever order their events arrived in. A conversation left with no session is deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    String,
    Table,
    bindparam,
    delete,
    exists,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session as DBSession

from sessionary import listing
from sessionary.conversations.models import Conversation
from sessionary.conversations.schemas import ConversationProperties, ConversationRead
from sessionary.db import insert_for
from sessionary.eventlog.batch import SessionChange, StoredBatch
from sessionary.fastsql import FastSQL, is_sqlite, one_of
from sessionary.listing import Column, Kind, ListParams, Page
from sessionary.sessions.models import Session

# Conversation columns taken from its sessions' columns of the same name.
DERIVED_FIELDS = (
    "agent_id",
    "agent_name",
    "agent_type",
    "prompt_id",
    "prompt_name",
    "prompt_version",
    "llm_provider",
    "llm_model",
    "llm_version",
    "llm_temperature",
    "llm_seed",
    "is_legacy",
)
# A session change to any of these columns re-derives its conversation.
_TRIGGERS = frozenset({"conversation_id", "timestamp", *DERIVED_FIELDS})
_CHUNK = 400
_CONVERSATIONS = cast(Table, Conversation.__table__)
_SESSIONS = cast(Table, Session.__table__)
# A conversation's row as `_create` inserts it.
_WHOLE_COLUMNS = [
    _CONVERSATIONS.c[name] for name in ("organization_id", "conversation_id", "timestamp", *DERIVED_FIELDS)
]
_ON_KEY = " ON CONFLICT (organization_id, conversation_id) DO NOTHING"

COLUMNS: dict[str, Column] = {
    "timestamp": Column(Conversation.timestamp, Kind.DATETIME),
    "agent_type": Column(Conversation.agent_type, Kind.STRING),
    "agent_id": Column(Conversation.agent_id, Kind.NAME),
    "agent_name": Column(Conversation.agent_name, Kind.NAME),
    "prompt_id": Column(Conversation.prompt_id, Kind.NAME),
    "prompt_name": Column(Conversation.prompt_name, Kind.NAME),
    "llm_provider": Column(Conversation.llm_provider, Kind.STRING),
    "llm_model": Column(Conversation.llm_model, Kind.STRING),
    "llm_version": Column(Conversation.llm_version, Kind.STRING),
    "is_legacy": Column(Conversation.is_legacy, Kind.BOOLEAN),
}
assert set(COLUMNS) == {p.value for p in ConversationProperties}, (
    "every ConversationProperties value needs a column"
)
_ID = Column(Conversation.id, Kind.INTEGER)
# Keys syllable-sdk requires in every conversation: a `fields` projection keeps them.
_REQUIRED = {"timestamp", "conversation_id"}


def ensure_conversations(
    db: DBSession, *, organization_id: int, sessions: Iterable[tuple[str | None, datetime]]
) -> None:
    """Create the conversations named by these (conversation_id, session timestamp) pairs, if new."""
    first: dict[str, datetime] = {}
    for conversation_id, timestamp in sessions:
        if conversation_id is not None and (
            conversation_id not in first or timestamp < first[conversation_id]
        ):
            first[conversation_id] = timestamp
    if not first:
        return
    rows = [
        {"organization_id": organization_id, "conversation_id": cid, "timestamp": ts}
        for cid, ts in sorted(first.items())
    ]
    db.execute(
        insert_for(db, _CONVERSATIONS).on_conflict_do_nothing(
            index_elements=["organization_id", "conversation_id"]
        ),
        rows,
    )


def derive_from_ingest(db: DBSession, stored: StoredBatch) -> None:
    """The ingest's derivation: create the conversations its sessions name for the first time (or anew),
    whole where it can (`_create`), then re-derive those whose sessions changed a field they take, and
    those a session left."""
    organization_id = stored.organization_id
    named = {
        s.conversation_id
        for s in stored.sessions
        if "conversation_id" in s.changed and s.conversation_id is not None
    }
    whole = _create(db, organization_id, stored.sessions, named)
    touched = {
        conversation_id
        for session in stored.sessions
        if not _TRIGGERS.isdisjoint(session.changed)
        for conversation_id in (session.conversation_id, session.previous_conversation_id)
        if conversation_id is not None and conversation_id not in whole
    }
    derive(db, organization_id=organization_id, conversation_ids=sorted(touched))


def _create(
    db: DBSession, organization_id: int, sessions: Sequence[SessionChange], named: set[str]
) -> set[str]:
    """Create the conversations `named` that are not stored yet, in one INSERT in key order (as `derive`
    locks them: two batches never wait on each other's rows in opposite orders): whole, their fields
    computed here by the rule (`whole_values`), where it can, else dated only (`derive` fills them in).
    Returns those created whole and proven to have no session but the batch's: their rows are final.

    Proven by counting the sessions that name each one once its row is inserted: a concurrent writer's
    session naming it either came first (its committed row makes this insert conflict: fewer rows
    inserted than meant, and all are re-derived) or comes after (its own insert of the row waits for this
    transaction, conflicts, and re-derives it then)."""
    if not named:
        return set()
    raw = FastSQL(db)
    of: dict[str, list[SessionChange]] = {}
    for session in sessions:
        cid = session.conversation_id
        if cid is not None and cid in named:
            of.setdefault(cid, []).append(session)
    stored = _stored_ids(raw, organization_id, sorted(of))
    missing = [cid for cid in sorted(of) if cid not in stored]
    whole = {cid: values for cid in missing if (values := whole_values(of[cid]))}
    rows = {cid: whole.get(cid) or _dated(of[cid]) for cid in missing}
    if not rows:
        return set()
    if not _insert(raw, organization_id, rows) or not whole:
        return set()  # (when not every row went in: a concurrent writer created one meanwhile)
    counts = _session_counts(raw, organization_id, list(whole))
    return {cid for cid in whole if counts.get(cid) == len(of[cid])}


def _dated(sessions: Sequence[SessionChange]) -> dict[str, Any]:
    """The row of a conversation to be derived: its start, no field yet."""
    return {"timestamp": min([s.timestamp for s in sessions]), **dict.fromkeys(DERIVED_FIELDS)}


def _insert(raw: FastSQL, organization_id: int, rows: dict[str, dict[str, Any]]) -> bool:
    """Insert these conversations (id -> start and fields) unless stored; whether every one went in."""
    converted = [(n, c) for n, c in enumerate(raw.writers(_WHOLE_COLUMNS)) if c is not None]
    values = []
    for cid, row in rows.items():
        value = [organization_id, cid, *row.values()]
        for n, convert in converted:  # the columns with a driver form (the start)
            value[n] = convert(value[n])
        values.append(tuple(value))
    return raw.insert_select("INSERT INTO conversation", _WHOLE_COLUMNS, values, _ON_KEY) == len(values)


def whole_values(sessions: Sequence[SessionChange]) -> dict[str, Any] | None:
    """The derived columns of a conversation whose sessions are these, by the rule `_derived_values`
    applies in SQL; None when two of them start at the same moment (the tie goes to the greater key in
    the database's collation, which SQL alone knows)."""
    newest_first = sorted(sessions, key=attrgetter("timestamp"), reverse=True)
    if len({s.timestamp for s in newest_first}) != len(newest_first):
        return None
    columns = [session.columns for session in newest_first]
    values: dict[str, Any] = {"timestamp": newest_first[-1].timestamp}
    for name in DERIVED_FIELDS:
        value = None
        for session in columns:
            if (value := session[name]) is not None:
                break
        values[name] = value
    return values


def _stored_ids(raw: FastSQL, organization_id: int, conversation_ids: list[str]) -> set[str]:
    """Those of these conversations that have a row."""
    condition, params = raw.any_of("conversation_id", conversation_ids, "varchar")
    rows = raw.execute(
        f"SELECT conversation_id FROM conversation WHERE organization_id = ? AND {condition}",
        (organization_id, *params),
    )
    return {row[0] for row in rows}


def _session_counts(raw: FastSQL, organization_id: int, conversation_ids: list[str]) -> dict[str, int]:
    """How many sessions name each of these conversations (those named by none are left out)."""
    condition, params = raw.any_of("conversation_id", conversation_ids, "varchar")
    rows = raw.execute(
        f"SELECT conversation_id, count(*) FROM session WHERE organization_id = ? AND {condition}"
        " GROUP BY conversation_id",
        (organization_id, *params),
    )
    return {row[0]: int(row[1]) for row in rows}


def derive(db: DBSession, *, organization_id: int, conversation_ids: list[str]) -> None:
    """Recompute these conversations from their sessions: lock them (key order), create the ones a
    concurrent writer deleted, UPDATE them in one statement per chunk, delete those without sessions."""
    for start in range(0, len(conversation_ids), _CHUNK):
        chunk = conversation_ids[start : start + _CHUNK]
        wanted = (_CONVERSATIONS.c.organization_id == organization_id) & one_of(
            db, _CONVERSATIONS.c.conversation_id, chunk
        )
        locked = (
            select(_CONVERSATIONS.c.conversation_id).where(wanted).order_by(_CONVERSATIONS.c.conversation_id)
        )
        found = set(db.scalars(locked.with_for_update()))
        _recreate(db, organization_id, [cid for cid in chunk if cid not in found])
        has_sessions = exists().where(_of_conversation(organization_id))
        if is_sqlite(db):
            db.execute(
                update(_CONVERSATIONS).where(wanted, has_sessions).values(_derived_values(organization_id))
            )
        else:
            db.execute(_DERIVE_GROUPED, {"organization_id": organization_id, "ids": chunk})
        db.execute(delete(_CONVERSATIONS).where(wanted, ~has_sessions))


def _recreate(db: DBSession, organization_id: int, conversation_ids: list[str]) -> None:
    """Conversation rows for ids that sessions still name (UPDATE then sets their timestamp)."""
    named = select(_SESSIONS.c.conversation_id, func.min(_SESSIONS.c.timestamp)).where(
        _SESSIONS.c.organization_id == organization_id,
        one_of(db, _SESSIONS.c.conversation_id, conversation_ids),
    )
    if conversation_ids:
        rows = db.execute(named.group_by(_SESSIONS.c.conversation_id)).all()
        ensure_conversations(db, organization_id=organization_id, sessions=[(r[0], r[1]) for r in rows])


def _of_conversation(organization_id: int) -> ColumnElement[bool]:
    """Sessions of the conversation row being updated (correlated)."""
    return (_SESSIONS.c.organization_id == organization_id) & (
        _SESSIONS.c.conversation_id == _CONVERSATIONS.c.conversation_id
    )


def _derived_values(organization_id: int) -> dict[str, Any]:
    """SET clauses: the earliest start, and per field the latest-started session's non-NULL value."""
    sessions = _of_conversation(organization_id)
    newest_first = (
        _SESSIONS.c.timestamp.desc(),
        _SESSIONS.c.channel_manager_service.desc(),
        _SESSIONS.c.channel_manager_sid.desc(),
    )
    values: dict[str, Any] = {
        "timestamp": select(func.min(_SESSIONS.c.timestamp)).where(sessions).scalar_subquery()
    }
    for name in DERIVED_FIELDS:
        column = _SESSIONS.c[name]
        latest = select(column).where(sessions, column.is_not(None)).order_by(*newest_first).limit(1)
        values[name] = latest.scalar_subquery()
    return values


# PostgreSQL: the same rule as `_derived_values` in one pass over each conversation's sessions (one index
# scan, LATERAL: a plan that holds with or without statistics), each field the first non-NULL value newest
# first (array_agg ... FILTER, [1]), instead of 13 correlated subqueries per conversation (issue 16: the
# ingest's second costliest statement on PostgreSQL).
_NEWEST_FIRST = "timestamp DESC, channel_manager_service DESC, channel_manager_sid DESC"
_DERIVE_GROUPED = text(
    "UPDATE conversation SET timestamp = d.timestamp, "
    + ", ".join(f"{name} = d.{name}" for name in DERIVED_FIELDS)
    + " FROM unnest(CAST(:ids AS varchar[])) AS w(conversation_id) CROSS JOIN LATERAL"
    " (SELECT count(*) AS sessions, min(timestamp) AS timestamp, "
    + ", ".join(
        f"(array_agg({name} ORDER BY {_NEWEST_FIRST}) FILTER (WHERE {name} IS NOT NULL))[1] AS {name}"
        for name in DERIVED_FIELDS
    )
    + " FROM session WHERE organization_id = :organization_id AND conversation_id = w.conversation_id) AS d"
    " WHERE d.sessions > 0 AND conversation.organization_id = :organization_id"
    " AND conversation.conversation_id = w.conversation_id"
).bindparams(bindparam("ids", type_=ARRAY(String)))

_LISTING = listing.Listing(Conversation, Conversation.organization_id, COLUMNS, _ID)


def list_conversations(db: DBSession, *, organization_id: int, params: ListParams) -> Page[Conversation]:
    """One page of the organization's conversations, filtered and ordered as `params` say (newest first)."""
    return _LISTING.page(db, organization_id=organization_id, params=params)


def to_read(conversation: Conversation, fields: list[str] | None = None) -> ConversationRead:
    """The wire form; with `fields`, the optional keys not named are left out (required ones never are)."""
    values: dict[str, Any] = {name: getattr(conversation, name) for name in DERIVED_FIELDS}
    values.update(timestamp=conversation.timestamp, conversation_id=conversation.conversation_id)
    return listing.wire_form(ConversationRead, values, fields, _REQUIRED)
