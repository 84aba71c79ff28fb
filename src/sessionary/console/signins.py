"""Server-side console sessions (the console package owns table console_session).

Sign-in stores the SHA-256 of a random id and puts the id in the signed cookie; every page looks it up,
so sign-out (a delete) ends the session for every copy of the cookie, at once and in every process.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session as DBSession

from sessionary.console.models import ConsoleSession
from sessionary.db_types import utcnow
from sessionary.tenancy import service as tenancy


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(db: DBSession, *, api_key_id: int, hours: int) -> str:
    """A new console session for the key; returns the id to keep in the cookie (never stored)."""
    now = utcnow()
    db.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    db.add(
        ConsoleSession(
            id_hash=_hash(session_id),
            api_key_id=api_key_id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    db.flush()
    return session_id


def principal(db: DBSession, *, session_id: str) -> tuple[int, tenancy.Principal] | None:
    """The key id and principal of a live console session; None when it ended, expired or its key was
    revoked (a deleted key took its console sessions with it)."""
    key_id = db.scalar(
        select(ConsoleSession.api_key_id).where(
            ConsoleSession.id_hash == _hash(session_id), ConsoleSession.expires_at > utcnow()
        )
    )
    if key_id is None:
        return None
    found = tenancy.principal_for_key_id(db, key_id=key_id)
    return None if found is None else (key_id, found)


def end(db: DBSession, *, session_id: str) -> None:
    """Sign-out: the session is gone for every copy of its cookie."""
    db.execute(delete(ConsoleSession).where(ConsoleSession.id_hash == _hash(session_id)))


def end_all(db: DBSession) -> int:
    """Every console session ends (secret rotation); returns how many there were."""
    result = cast(CursorResult[Any], db.execute(delete(ConsoleSession)))
    return result.rowcount
