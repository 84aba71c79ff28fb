"""How the producer client delivers: batches by size, bytes and interval; retries with the same event ids
(Retry-After honoured) after 503, 429, a lost answer and a refused connection; what it drops for good, and
that it counts it. Through a recording proxy in front of the live server."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest

from sessionary_client import RetryPolicy, SessionaryClient
from tests.client.conftest import turns, wait_for
from tests.client.proxy import Fault, Proxy, serve
from tests.conftest import Org
from tests.helpers import LiveServer, free_port

MakeClient = Callable[..., SessionaryClient]
HOUR = 3600.0  # a flush interval no test waits for


def _say(client: SessionaryClient, count: int) -> list[str]:
    """A session with `count` user turns ("turn 0", ...), not ended; the ids of its events in order."""
    call = client.session("hedy", "call-1", event_id="call-1-start")
    return ["call-1-start"] + [call.transcript("user", f"turn {n}") for n in range(count)]


def test_full_batches_go_at_once_and_the_rest_waits_for_flush(
    proxy: tuple[Proxy, str], org: Org, make_client: MakeClient
) -> None:
    recorder, url = proxy
    client = make_client(url, org.ingest, batch_size=3, flush_interval=HOUR)
    ids = _say(client, 7)
    wait_for(lambda: len(recorder.posts) == 2)
    assert recorder.posts == [ids[0:3], ids[3:6]]
    assert client.stats.queued == 2
    assert client.flush(timeout=60)
    assert recorder.posts[2:] == [ids[6:8]]
    assert client.stats.inserted == 8


def test_a_partial_batch_goes_once_its_oldest_event_waited_the_interval(
    proxy: tuple[Proxy, str], org: Org, make_client: MakeClient
) -> None:
    recorder, url = proxy
    client = make_client(url, org.ingest, batch_size=100, flush_interval=0.05)
    ids = _say(client, 0)
    wait_for(lambda: client.stats.inserted == 1)  # no flush() asked
    assert recorder.posts == [ids]


def test_a_batch_stays_under_max_batch_bytes(
    proxy: tuple[Proxy, str], org: Org, make_client: MakeClient, client: httpx.Client
) -> None:
    recorder, url = proxy
    producer = make_client(url, org.ingest, batch_size=100, flush_interval=HOUR, max_batch_bytes=1000)
    call = producer.session("hedy", "call-1")
    for n in range(10):
        call.transcript("user", f"{n} " + "x" * 300)
    assert producer.flush(timeout=60)
    assert max(recorder.sizes) <= 1000 + len('{"events":[]}')
    assert len(recorder.posts) >= 4  # three turns of ~430 bytes never fit in one
    assert turns(client, org) == [f"{n} " + "x" * 300 for n in range(10)]


@pytest.mark.parametrize("status", [503, 429])
def test_a_refusal_with_retry_after_is_retried_after_it_with_the_same_event_ids(
    proxy: tuple[Proxy, str],
    org: Org,
    make_client: MakeClient,
    client: httpx.Client,
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    recorder, url = proxy
    recorder.faults.append(Fault(status, {"Retry-After": "1"}))
    producer = make_client(url, org.ingest, flush_interval=HOUR)
    ids = _say(producer, 3)
    with caplog.at_level(logging.WARNING, logger="sessionary_client"):
        assert producer.flush(timeout=60)
    assert recorder.posts == [ids, ids]
    assert f"HTTP {status} for 4 events; retrying in 1.000 s" in caplog.text  # not the 0.01 s backoff
    stats = producer.stats
    assert (stats.retries, stats.inserted, stats.duplicates) == (1, 4, 0)
    assert turns(client, org) == ["turn 0", "turn 1", "turn 2"]


def test_a_retry_after_a_lost_answer_stores_each_event_once(
    proxy: tuple[Proxy, str], org: Org, make_client: MakeClient, client: httpx.Client
) -> None:
    recorder, url = proxy
    recorder.faults.append(Fault(502, forward=True))  # the server stored the batch; its answer was lost
    producer = make_client(url, org.ingest, flush_interval=HOUR)
    ids = _say(producer, 3)
    assert producer.flush(timeout=60)
    assert recorder.posts == [ids, ids]
    assert (producer.stats.inserted, producer.stats.duplicates) == (0, 4)  # the first answer never came
    assert turns(client, org) == ["turn 0", "turn 1", "turn 2"]


def test_events_sent_while_the_server_is_down_arrive_once_it_is_up(
    server: LiveServer, org: Org, make_client: MakeClient, client: httpx.Client
) -> None:
    port = free_port()
    producer = make_client(f"http://127.0.0.1:{port}", org.ingest, flush_interval=HOUR)
    ids = _say(producer, 2)
    producer.flush(timeout=0)  # send now, don't wait
    wait_for(lambda: producer.stats.retries >= 2)  # connection refused, twice at least
    recorder = Proxy(server.url)
    with serve(recorder, port):
        assert producer.flush(timeout=60)
    assert recorder.posts[0] == ids
    assert producer.stats.inserted == 3
    assert turns(client, org) == ["turn 0", "turn 1"]


def test_a_422_drops_only_the_events_it_names_and_sends_the_rest_again(
    proxy: tuple[Proxy, str],
    org: Org,
    make_client: MakeClient,
    client: httpx.Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder, url = proxy
    producer = make_client(url, org.ingest, flush_interval=HOUR)
    call = producer.session("hedy", "call-1", event_id="start")
    call.transcript("user", "kept", event_id="ok")
    call.transcript("robot", "refused", event_id="bad")  # type: ignore[arg-type]
    call.latency("llm", "llm_first_token", -5, event_id="negative")
    with caplog.at_level(logging.ERROR, logger="sessionary_client"):
        assert producer.flush(timeout=60)
    assert recorder.posts == [["start", "ok", "bad", "negative"], ["start", "ok"]]
    assert "HTTP 422, 2 of 4 events dropped" in caplog.text
    assert '"loc":["body","events",2,"transcript","data","source"]' in caplog.text  # the server's words
    assert (producer.stats.dropped_rejected, producer.stats.inserted, producer.stats.retries) == (2, 2, 0)
    assert turns(client, org) == ["kept"]


def test_a_wrong_key_drops_the_batch_logs_it_and_never_retries(
    proxy: tuple[Proxy, str], make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    recorder, url = proxy
    producer = make_client(url, "sk_not-a-key", flush_interval=HOUR)
    ids = _say(producer, 2)
    with caplog.at_level(logging.ERROR, logger="sessionary_client"):
        assert producer.flush(timeout=60)
    assert recorder.posts == [ids]
    assert "HTTP 401, 3 of 3 events dropped" in caplog.text
    assert (producer.stats.dropped_rejected, producer.stats.retries, producer.stats.inserted) == (3, 0, 0)


def test_a_batch_is_dropped_and_counted_when_the_retries_run_out(
    proxy: tuple[Proxy, str], org: Org, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    recorder, url = proxy
    recorder.faults.extend([Fault(500)] * 3)
    retry = RetryPolicy(max_retries=2, backoff=0.01, max_backoff=0.01)
    producer = make_client(url, org.ingest, flush_interval=HOUR, retry=retry)
    ids = _say(producer, 1)
    with caplog.at_level(logging.ERROR, logger="sessionary_client"):
        assert producer.flush(timeout=60)
    assert recorder.posts == [ids, ids, ids]
    assert "dropped 2 events after 2 retries" in caplog.text
    assert (producer.stats.dropped_failed, producer.stats.retries, producer.stats.inserted) == (2, 2, 0)
