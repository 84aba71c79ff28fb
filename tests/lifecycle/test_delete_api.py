"""DELETE /api/v1/sessions/{session_id}: who may, which ids answer 404, the audit entry, ids never given
again, a re-sent event after a deletion, and `keep_figures` (a retention purge keeps past figures)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from sessionary.audit.models import AuditEntry
from sessionary.db import Database, session_scope
from sessionary.lifecycle import deletion
from tests.conftest import Org
from tests.console.data import call, session_ids
from tests.helpers import event, ingest_ok, list_sessions
from tests.lifecycle.data import METRICS_RANGE


def _delete(client: httpx.Client, session_id: str | int, headers: dict[str, str]) -> httpx.Response:
    return client.delete(f"/api/v1/sessions/{session_id}", headers=headers)


def _one_call(client: httpx.Client, org: Org, sid: str = "call-1", **kwargs: Any) -> str:
    ingest_ok(client, org.ingest, call(sid, **kwargs))
    return session_ids(client, org.read)[sid]


def test_a_read_or_ingest_key_gets_403_no_key_401_and_the_session_stays(
    client: httpx.Client, org: Org
) -> None:
    session_id = _one_call(client, org)
    assert _delete(client, session_id, org.headers("read")).status_code == 403
    assert _delete(client, session_id, org.headers("ingest")).status_code == 403
    assert _delete(client, session_id, {}).status_code == 401
    assert client.get(f"/api/v1/sessions/{session_id}", headers=org.headers("read")).status_code == 200


def test_another_organizations_session_is_404_and_stays(
    client: httpx.Client, org: Org, other_org: Org
) -> None:
    session_id = _one_call(client, other_org)
    response = _delete(client, session_id, org.headers())
    assert response.status_code == 404
    assert response.json() == {"detail": f"Session {session_id} not found"}
    assert client.get(f"/api/v1/sessions/{session_id}", headers=other_org.headers("read")).status_code == 200


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "1.0", "99999999999999999999", "%C2%B9", "１２"])
def test_an_id_that_is_no_session_id_answers_404_as_get_does(
    client: httpx.Client, org: Org, bad: str
) -> None:
    deleted = _delete(client, bad, org.headers())
    got = client.get(f"/api/v1/sessions/{bad}", headers=org.headers("read"))
    assert (deleted.status_code, got.status_code) == (404, 404)
    assert deleted.json() == got.json()


def test_the_deletion_answers_204_once_then_404_and_is_audited_with_counts_only(
    client: httpx.Client, database: Database, org: Org
) -> None:
    session_id = _one_call(client, org)
    first = _delete(client, session_id, org.headers())
    assert (first.status_code, first.content) == (204, b"")
    assert _delete(client, session_id, org.headers()).status_code == 404
    with session_scope(database.reader) as db:
        entries = list(db.scalars(select(AuditEntry).where(AuditEntry.organization_id == org.id)))
    assert [(e.action, e.target) for e in entries] == [("session.deleted", session_id)]
    entry = entries[0]
    assert entry.actor == org.admin[: len(entry.actor)]  # the key's clear prefix, never the key
    assert entry.details == {"sessions": 1, "events": 7, "recordings": 0, "journey_events": 0, "customers": 0}
    assert "+15550001" not in str(entry.details)  # the caller's number stays out of the trail


def test_a_deleted_sessions_id_is_never_given_to_a_new_session(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, [event(f"e{n}", "session.started", sid=f"s{n}") for n in range(3)])
    newest = max(int(i) for i in session_ids(client, org.read).values())
    assert _delete(client, newest, org.headers()).status_code == 204
    ingest_ok(client, org.ingest, [event("e9", "session.started", sid="s9")])
    assert int(session_ids(client, org.read)["s9"]) > newest


def test_events_sent_again_after_a_deletion_make_a_new_session_with_a_new_id(
    client: httpx.Client, org: Org
) -> None:
    session_id = _one_call(client, org)
    assert _delete(client, session_id, org.headers()).status_code == 204
    again = _one_call(client, org)
    assert int(again) > int(session_id)
    assert [s["session_id"] for s in list_sessions(client, org.read)["items"]] == [again]


def _metrics(client: httpx.Client, org: Org) -> dict[str, Any]:
    response = client.get("/api/v1/metrics", params=METRICS_RANGE, headers=org.headers("read"))
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["source"] == "rollup"
    return body


def test_keep_figures_keeps_a_purged_sessions_share_and_a_deletion_takes_it_out(
    client: httpx.Client, database: Database, org: Org
) -> None:
    ingest_ok(client, org.ingest, call("kept-1") + call("kept-2") + call("gone"))
    ids = session_ids(client, org.read)
    before = _metrics(client, org)
    assert before["totals"]["sessions"] == 3
    with session_scope(database.writer) as db:
        purged = deletion.delete_sessions(
            db,
            organization_id=org.id,
            session_ids=[int(ids["kept-1"]), int(ids["kept-2"])],
            keep_figures=True,
        )
    assert purged.sessions == 2
    assert _metrics(client, org) == before
    with session_scope(database.writer) as db:
        deletion.delete_sessions(db, organization_id=org.id, session_ids=[int(ids["gone"])])
    after = _metrics(client, org)
    assert after["totals"]["sessions"] == 2
    assert after["totals"]["tool_calls"] == before["totals"]["tool_calls"] - 1


def test_a_batch_larger_than_one_statements_chunk_deletes_only_the_organizations_sessions(
    client: httpx.Client, database: Database, org: Org, other_org: Org
) -> None:
    events = [event(f"b{n}", "transcript", sid=f"b{n}") for n in range(900)]
    ingest_ok(client, org.ingest, events)
    ingest_ok(client, other_org.ingest, [event("x", "transcript", sid="x")])
    mine = [int(i) for i in session_ids(client, org.read).values()]
    foreign = int(session_ids(client, other_org.read)["x"])
    with session_scope(database.writer) as db:
        done = deletion.delete_sessions(db, organization_id=org.id, session_ids=[*mine[:850], foreign])
    assert (done.sessions, done.events) == (850, 850)
    assert len(session_ids(client, org.read)) == 50
    assert list(session_ids(client, other_org.read)) == ["x"]
