"""Delete sessions and everything made from them, in the caller's transaction.

The one entry point for every deletion: a session deleted by id, a person's sessions erased, sessions past
their retention period purged. Each table's owner deletes its own rows (or its foreign key's ON DELETE
CASCADE does; `coverage.py` names how each table holding a session, customer or contact goes); blobs are
deleted after the commit by whoever commits (`Deleted.blob_keys`), and retried by the purge worker until gone.

Locks are taken in the order the writers take them, so a deletion never deadlocks with ingest on
PostgreSQL: OTLP traces (in trace-id order, before their sessions, as OTLP ingest), journey customers
(before their sessions, as the journey write path), then sessions in key order (as ingest), then rollup
rows and conversations (as ingest's derivations). Every step is a few statements per batch, whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DBSession

from sessionary.audit import service as audit
from sessionary.conversations import service as conversations
from sessionary.errors import NotFound
from sessionary.eventlog.models import Event
from sessionary.journey.store import deletion as journey
from sessionary.metrics import rollup
from sessionary.otel import store as otel
from sessionary.recordings import blobgc
from sessionary.recordings import service as recordings
from sessionary.sessions import service as sessions
from sessionary.sessions import store as sessions_store

_CHUNK = 400  # ids per IN list


@dataclass
class Deleted:
    """What a deletion removed: counts per kind, and the blobs to delete once the transaction commits."""

    sessions: int = 0
    events: int = 0
    recordings: int = 0
    blob_keys: list[str] = field(default_factory=list)
    journey_events: int = 0  # web/app events of the deleted journey sessions' windows
    customers: int = 0  # journey customers left with no session, deleted too

    def counts(self) -> dict[str, int]:
        """The counts (no key, no id): what an answer or an audit entry may show."""
        return {
            "sessions": self.sessions,
            "events": self.events,
            "recordings": self.recordings,
            "journey_events": self.journey_events,
            "customers": self.customers,
        }


def delete_sessions(
    db: DBSession, *, organization_id: int, session_ids: Sequence[int], keep_figures: bool = False
) -> Deleted:
    """Delete these sessions of the organization (ids of other organizations are ignored).

    `keep_figures`: their share of the metric rollups stays (retention purges); otherwise it leaves them.
    """
    locked = _lock(db, organization_id, session_ids)
    ids = sorted(row_id for row_id, _, _ in locked)
    if not ids:
        return Deleted()
    done = Deleted(sessions=len(ids), events=_event_count(db, ids))
    rollup.withdraw_sessions(db, organization_id=organization_id, session_ids=ids, keep_figures=keep_figures)
    done.blob_keys = recordings.blob_keys_of(db, session_ids=ids)
    done.recordings = len(done.blob_keys)
    blobgc.queue(db, done.blob_keys)
    forgotten = journey.forget_windows(db, organization_id=organization_id, session_ids=ids)
    done.journey_events = forgotten.events
    # The rest goes with the session rows (ON DELETE CASCADE): events (and, on SQLite, their search index
    # entries, by the index's triggers), notable events, labels, analysis and summaries, journey_session,
    # recording rows and fetch jobs.
    sessions_store.delete(db, ids)
    done.customers = journey.drop_empty_customers(db, customer_ids=forgotten.customer_ids)
    named = sorted({cid for _, _, cid in locked if cid is not None})
    conversations.derive(db, organization_id=organization_id, conversation_ids=named)
    return done


def _lock(
    db: DBSession, organization_id: int, session_ids: Sequence[int]
) -> list[tuple[int, sessions_store.SessionKey, str | None]]:
    """Delete the traces naming the sessions, then lock their journey customers and the sessions (in key
    order), in the order the writers take them; the organization's sessions as (id, key, conversation)."""
    keyed = sessions_store.keys_of(db, organization_id=organization_id, ids=session_ids)
    if not keyed:
        return []
    otel.forget_sessions(db, organization_id=organization_id, keys=[key for _, key in keyed])
    in_key_order = [row_id for row_id, _ in keyed]
    customers = journey.customers_of(db, organization_id=organization_id, session_ids=in_key_order)
    journey.lock_customers(db, customer_ids=customers)
    return sessions_store.lock_ids(db, organization_id=organization_id, ids=in_key_order)


def delete_session(db: DBSession, *, actor: audit.Actor, session_id: str) -> Deleted:
    """Delete one session of the actor's organization by its id (NotFound as GET /sessions/{id} answers it:
    unknown, another organization's, not an id) and record it in the audit trail, counts only."""
    session = sessions.get_session(db, organization_id=actor.organization_id, session_id=session_id)
    done = delete_sessions(db, organization_id=actor.organization_id, session_ids=[session.id])
    if not done.sessions:  # deleted meanwhile, by another request
        raise NotFound(f"Session {session_id} not found")
    audit.record(db, actor=actor, action="session.deleted", target=str(session.id), details=done.counts())
    return done


def _event_count(db: DBSession, ids: list[int]) -> int:
    """How many events these sessions hold (one index range per session)."""
    total = 0
    for start in range(0, len(ids), _CHUNK):
        stmt = select(func.count()).where(Event.session_id.in_(ids[start : start + _CHUNK]))
        total += db.scalar(stmt) or 0
    return total
