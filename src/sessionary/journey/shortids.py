"""shortId: a 4-6 digit number unique among the organization's open sessions.

A session holds its shortId through a row in `journey_short_id` that expires when the session would time
out; taking a number is one INSERT ... ON CONFLICT DO UPDATE ... WHERE the holder has expired, so two
processes can never hand out the same number to two open sessions. After 20 taken numbers in a row the
length grows by one digit (up to 6). A session that is already over when written (an import of old
events) gets a number without holding it.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, or_
from sqlalchemy.orm import Session as DBSession

from sessionary.db import insert_for
from sessionary.journey.models import ShortIdClaim

_CLAIMS = cast(Table, ShortIdClaim.__table__)
_TRIES_PER_LENGTH = 20


def _random(length: int) -> str:
    return str(10 ** (length - 1) + secrets.randbelow(9 * 10 ** (length - 1)))


def _take(
    db: DBSession, organization_id: int, short_id: str, holder: str, until: datetime, now: datetime
) -> bool:
    row = {
        "organization_id": organization_id,
        "short_id": short_id,
        "session_uuid": holder,
        "expires_at": until,
    }
    stmt = insert_for(db, _CLAIMS)
    stmt = stmt.on_conflict_do_update(
        index_elements=["organization_id", "short_id"],
        set_={"session_uuid": stmt.excluded.session_uuid, "expires_at": stmt.excluded.expires_at},
        where=or_(_CLAIMS.c.expires_at <= now, _CLAIMS.c.session_uuid == stmt.excluded.session_uuid),
    ).returning(_CLAIMS.c.short_id)
    return db.execute(stmt, row).first() is not None  # a row comes back only if inserted or taken over


def claim(
    db: DBSession, organization_id: int, holder: str, length: int, until: datetime, now: datetime
) -> str:
    """A free shortId for session `holder`, held until `until`."""
    if until <= now:
        return _random(length)
    for size in range(length, 7):
        for _ in range(_TRIES_PER_LENGTH):
            candidate = _random(size)
            if _take(db, organization_id, candidate, holder, until, now):
                return candidate
    return _random(6)  # a million open sessions: give up on uniqueness rather than on the event


def keep(
    db: DBSession,
    organization_id: int,
    holder: str,
    short_id: str,
    length: int,
    until: datetime,
    now: datetime,
) -> str:
    """Extend the session's hold on its shortId (a new number if another open session took it meanwhile)."""
    if until <= now or _take(db, organization_id, short_id, holder, until, now):
        return short_id
    return claim(db, organization_id, holder, length, until, now)


def release(db: DBSession, organization_id: int, holders: Sequence[str]) -> None:
    """Free the numbers of sessions that no longer exist."""
    if holders:
        db.execute(
            delete(_CLAIMS).where(
                _CLAIMS.c.organization_id == organization_id, _CLAIMS.c.session_uuid.in_(holders)
            )
        )
