"""Delete sessions and everything made from them, in the caller's transaction.

The one entry point for every deletion: a session deleted by id, a person's sessions erased, sessions past
their retention period purged. Each table's owner deletes its own rows (or its foreign key's ON DELETE
CASCADE does); blobs are deleted after the commit by whoever commits (`Deleted.blob_keys`), and retried by
the purge worker until gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session as DBSession

from sessionary.sessions import store as sessions_store


@dataclass
class Deleted:
    """What a deletion removed: counts per kind, and the blobs to delete once the transaction commits."""

    sessions: int = 0
    events: int = 0
    recordings: int = 0
    blob_keys: list[str] = field(default_factory=list)


def delete_sessions(
    db: DBSession, *, organization_id: int, session_ids: Sequence[int], keep_figures: bool = False
) -> Deleted:
    """Delete these sessions of the organization (ids of other organizations are ignored).

    `keep_figures`: their share of the metric rollups stays (retention purges); otherwise it leaves them.
    """
    ids = sorted(set(session_ids))
    sessions_store.delete(db, ids)
    return Deleted(sessions=len(ids))
