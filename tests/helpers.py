"""Plain builders for test data and a live uvicorn server in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from sessionary.app import create_app
from sessionary.config import Settings

INGEST = "/api/v1/ingest/events"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, timeout: float = 30.0, alive: Callable[[], bool] = lambda: True) -> None:
    """Poll /healthz until it answers 200; RuntimeError as soon as `alive()` says the server died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"server at {url} exited")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"server at {url} did not come up")


@dataclass
class LiveServer:
    url: str

    @classmethod
    @contextmanager
    def start(cls, settings: Settings) -> Iterator[LiveServer]:
        port = free_port()
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning", proxy_headers=False
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        live = cls(url=f"http://127.0.0.1:{port}")
        try:
            wait_until_up(live.url)
            yield live
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def event(
    event_id: str,
    type_: str = "transcript",
    *,
    sid: str = "call-1",
    service: str = "hedy",
    timestamp: str = "2024-06-19T10:00:00Z",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A native event; `data` defaults to something valid for the type."""
    defaults: dict[str, dict[str, Any]] = {
        "transcript": {"source": "user", "text": "hello"},
        "tool_call": {"tool_call_id": "t1", "tool_name": "lookup"},
        "latency": {"category": "llm", "label": "llm_first_token", "value": 120, "unit": "milliseconds"},
    }
    return {
        "event_id": event_id,
        "type": type_,
        "timestamp": timestamp,
        "channel_manager_service": service,
        "channel_manager_sid": sid,
        "data": defaults.get(type_, {}) if data is None else data,
    }


def post_events(client: httpx.Client, key: str, events: list[dict[str, Any]]) -> httpx.Response:
    return client.post(INGEST, json={"events": events}, headers={"Syllable-API-Key": key})


def ingest_ok(client: httpx.Client, key: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    response = post_events(client, key, events)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def list_sessions(client: httpx.Client, key: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/sessions/", params=params, headers={"Syllable-API-Key": key})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result
