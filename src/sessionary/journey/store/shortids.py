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
    session took it meanwhile. One upsert per round for the whole batch; a holder whose number was found
    taken tries next the first number not held among the rest of its tries (`_next_candidates`), so a
    round beyond the second is rare."""
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
        for holder in [h for h in todo if h in won]:
            result[holder] = todo.pop(holder)
        for holder in todo:
            tries[holder] += 1
        _next_candidates(db, organization_id, todo, by_holder, tries, now)
        for holder in [h for h in todo if _size(by_holder[h], tries[h]) > 6]:
            # a million open sessions: give up on uniqueness rather than on the event
            result[holder] = _random(6)
            del todo[holder]
    return result


def _size(want: Wanted, tries: int) -> int:
    return want.length + tries // _TRIES_PER_LENGTH


def _next_candidates(
    db: DBSession,
    organization_id: int,
    todo: dict[str, str],
    by_holder: dict[str, Wanted],
    tries: dict[str, int],
    now: datetime,
) -> None:
    """For each holder whose number was taken: the rest of its tries at its length drawn at once, and the
    first that no open session holds becomes its next candidate (each taken one counts as a try; all
    taken: one digit more). One read instead of a round of the upsert per try: in a crowded organization
    (most 4-digit numbers held) a batch took 20 rounds."""
    drawn: dict[str, list[str]] = {}
    for holder in todo:
        size, left = (
            _size(by_holder[holder], tries[holder]),
            _TRIES_PER_LENGTH - tries[holder] % _TRIES_PER_LENGTH,
        )
        drawn[holder] = [_random(size) for _ in range(left)]
    held = _held(db, organization_id, {number for numbers in drawn.values() for number in numbers}, now)
    picked: set[str] = set()
    for holder, numbers in drawn.items():
        for number in numbers:
            if number not in held and number not in picked:
                todo[holder] = number
                picked.add(number)
                break
            tries[holder] += 1
        else:
            todo[holder] = _random(_size(by_holder[holder], tries[holder]))


def _held(db: DBSession, organization_id: int, numbers: set[str], now: datetime) -> set[str]:
    """Which of these numbers an open session of the organization holds."""
    raw = FastSQL(db)
    ordered, held = sorted(numbers), set[str]()
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        sql = (
            "SELECT short_id FROM journey_short_id WHERE organization_id = ? AND expires_at > ?"
            f" AND short_id IN ({raw.marks(len(chunk))})"
        )
        held.update(str(row[0]) for row in raw.execute(sql, (organization_id, raw.when(now), *chunk)))
    return held


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
    items = sorted(todo.items(), key=lambda item: item[1])  # in number order: no deadlock between writers
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
