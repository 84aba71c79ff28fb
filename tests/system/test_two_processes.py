"""Several server processes writing the same sessions at once end up exactly where one sequential writer
does: same fields, same event counts, one session per call, no lost and no doubled events.

PostgreSQL: two separate `sessionary serve` processes on one schema. SQLite: one `sessionary serve
--workers 2` (two uvicorn worker processes on one file, serialized by BEGIN IMMEDIATE)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import INGEST, event
from tests.system.processes import create_key, serving
from tests.system.stored import read_stored

CALLS = 8
THREADS = 16
T0 = datetime(2024, 8, 5, 14, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Deployment:
    database_url: str
    urls: list[str]  # where to send requests, used in turn


@pytest.fixture(params=["postgresql-two-servers", "sqlite-two-workers"])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    if request.param == "postgresql-two-servers":
        url = request.getfixturevalue("empty_postgres_url")
        with serving(url, tmp_path / "a.log") as a, serving(url, tmp_path / "b.log") as b:
            assert a.process.pid != b.process.pid
            yield Deployment(database_url=url, urls=[a.url, b.url])
        return
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    with serving(url, tmp_path / "workers.log", workers=2) as server:
        assert len(server.worker_pids()) == 2, server.output()
        yield Deployment(database_url=url, urls=[server.url])


def _at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _call_events(n: int) -> list[dict[str, Any]]:
    """One call's events: a start, updates that overwrite each other (two with the same timestamp), talk,
    tools, latencies and an end."""
    sid, service = f"tp-{n:02d}", ("hedy", "console")[n % 2]
    base = n * 1000

    def one(suffix: str, type_: str, seconds: float, data: dict[str, Any] | None = None) -> dict[str, Any]:
        return event(
            f"{sid}-{suffix}", type_, sid=sid, service=service, timestamp=_at(base + seconds), data=data
        )

    started = {
        "agent_name": "Intake",
        "channel_manager_type": ("voice_sip_v1", "web_chat_v1")[n % 2],
        "conversation_id": f"conv-{n // 2}",
        "is_outbound": n % 3 == 0,
        "prompt_name": "v1",
    }
    ended: dict[str, Any] = {"user_terminated": n % 2 == 0}
    if n % 4 == 0:
        ended["duration"] = 123.5
    return [
        one("start", "session.started", 0, started),
        one("upd-agent-1", "session.updated", 10, {"agent_name": "Routing"}),
        one("upd-prompt-2", "session.updated", 35, {"prompt_name": "v2", "prompt_version_number": 2}),
        one("upd-agent-3", "session.updated", 30, {"agent_name": "Billing", "is_test": True}),
        one("upd-prompt-1", "session.updated", 15, {"prompt_name": "v1.5", "target": "line-a"}),
        # Same timestamp: the larger event_id ("tie-b") wins.
        one("upd-tie-b", "session.updated", 50, {"agent_name": "Tie B", "is_test": False}),
        one("upd-tie-a", "session.updated", 50, {"agent_name": "Tie A", "target": "line-b"}),
        one("upd-early", "session.updated", 5, {"agent_name": "Too early", "target": "line-z"}),
        *(
            one(f"say-{k}", "transcript", 2 + k * 7, {"source": "user", "text": f"line {k}"})
            for k in range(4)
        ),
        one(
            "tool",
            "tool_call",
            20,
            {"tool_call_id": "t1", "tool_name": "lookup", "tool_result": {"ok": True}},
        ),
        one("lat-1", "latency", 21),
        one("lat-2", "latency", 22),
        one("end", "session.ended", 90, ended),
    ]


EVENTS = [one for n in range(CALLS) for one in _call_events(n)]
PER_CALL = len(_call_events(0))


def _concurrent_batches(seed: int) -> list[list[dict[str, Any]]]:
    """Every event once, some twice or three times, shuffled, in batches of 1-10 (a batch may repeat one)."""
    rng = random.Random(seed)
    sends = [one for one in EVENTS for _ in range(1 + (rng.random() < 0.5) + (rng.random() < 0.2))]
    rng.shuffle(sends)
    batches: list[list[dict[str, Any]]] = []
    while sends:
        size = rng.randint(1, 10)
        batches.append(sends[:size])
        sends = sends[size:]
    return batches


def _post(url: str, key: str, batch: list[dict[str, Any]]) -> dict[str, int]:
    with httpx.Client(base_url=url, timeout=120) as http:
        response = http.post(INGEST, json={"events": batch}, headers={"Syllable-API-Key": key})
    assert response.status_code == 200, response.text
    result: dict[str, int] = response.json()
    return result


def _listed(url: str, key: str) -> list[dict[str, Any]]:
    """Every session as the API lists it, without the server-assigned id, by channel_manager_sid."""
    with httpx.Client(base_url=url, timeout=60) as http:
        response = http.get("/api/v1/sessions/", params={"limit": 100}, headers={"Syllable-API-Key": key})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    for item in items:
        item.pop("session_id")
        item.pop("session_label_id")  # set by the analysis worker, some time after the session ends
    return sorted(items, key=lambda item: item["channel_manager_sid"])


def test_concurrent_writers_on_the_same_sessions_match_one_sequential_writer(deployment: Deployment) -> None:
    url = deployment.database_url
    busy_key = create_key(url, "concurrent", "ingest", "read")
    calm_key = create_key(url, "sequential", "ingest", "read")
    batches = _concurrent_batches(seed=7)
    targets = [deployment.urls[i % len(deployment.urls)] for i in range(len(batches))]

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        acks = list(pool.map(lambda target, batch: _post(target, busy_key, batch), targets, batches))
    assert sum(ack["inserted"] for ack in acks) == len(EVENTS)
    assert sum(ack["duplicates"] for ack in acks) == sum(len(batch) for batch in batches) - len(EVENTS)

    for start in range(0, len(EVENTS), 10):
        _post(deployment.urls[0], calm_key, EVENTS[start : start + 10])

    busy, calm = read_stored(url, "concurrent"), read_stored(url, "sequential")
    assert len(busy.sessions) == CALLS
    assert busy.event_ids() == {one["event_id"] for one in EVENTS}
    assert busy.events == calm.events
    assert busy.events_per_session == calm.events_per_session == dict.fromkeys(busy.sessions, PER_CALL)
    assert busy.conversations == calm.conversations == [f"conv-{n}" for n in range(CALLS // 2)]
    for key, session in busy.sessions.items():
        assert session == calm.sessions[key], key
        assert session["event_count"] == PER_CALL
        assert (session["agent_name"], session["prompt_name"], session["target"]) == ("Tie B", "v2", "line-b")
        assert (session["is_test"], session["prompt_version_number"]) == (False, 2)

    listed = _listed(deployment.urls[-1], busy_key)
    assert listed == _listed(deployment.urls[0], calm_key)
    assert [item["channel_manager_sid"] for item in listed] == [f"tp-{n:02d}" for n in range(CALLS)]
    assert [item["duration"] for item in listed] == [123.5 if n % 4 == 0 else 90.0 for n in range(CALLS)]
