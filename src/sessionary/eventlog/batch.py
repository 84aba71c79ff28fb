"""What one native ingest transaction stored: the one value the ingest hands to its derivations.

Conversations, the analysis queue, notable events and the search index derive from a batch in the ingest's
own transaction, from the events it stored and from how their sessions changed. They read this value and
nothing of the ingest itself (its projection works on plain dicts of session columns), so none of them
imports `sessionary.ingest` and the ingest's internals can change without reaching them.

Built once per batch on the hot path: small slotted values around the objects the ingest already holds
(the validated events themselves, never copies of them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.orm import Session as DBSession

from sessionary.eventlog.schemas import EventIn
from sessionary.sessions.store import SessionKey


class StoredEvent(NamedTuple):
    """An event this transaction stored, with the id of its `event` row when the ingest knows it (SQLite:
    ids are allocated up front, fastsql.allocate_ids; None on PostgreSQL, where no derivation needs it, and
    when a race left the id unproven: look it up)."""

    event: EventIn
    row_id: int | None


class SessionChange(NamedTuple):
    """A session the batch gave new events: the columns derivations read, as they are after the batch,
    the names of the columns whose value the batch changed, and its events this transaction stored."""

    key: SessionKey
    id: int
    conversation_id: str | None
    previous_conversation_id: str | None  # before the batch: the conversation a session may have left
    timestamp: datetime
    ended_at: datetime | None
    changed: frozenset[str]
    events: tuple[EventIn, ...]  # in batch order
    # Its columns after the batch, by name: every one the projection reads (ingest.projection.READ_COLUMNS:
    # the session fields, start and end among them). Read only.
    columns: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """One ingest transaction's new events (in batch order; duplicates never appear) and their sessions
    (in the order of each one's first new event)."""

    organization_id: int
    events: tuple[StoredEvent, ...]
    sessions: tuple[SessionChange, ...]


# What every derivation exposes: it reads the batch and writes its own tables in the ingest's transaction.
Derivation = Callable[[DBSession, StoredBatch], None]
