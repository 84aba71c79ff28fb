"""Durability: a `sessionary serve` process killed with SIGKILL loses no acknowledged event, leaves no
half-stored batch, and after a restart counts every re-sent event as a duplicate."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import INGEST, event
from tests.system.processes import ServerProcess, create_key, serving
from tests.system.stored import Stored, read_stored

ORG = "crash-org"
SESSIONS = 10
BATCHES = 12
T0 = datetime(2024, 7, 1, 9, 0, tzinfo=UTC)


def _at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _batch(number: int, *, prefix: str, last: int) -> list[dict[str, Any]]:
    """Batch `number`: three events for each of the sessions; batch `last` ends them."""
    return [
        one for s in range(SESSIONS) for one in _session_events(f"{prefix}-call-{s:02d}", s, number, last)
    ]


def _session_events(sid: str, s: int, number: int, last: int) -> list[dict[str, Any]]:
    at = number * 10 + s

    def one(kind: str, type_: str, seconds: float, data: dict[str, Any] | None) -> dict[str, Any]:
        return event(f"{sid}-b{number:02d}-{kind}", type_, sid=sid, timestamp=_at(seconds), data=data)

    if number == 0:
        started = {
            "agent_name": "agent-00",
            "channel_manager_type": "voice_sip_v1",
            "is_outbound": s % 2 == 0,
        }
        first = one("start", "session.started", at, started)
    else:
        first = one("upd", "session.updated", at, {"agent_name": f"agent-{number:02d}"})
    said = one("say", "transcript", at + 1, {"source": "user", "text": f"batch {number}"})
    if number == last:
        return [first, said, one("end", "session.ended", at + 5, {"user_terminated": True})]
    return [first, said, one("lat", "latency", at + 2, None)]


def _post(http: httpx.Client, key: str, batch: list[dict[str, Any]]) -> httpx.Response:
    return http.post(INGEST, json={"events": batch}, headers={"Syllable-API-Key": key})


def _ids(batch: list[dict[str, Any]]) -> set[str]:
    return {one["event_id"] for one in batch}


def _assert_event_counts_match_the_log(stored: Stored) -> None:
    """Each session's event_count equals the number of events stored for it (no half-applied batch)."""
    for key, session in stored.sessions.items():
        assert session["event_count"] == stored.events_per_session.get(key, 0), key


def test_every_acknowledged_batch_survives_sigkill_right_after_the_last_ack(
    empty_database_url: str, tmp_path: Path
) -> None:
    key = create_key(empty_database_url, ORG, "ingest", "read")
    batches = [_batch(n, prefix="seq", last=BATCHES - 1) for n in range(BATCHES)]
    acked: set[str] = set()
    server = ServerProcess.start(empty_database_url, tmp_path / "before.log")
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for batch in batches:
                response = _post(http, key, batch)
                assert response.status_code == 200, response.text
                assert response.json() == {"inserted": len(batch), "duplicates": 0}
                acked |= _ids(batch)
        server.kill()  # right after the last acknowledgement
    finally:
        server.kill()
    assert server.process.returncode == -9

    stored = read_stored(empty_database_url, ORG)
    assert stored.event_ids() == acked
    assert len(stored.sessions) == SESSIONS
    for key_, session in stored.sessions.items():
        assert session["event_count"] == 3 * BATCHES == stored.events_per_session[key_]

    with serving(empty_database_url, tmp_path / "after.log") as restarted:
        with httpx.Client(base_url=restarted.url, timeout=60) as http:
            page = http.get("/api/v1/sessions/", params={"limit": 100}, headers={"Syllable-API-Key": key})
            assert page.status_code == 200, page.text
            body = page.json()
            assert body["total_count"] == SESSIONS
            for item in body["items"]:
                s = int(item["channel_manager_sid"].rsplit("-", 1)[1])
                assert item["agent_name"] == f"agent-{BATCHES - 1:02d}"
                assert item["is_outbound"] is (s % 2 == 0)
                assert item["user_terminated"] is True
                assert item["timestamp"] == _at(s)
                assert item["duration"] == float((BATCHES - 1) * 10 + 5)
            for batch in batches:
                again = _post(http, key, batch)
                assert again.status_code == 200, again.text
                assert again.json() == {"inserted": 0, "duplicates": len(batch)}
    assert read_stored(empty_database_url, ORG).event_ids() == acked


def _post_until_refused(
    url: str,
    key: str,
    batches: list[tuple[int, list[dict[str, Any]]]],
    acks: list[int],
    enough: threading.Event,
    at: int,
) -> None:
    """Post the (index, batch) pairs in order; record each acknowledged index (and set `enough` once `at`
    are acknowledged); stop at the first failure."""
    with httpx.Client(base_url=url, timeout=60) as http:
        for index, batch in batches:
            try:
                response = _post(http, key, batch)
            except httpx.TransportError:
                return
            if response.status_code != 200:
                return
            acks.append(index)
            if len(acks) >= at:
                enough.set()


def test_sigkill_during_concurrent_ingest_keeps_acked_batches_and_no_partial_batch(
    empty_database_url: str, tmp_path: Path
) -> None:
    key = create_key(empty_database_url, ORG, "ingest", "read")
    # Four producers, each with its own sessions, plus shared sessions every producer writes to.
    batches = [_batch(n, prefix=f"p{p}", last=BATCHES - 1) for p in range(4) for n in range(BATCHES)]
    shared = [_batch(n, prefix="shared", last=BATCHES - 1) for n in range(BATCHES)]
    for n, batch in enumerate(shared):
        batches[(n % 4) * BATCHES + n] = batches[(n % 4) * BATCHES + n] + batch
    per_producer = [[(i, batches[i]) for i in range(p * BATCHES, (p + 1) * BATCHES)] for p in range(4)]
    acks: list[int] = []
    enough = threading.Event()
    server = ServerProcess.start(empty_database_url, tmp_path / "before.log")
    try:
        producers = [
            threading.Thread(target=_post_until_refused, args=(server.url, key, mine, acks, enough, 20))
            for mine in per_producer
        ]
        for producer in producers:
            producer.start()
        enough.wait(timeout=120)
        server.kill()
        for producer in producers:
            producer.join(timeout=120)
    finally:
        server.kill()
    assert len(acks) >= 20, "the server was killed before it acknowledged 20 batches"
    assert len(acks) < len(batches), "every batch was acknowledged before the kill: nothing was in flight"

    stored = read_stored(empty_database_url, ORG)
    for index, batch in enumerate(batches):
        present = _ids(batch) & stored.event_ids()
        if index in acks:
            assert present == _ids(batch), f"acknowledged batch {index} lost events"
        else:
            assert present in (set(), _ids(batch)), f"batch {index} is partly stored"
    _assert_event_counts_match_the_log(stored)

    with serving(empty_database_url, tmp_path / "after.log") as restarted:
        with httpx.Client(base_url=restarted.url, timeout=60) as http:
            for batch in batches:
                before = _ids(batch) & stored.event_ids()
                again = _post(http, key, batch)
                assert again.status_code == 200, again.text
                assert again.json() == {"inserted": len(batch) - len(before), "duplicates": len(before)}
    final = read_stored(empty_database_url, ORG)
    assert final.event_ids() == set().union(*(_ids(batch) for batch in batches))
    assert len(final.sessions) == 5 * SESSIONS
    for key_, session in final.sessions.items():
        assert session["event_count"] == final.events_per_session[key_] == 3 * BATCHES, key_
        assert session["agent_name"] == f"agent-{BATCHES - 1:02d}"
        assert session["user_terminated"] is True
