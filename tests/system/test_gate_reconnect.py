"""A batch that finds another already waiting at a server worker's ingest gate is answered `Connection:
close` (gate.py), so that the client's next batch opens a new connection, which a free worker may accept;
the batch let straight in and the one waiting behind it keep their connections. Over the wire, with a real
`sessionary serve`."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from tests.helpers import INGEST, event
from tests.system.processes import create_key, serving

EVENTS = 5_000  # a batch that takes the gate long enough for the others to arrive and queue behind it


def _batch(prefix: str) -> dict[str, list[dict[str, object]]]:
    return {"events": [event(f"{prefix}-{n}", sid=f"{prefix}-{n % 50}") for n in range(EVENTS)]}


def test_of_three_batches_sent_at_once_to_one_worker_the_one_that_queued_second_is_told_to_reconnect(
    empty_database_url: str, tmp_path: Path
) -> None:
    key = create_key(empty_database_url, "org-a", "ingest")
    bodies = {name: _batch(name) for name in ("a", "b", "c")}
    answers: dict[str, httpx.Response] = {}
    with serving(empty_database_url, tmp_path / "server.log") as server:

        def send(name: str) -> None:
            with httpx.Client(timeout=120) as client:  # a connection of its own
                answers[name] = client.post(
                    f"{server.url}{INGEST}", json=bodies[name], headers={"Syllable-API-Key": key}
                )

        threads = [threading.Thread(target=send, args=(name,)) for name in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with httpx.Client(timeout=120) as client:  # alone now: straight in
            alone = client.post(
                f"{server.url}{INGEST}", json={"events": [event("c-1")]}, headers={"Syllable-API-Key": key}
            )
    assert [answers[name].status_code for name in bodies] == [200, 200, 200]
    assert [answers[name].json()["inserted"] for name in bodies] == [EVENTS, EVENTS, EVENTS]
    closing = [name for name in bodies if answers[name].headers.get("connection") == "close"]
    assert len(closing) == 1, {name: dict(answers[name].headers) for name in bodies}
    assert alone.status_code == 200
    assert alone.headers.get("connection") != "close"
