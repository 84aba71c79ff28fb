"""Deletions while ingest adds events to other sessions of the same conversation: no deadlock (PostgreSQL:
both lock sessions in key order, then conversations), no error, and every ingested event kept."""

from __future__ import annotations

import threading

import httpx

from tests.conftest import Org
from tests.console.data import session_ids
from tests.helpers import event, ingest_ok, post_events

ROUNDS = 30


def _started(sid: str, n: int) -> dict[str, object]:
    data = {"conversation_id": "shared", "agent_name": f"agent-{n % 3}"}
    return event(f"{sid}-s", "session.started", sid=sid, data=data)


def test_deleting_sessions_while_ingest_writes_their_neighbours_fails_neither(
    client: httpx.Client, org: Org
) -> None:
    doomed = [f"d{n:02d}" for n in range(ROUNDS)]
    living = [f"l{n:02d}" for n in range(6)]
    ingest_ok(client, org.ingest, [_started(sid, n) for n, sid in enumerate(doomed + living)])
    ids = session_ids(client, org.read)
    statuses: list[int] = []

    def ingest() -> None:
        with httpx.Client(base_url=str(client.base_url), timeout=60) as http:
            for n in range(ROUNDS):  # each batch touches every living session, in no particular order
                batch = [event(f"{sid}-t{n}", sid=sid) for sid in reversed(living) if n % 2 or sid < "l03"]
                statuses.append(post_events(http, org.ingest, batch).status_code)

    writer = threading.Thread(target=ingest)
    writer.start()
    deleted = [
        client.delete(f"/api/v1/sessions/{ids[sid]}", headers=org.headers()).status_code for sid in doomed
    ]
    writer.join(timeout=120)
    assert not writer.is_alive()
    assert deleted == [204] * ROUNDS
    assert statuses == [200] * ROUNDS
    assert sorted(session_ids(client, org.read)) == living
    conversations = client.get("/api/v1/conversations/", headers=org.headers("read")).json()["items"]
    assert [c["conversation_id"] for c in conversations] == ["shared"]
