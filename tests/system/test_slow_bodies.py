"""A client sending its body a byte at a time holds nothing another organization needs: a real `sessionary
serve` answers the other organization's native ingest while the slow body is still arriving, refuses a
slow body with no key at once (401), and ends a slow body with a valid key with 408 after the read deadline
(shortened here to 2 s)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from sessionary.http_head import HEAD_TIMEOUT
from tests.helpers import INGEST, event
from tests.slowbody import SlowBody
from tests.system.processes import ServerProcess, create_key, serving

DEADLINE = 2  # SESSIONARY_BODY_READ_TIMEOUT_SECONDS for these servers
GENEROUS = 20.0  # the other organization's ingest must answer within this (it takes milliseconds)


@pytest.fixture
def live(
    empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ServerProcess, str, str]]:
    """A server with a 2 s read deadline, an ingest key of organization A and one of organization B."""
    monkeypatch.setenv("SESSIONARY_BODY_READ_TIMEOUT_SECONDS", str(DEADLINE))
    key_a = create_key(empty_database_url, "org-a", "ingest")
    key_b = create_key(empty_database_url, "org-b", "ingest", "read")
    with serving(empty_database_url, tmp_path / "server.log") as server:
        yield server, key_a, key_b


def _ingest(url: str, key: str, event_id: str) -> httpx.Response:
    body = {"events": [event(event_id, sid=event_id)]}
    return httpx.post(f"{url}{INGEST}", json=body, headers={"Syllable-API-Key": key}, timeout=GENEROUS)


def test_a_slow_body_without_a_key_is_refused_at_once_and_stalls_no_one(
    live: tuple[ServerProcess, str, str],
) -> None:
    server, _key_a, key_b = live
    slow = SlowBody.start(server.url, INGEST, headers={"Content-Type": "application/json"})
    try:
        assert _ingest(server.url, key_b, "b-1").status_code == 200
        assert slow.wait(GENEROUS) == 401
    finally:
        slow.stop()


def test_a_slow_body_with_a_key_holds_no_gate_and_ends_with_408(
    live: tuple[ServerProcess, str, str],
) -> None:
    server, key_a, key_b = live
    headers = {"Content-Type": "application/json", "Syllable-API-Key": key_a}
    slow = SlowBody.start(server.url, INGEST, headers=headers, every=0.5)
    try:
        answer = _ingest(server.url, key_b, "b-1")
        still_sending = not slow.answered
        assert answer.status_code == 200, answer.text
        assert still_sending, "the slow body was answered before the other organization's batch"
        assert slow.wait(GENEROUS) == 408
        assert b"SESSIONARY_BODY_READ_TIMEOUT_SECONDS" in slow.response
    finally:
        slow.stop()
    assert server.alive


def _answer(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection (b"" if it closes without a word)."""
    sock.settimeout(GENEROUS + HEAD_TIMEOUT)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def test_an_endless_request_header_is_431_and_a_silent_connection_is_closed(
    live: tuple[ServerProcess, str, str],
) -> None:
    """uvicorn's httptools parser alone would buffer the header without limit and keep the silent
    connection for good (sessionary.http_head bounds both)."""
    server, _key_a, key_b = live
    address = (urlsplit(server.url).hostname, urlsplit(server.url).port)
    with socket.create_connection(address) as endless, socket.create_connection(address) as silent:
        endless.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        try:
            for _ in range(64):  # 4 MiB of one header value
                endless.sendall(b"a" * 65536)
        except OSError:
            pass  # the server answered and closed
        assert _answer(endless).startswith(b"HTTP/1.1 431 ")
        assert _ingest(server.url, key_b, "b-2").status_code == 200
        assert _answer(silent).startswith(b"HTTP/1.1 408 ")
