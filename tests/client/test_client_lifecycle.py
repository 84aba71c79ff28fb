"""The producer client never makes its caller wait: a full queue drops the newest events (counted), an
asyncio loop keeps running while the server holds a request, close() gives up after its timeout; and what is
queued is sent by flush(), close() and the interpreter's exit."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import httpx

from sessionary_client import SessionaryClient
from tests.client.conftest import turns, wait_for
from tests.client.proxy import Fault, Proxy
from tests.conftest import Org
from tests.helpers import LiveServer

MakeClient = Callable[..., SessionaryClient]
HOUR = 3600.0
CLIENT_SRC = Path(__file__).resolve().parents[2] / "clients" / "python" / "src"


def test_a_full_queue_drops_the_newest_events_and_counts_them(
    proxy: tuple[Proxy, str], org: Org, make_client: MakeClient, client: httpx.Client
) -> None:
    recorder, url = proxy
    recorder.released.clear()  # the server holds every ingest request
    producer = make_client(url, org.ingest, batch_size=1, max_queue=3, flush_interval=HOUR)
    call = producer.session("hedy", "call-1")
    wait_for(lambda: len(recorder.posts) == 1)  # the start is in flight, held
    accepted = [call.transcript("user", f"turn {n}") for n in range(3)]
    dropped = [call.transcript("user", f"late {n}") for n in range(2)]
    assert producer.stats.dropped_overflow == 2
    assert producer.stats.queued == 3
    recorder.released.set()
    assert producer.flush(timeout=60)
    assert sum(recorder.posts[1:], []) == accepted
    assert not set(dropped) & set(sum(recorder.posts, []))
    assert turns(client, org) == ["turn 0", "turn 1", "turn 2"]


def test_an_event_loop_keeps_running_while_the_server_holds_a_request(
    proxy: tuple[Proxy, str], org: Org, make_client: MakeClient, client: httpx.Client
) -> None:
    """Every call a coroutine makes returns while the sender thread waits on the server; aflush() lets the
    loop run: the loop itself releases the server while aflush() waits (a blocking call would deadlock)."""
    recorder, url = proxy
    recorder.released.clear()
    producer = make_client(url, org.ingest, batch_size=1, flush_interval=HOUR)

    async def bot() -> bool:
        call = producer.session("hedy", "call-1")
        while not recorder.posts:  # the start is in flight, held by the server
            await asyncio.sleep(0.01)
        for n in range(50):
            call.transcript("user", f"turn {n}")
        call.end()
        assert producer.stats.queued == 51
        flushing = asyncio.create_task(producer.aflush(timeout=60))
        await asyncio.sleep(0)  # aflush() starts waiting
        recorder.released.set()  # only reached if aflush() left the loop free
        return await flushing

    results: list[bool] = []
    loop = threading.Thread(target=lambda: results.append(asyncio.run(bot())), daemon=True)
    loop.start()
    loop.join(timeout=60)
    recorder.released.set()  # unblock the server whatever happened
    assert not loop.is_alive(), "the event loop was blocked"
    assert results == [True]
    assert producer.stats.inserted == 52
    assert turns(client, org) == [f"turn {n}" for n in range(50)]


def test_close_sends_what_is_queued_and_later_events_are_counted_unsent(
    server: LiveServer, org: Org, client: httpx.Client
) -> None:
    producer = SessionaryClient(server.url, org.ingest, flush_interval=HOUR)
    call = producer.session("hedy", "call-1")
    call.transcript("user", "before close")
    assert producer.close(timeout=60)
    assert producer.stats.inserted == 2
    call.transcript("user", "after close")
    assert (producer.stats.dropped_unsent, producer.stats.accepted) == (1, 2)
    assert turns(client, org) == ["before close"]


def test_close_gives_up_after_its_timeout_and_counts_what_was_not_sent(
    proxy: tuple[Proxy, str], org: Org
) -> None:
    recorder, url = proxy
    recorder.faults.append(Fault(503, {"Retry-After": "300"}))
    producer = SessionaryClient(url, org.ingest, batch_size=2, flush_interval=HOUR)
    call = producer.session("hedy", "call-1")
    for n in range(4):
        call.transcript("user", f"turn {n}")
    wait_for(lambda: producer.stats.retries == 1)  # the first batch waits its 300 s
    assert not producer.close(timeout=0.1)
    wait_for(lambda: producer.stats.dropped_unsent == 5)  # the batch in flight (2) and the queue (3)
    assert len(recorder.posts) == 1
    assert producer.stats.inserted == 0


def test_events_queued_at_interpreter_exit_are_sent(
    server: LiveServer, org: Org, client: httpx.Client
) -> None:
    script = (
        "import sys\n"
        "from sessionary_client import SessionaryClient\n"
        "client = SessionaryClient(sys.argv[1], sys.argv[2], flush_interval=3600)\n"
        "call = client.session('hedy', 'call-1')\n"
        "call.transcript('user', 'said just before exit')\n"
    )
    env = os.environ | {"PYTHONPATH": str(CLIENT_SRC)}
    done = subprocess.run(
        [sys.executable, "-c", script, server.url, org.ingest], env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert turns(client, org) == ["said just before exit"]
