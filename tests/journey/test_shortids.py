"""shortIds in a crowded organization: a taken number is followed by the first free one among the rest of
the holder's tries (one read), and after 20 taken numbers in a row the length grows by one digit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.journey.models import ShortIdClaim
from sessionary.journey.store import shortids
from sessionary.journey.store.shortids import Wanted
from tests.conftest import Org


def _hold(database: Database, organization_id: int, numbers: list[str]) -> None:
    """Open sessions of other holders hold these numbers for an hour."""
    until = utcnow() + timedelta(hours=1)
    rows = [
        {"organization_id": organization_id, "short_id": n, "session_uuid": f"other-{n}", "expires_at": until}
        for n in numbers
    ]
    with session_scope(database.writer) as db:
        db.execute(insert(ShortIdClaim), rows)


def _assign(database: Database, organization_id: int, holders: list[str]) -> dict[str, str]:
    now = utcnow()
    wanted = [Wanted(holder, None, 4, now + timedelta(minutes=20)) for holder in holders]
    with session_scope(database.writer) as db:
        return shortids.assign(db, organization_id, wanted, now)


def _holders_of(database: Database, organization_id: int, numbers: set[str]) -> dict[str, str]:
    with session_scope(database.reader) as db:
        rows = db.execute(
            select(ShortIdClaim.short_id, ShortIdClaim.session_uuid).where(
                ShortIdClaim.organization_id == organization_id, ShortIdClaim.short_id.in_(numbers)
            )
        )
        return {row.short_id: row.session_uuid for row in rows}


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The numbers shortids draws, in order (a list the test fills); random ones once it is empty."""
    script: list[str] = []
    draw = shortids._random
    monkeypatch.setattr(shortids, "_random", lambda length: script.pop(0) if script else draw(length))
    return script


def test_a_taken_number_is_followed_by_the_first_free_one_of_the_rest_of_the_tries(
    database: Database, org: Org, scripted: list[str]
) -> None:
    _hold(database, org.id, ["1000", "1001", "1002"])
    # the first try (taken), then the other 19 tries drawn at once: two taken, then free ones
    scripted.extend(["1000", "1001", "1002", "1003", "1004", *["1005"] * 15])
    assert _assign(database, org.id, ["me"]) == {"me": "1003"}
    assert _holders_of(database, org.id, {"1003", "1004"}) == {"1003": "me"}


def test_after_twenty_taken_numbers_in_a_row_the_length_grows_by_one_digit(
    database: Database, org: Org, scripted: list[str]
) -> None:
    _hold(database, org.id, [str(n) for n in range(1000, 1020)])
    scripted.extend([str(n) for n in range(1000, 1020)] + ["12345"])
    assert _assign(database, org.id, ["me"]) == {"me": "12345"}


def test_when_every_four_digit_number_is_held_new_sessions_get_distinct_free_five_digit_ones(
    database: Database, org: Org
) -> None:
    _hold(database, org.id, [str(n) for n in range(1000, 10000)])
    got = _assign(database, org.id, [f"new-{i}" for i in range(40)])
    assert all(len(number) == 5 for number in got.values())
    assert len(set(got.values())) == 40
    assert _holders_of(database, org.id, set(got.values())) == {n: h for h, n in got.items()}
