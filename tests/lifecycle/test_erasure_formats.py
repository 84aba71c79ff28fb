"""Which sessions a phone or an email names: every stored format of the same number (E.164 compared, the
national number's digits prefiltered by the database), never another number that shares its digits."""

from __future__ import annotations

import httpx
import pytest

from sessionary.db import Database, session_scope
from sessionary.errors import Conflict
from sessionary.lifecycle import erasure_scan
from tests.conftest import Org
from tests.helpers import event, ingest_ok, list_sessions

SAME = [
    "+1 (804) 555-0101",
    "8045550101",
    "tel:+18045550101",
    "+18045550101",
    "sip:+18045550101@pbx.example.com;user=phone",
    "1-804-555-0101",
    "  804.555.0101 ",
]
OTHERS = [
    "+18045550102",  # another number
    "+448045550101",  # the same digits in another country
    "+1 804 555 01019",  # one digit more
    "18045550101999",
    "ann@example.com",
    "order 8045550101-77",  # digits inside text that is no phone number
]


def _calls(
    client: httpx.Client, org: Org, sources: list[str], prefix: str, *, as_target: bool = False
) -> dict[str, str]:
    """One call per value (as its source, or its target); channel_manager_sid -> the value."""
    made: dict[str, str] = {}
    events = []
    for n, value in enumerate(sources):
        sid = f"{prefix}-{n}"
        field = {"target": value, "source": "+18005550100"} if as_target else {"source": value}
        events.append(
            event(
                f"{sid}-s", "session.started", sid=sid, data={"channel_manager_type": "voice_sip_v1", **field}
            )
        )
        made[sid] = value
    ingest_ok(client, org.ingest, events)
    return made


def _left(client: httpx.Client, org: Org) -> set[str]:
    return {item["channel_manager_sid"] for item in list_sessions(client, org.read, limit=100)["items"]}


def test_a_phone_erases_every_stored_format_of_the_number_and_no_other_number(
    client: httpx.Client, org: Org
) -> None:
    same = {**_calls(client, org, SAME, "s"), **_calls(client, org, SAME[:2], "t", as_target=True)}
    others = _calls(client, org, OTHERS, "o")
    response = client.post("/api/v1/erasure", json={"phone": "(804) 555-0101"}, headers=org.headers())
    assert response.status_code == 200, response.text
    assert response.json()["sessions"]["voice"] == len(same)
    assert _left(client, org) == set(others)


def test_an_email_erases_its_sessions_whatever_their_case(client: httpx.Client, org: Org) -> None:
    mine = _calls(client, org, ["Ann@Example.com", " ANN@EXAMPLE.COM"], "m")
    theirs = {"o-1": "anne@example.com", "o-2": "ann@example.co"}
    chats = [
        event(f"{sid}-s", "session.started", sid=sid, data={"channel_manager_type": "web_chat", "source": v})
        for sid, v in theirs.items()
    ]
    ingest_ok(client, org.ingest, chats)
    response = client.post("/api/v1/erasure", json={"email": "ann@EXAMPLE.com"}, headers=org.headers())
    assert response.status_code == 200, response.text
    assert response.json()["sessions"]["voice"] == len(mine)
    assert _left(client, org) == set(theirs)


def test_the_scan_stops_as_soon_as_it_finds_more_than_its_cap(
    client: httpx.Client, database: Database, org: Org
) -> None:
    _calls(client, org, SAME[:3], "s")
    with session_scope(database.reader) as db:
        found = erasure_scan.sessions_named(
            db, organization_id=org.id, phones=["+18045550101"], emails=[], region="US", cap=3
        )
        assert len(found) == 3
        with pytest.raises(Conflict, match="sessionary erase"):
            erasure_scan.sessions_named(
                db, organization_id=org.id, phones=["+18045550101"], emails=[], region="US", cap=2
            )


def test_a_stored_national_number_is_read_in_the_configured_region(
    client: httpx.Client, database: Database, org: Org
) -> None:
    _calls(client, org, ["06 12 34 56 78", "sips:0612345678@pbx;user=phone"], "fr")
    with session_scope(database.reader) as db:
        found = {
            region: erasure_scan.sessions_named(
                db, organization_id=org.id, phones=["+33612345678"], emails=[], region=region
            )
            for region in ("FR", "US")
        }
    assert (len(found["FR"]), found["US"]) == (2, [])
