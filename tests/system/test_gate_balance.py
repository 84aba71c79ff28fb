"""The ingest gates of `serve --workers 2` balance the workers (gate.py, siblings.py): of two batches sent at
once over two connections that one worker accepted, the queued one is told `Connection: close` while the
other worker idles; over one connection on each worker, neither is. Over the wire, with a real server; the
test finds which worker holds a connection from the workers' sockets (psutil)."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import psutil

from tests.helpers import INGEST, event
from tests.system.processes import ServerProcess, create_key, serving

EVENTS = 5_000  # a batch that holds the gate long enough for the other to arrive and queue behind it
CONNECTIONS = 16  # opened until two share a worker and one sits on the other (all on one: 2 in 2^15)


def _worker_of(server: ServerProcess, client: httpx.Client) -> int:
    """The worker process holding this client's (one, kept-alive) connection."""
    stream = client._transport._pool.connections[0]._connection._network_stream  # type: ignore[attr-defined]
    local_port = stream.get_extra_info("socket").getsockname()[1]
    for pid in server.worker_pids():
        for connection in psutil.Process(pid).net_connections(kind="tcp"):
            if connection.raddr and connection.raddr.port == local_port:
                return pid
    raise AssertionError(f"no worker holds the connection from port {local_port}")


def _connected(server: ServerProcess, key: str) -> dict[int, list[httpx.Client]]:
    """Clients, each with one open connection, by the worker that accepted it."""
    by_worker: dict[int, list[httpx.Client]] = {}
    for _ in range(CONNECTIONS):
        client = httpx.Client(base_url=server.url, headers={"Syllable-API-Key": key}, timeout=120)
        assert client.get("/healthz").status_code == 200
        by_worker.setdefault(_worker_of(server, client), []).append(client)
    return by_worker


def _send_at_once(clients: list[httpx.Client], prefix: str) -> list[httpx.Response]:
    answers: list[httpx.Response | None] = [None] * len(clients)

    def send(index: int) -> None:
        batch = [event(f"{prefix}-{index}-{n}", sid=f"{prefix}-{index}-{n % 50}") for n in range(EVENTS)]
        answers[index] = clients[index].post(INGEST, json={"events": batch})

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None and answer.status_code == 200 for answer in answers), answers
    return [answer for answer in answers if answer is not None]


def test_two_batches_queued_on_one_worker_while_the_other_idles_send_one_client_elsewhere(
    empty_database_url: str, tmp_path: Path
) -> None:
    key = create_key(empty_database_url, "org-a", "ingest")
    with serving(empty_database_url, tmp_path / "server.log", workers=2) as server:
        by_worker = _connected(server, key)
        try:
            assert len(by_worker) == 2, "all connections went to one worker"
            spread = _send_at_once([clients[0] for clients in by_worker.values()], "spread")
            crowded = next(clients for clients in by_worker.values() if len(clients) >= 2)
            piled = _send_at_once(crowded[:2], "piled")
        finally:
            for client in (client for clients in by_worker.values() for client in clients):
                client.close()
    assert sorted(answer.headers.get("connection", "keep-alive") for answer in piled) == [
        "close",
        "keep-alive",
    ]
    assert [answer.headers.get("connection") for answer in spread] == [None, None]
    assert [answer.json()["inserted"] for answer in piled + spread] == [EVENTS] * 4
