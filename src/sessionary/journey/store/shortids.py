"""shortId: a 4-6 digit number unique among the organization's open sessions.

A session holds its shortId through a row in `journey_short_id` that expires when the session would time
out; taking numbers is one multi-row INSERT ... ON CONFLICT DO UPDATE ... WHERE the holder has expired
per batch, so two processes can never hand out the same number to two open sessions. After 20 taken
numbers in a row the length grows by one digit (up to 6). A session that is already over when written
(an import of old events) gets a number without holding it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete
from sqlalchemy.orm import Session as DBSession

from sessionary.fastsql import FastSQL
from sessionary.journey import ids
from sessionary.journey.models import ShortIdClaim

_CLAIMS = cast(Table, ShortIdClaim.__table__)
_TRIES_PER_LENGTH = 20
_CHUNK = 500  # rows per upsert (4 parameters each)
# A row comes back only for a number inserted, taken over from an expired holder, or extended by its own.
_TAKE = (
    "INSERT INTO journey_short_id (organization_id, short_id, session_uuid, expires_at) VALUES {values}"
    " ON CONFLICT (organization_id, short_id) DO UPDATE"
    " SET session_uuid = excluded.session_uuid, expires_at = excluded.expires_at"
    " WHERE journey_short_id.expires_at <= ? OR journey_short_id.session_uuid = excluded.session_uuid"
    " RETURNING session_uuid"
)


def _random(length: int) -> str:
    return str(10 ** (length - 1) + ids.randbelow(9 * 10 ** (length - 1)))


@dataclass(frozen=True)
class Wanted:
    """A session that needs its shortId held until `until`: a new one (`current` None) or a kept one."""

    holder: str  # the session's UUID
    current: str | None
    length: int
    until: datetime


def assign(db: DBSession, organization_id: int, wanted: Sequence[Wanted], now: datetime) -> dict[str, str]:
    """Each session's shortId (holder -> number): a kept session keeps its number unless another open
    session took it meanwhile. One upsert per round for the whole batch; only numbers found taken are
    tried again, so a round beyond the first is rare."""
    result: dict[str, str] = {}
    todo: dict[str, str] = {}  # holder -> candidate of this round
    tries: dict[str, int] = {}
    for want in wanted:
        if want.until <= now:  # already over: a number without holding it
            result[want.holder] = want.current or _random(want.length)
        else:
            todo[want.holder] = want.current or _random(want.length)
            tries[want.holder] = 0
    by_holder = {want.holder: want for want in wanted}
    while todo:
        _distinct(todo, by_holder, tries)
        won = _take_all(db, organization_id, todo, by_holder, now)
        for holder in list(todo):
            if holder in won:
                result[holder] = todo.pop(holder)
                continue
            tries[holder] += 1
            size = by_holder[holder].length + tries[holder] // _TRIES_PER_LENGTH
            if size > 6:  # a million open sessions: give up on uniqueness rather than on the event
                result[holder] = _random(6)
                del todo[holder]
            else:
                todo[holder] = _random(size)
    return result


def _distinct(todo: dict[str, str], by_holder: dict[str, Wanted], tries: dict[str, int]) -> None:
    """No two holders try the same number in one statement (PostgreSQL refuses that in one upsert)."""
    seen: set[str] = set()
    for holder, candidate in todo.items():
        while candidate in seen:
            size = min(6, by_holder[holder].length + tries[holder] // _TRIES_PER_LENGTH)
            candidate = _random(size)
        todo[holder] = candidate
        seen.add(candidate)


def _take_all(
    db: DBSession, organization_id: int, todo: dict[str, str], by_holder: dict[str, Wanted], now: datetime
) -> set[str]:
    """Take (or extend) each holder's candidate number where it is free or expired; the holders that won."""
    raw = FastSQL(db)
    won: set[str] = set()
    items = list(todo.items())
    for start in range(0, len(items), _CHUNK):
        chunk = items[start : start + _CHUNK]
        values = ", ".join(["(?, ?, ?, ?)"] * len(chunk))
        params = [
            value
            for holder, candidate in chunk
            for value in (organization_id, candidate, holder, raw.when(by_holder[holder].until))
        ]
        rows = raw.execute(_TAKE.format(values=values), (*params, raw.when(now)))
        won.update(str(row[0]) for row in rows)
    return won


def release(db: DBSession, organization_id: int, holders: Sequence[str]) -> None:
    """Free the numbers of sessions that no longer exist."""
    if holders:
        db.execute(
            delete(_CLAIMS).where(
                _CLAIMS.c.organization_id == organization_id, _CLAIMS.c.session_uuid.in_(holders)
            )
        )
