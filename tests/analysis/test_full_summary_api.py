"""GET /api/v1/sessions/full-summary/{id} and its recompute: computed on demand for an ended session,
nulls before the end, 404 elsewhere; with an OpenAI-compatible summarizer served on a loopback port."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sessionary.config import Settings
from sessionary.db import Database
from tests.analysis.calls import Call, auto_labels, summary_of
from tests.conftest import Org
from tests.helpers import LiveServer, free_port, ingest_ok, list_sessions, wait_until_up

SUMMARY = "/api/v1/sessions/full-summary/{}"


def _ingest(client: httpx.Client, org: Org, call: Call) -> str:
    ingest_ok(client, org.ingest, call.events())
    found = list_sessions(client, org.read, search_fields="channel_manager_sid", search_field_values=call.sid)
    return str(found["items"][0]["session_id"])


def _get(client: httpx.Client, org: Org, session_id: str, scope: str = "read") -> httpx.Response:
    return client.get(SUMMARY.format(session_id), headers=org.headers(scope))


def test_an_ended_session_is_summarized_on_first_request_and_stored(
    client: httpx.Client, org: Org, database: Database
) -> None:
    session_id = _ingest(client, org, Call(sid="fs-ended"))
    assert summary_of(database, int(session_id)) is None  # this server's worker is off
    first = _get(client, org, session_id)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["rating"] == "Good"
    assert body["summary"].startswith('User: "Hi, I need to refill my blood pressure prescription."')
    stored = summary_of(database, int(session_id))
    assert stored is not None
    assert (stored.summary, stored.rating, stored.summarizer) == (body["summary"], "Good", "extractive")
    assert [label.code for label in auto_labels(database, int(session_id))] == ["GOOD"]
    assert _get(client, org, session_id).json() == body
    assert summary_of(database, int(session_id)).created_at == stored.created_at  # type: ignore[union-attr]


def test_a_session_that_has_not_ended_has_no_summary_yet(client: httpx.Client, org: Org) -> None:
    session_id = _ingest(client, org, Call(sid="fs-open", end=None))
    response = _get(client, org, session_id)
    assert response.status_code == 200
    assert response.json() == {"summary": None, "rating": None}
    recompute = client.post(SUMMARY.format(session_id) + "/recompute", headers=org.headers("read"))
    assert recompute.status_code == 409
    assert "has not ended" in recompute.json()["detail"]


def test_recompute_reads_the_events_again(client: httpx.Client, org: Org, database: Database) -> None:
    call = Call(sid="fs-recompute")
    session_id = _ingest(client, org, call)
    assert _get(client, org, session_id).json()["rating"] == "Good"
    late = {"tool_call_id": "x", "tool_name": "submit_refill", "tool_error": {"message": "store closed"}}
    ingest_ok(client, org.ingest, [call._event("late", "tool_call", 16, late)])
    assert _get(client, org, session_id).json()["rating"] == "Good"  # stored until the worker or a recompute
    response = client.post(SUMMARY.format(session_id) + "/recompute", headers=org.headers("read"))
    assert response.status_code == 200, response.text
    assert response.json()["rating"] == "Bad"
    assert "submit_refill failed (store closed)" in response.json()["summary"]
    assert _get(client, org, session_id).json() == response.json()
    assert [label.code for label in auto_labels(database, int(session_id))] == ["GOOD", "BAD"]


@pytest.mark.parametrize("path", ["999999999", "abc", "0", "01"])
def test_unknown_session_is_404(client: httpx.Client, org: Org, path: str) -> None:
    for response in (
        _get(client, org, path),
        client.post(SUMMARY.format(path) + "/recompute", headers=org.headers("read")),
    ):
        assert response.status_code == 404
        assert path in response.json()["detail"]


def test_another_organizations_session_is_404_and_keys_are_checked(
    client: httpx.Client, org: Org, other_org: Org
) -> None:
    session_id = _ingest(client, org, Call(sid="fs-private"))
    assert _get(client, other_org, session_id).status_code == 404
    assert client.get(SUMMARY.format(session_id)).status_code == 401
    assert _get(client, org, session_id, scope="ingest").status_code == 403


class FakeOpenAI:
    """An OpenAI-compatible server on a loopback port: records each request, answers with `status`."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.status = 200
        self.app = FastAPI()

        @self.app.get("/healthz")
        def healthz() -> dict[str, str]:
            return {"status": "ok"}

        @self.app.post("/v1/chat/completions")
        async def completions(request: Request) -> JSONResponse:
            self.requests.append((dict(request.headers), await request.json()))
            if self.status != 200:
                return JSONResponse({"error": {"message": "overloaded"}}, status_code=self.status)
            message = {
                "role": "assistant",
                "content": "The caller asked for a refill; it will be ready tomorrow.",
            }
            return JSONResponse({"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})

    @contextmanager
    def serve(self) -> Iterator[str]:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url)
            yield url
        finally:
            server.should_exit = True
            thread.join(timeout=10)


@pytest.fixture
def openai_server(database_url: str) -> Iterator[tuple[FakeOpenAI, LiveServer]]:
    fake = FakeOpenAI()
    with fake.serve() as url:
        settings = Settings(
            database_url=database_url,
            analysis_worker=False,
            summarizer="openai",
            openai_base_url=f"{url}/v1",
            openai_api_key="sk-fake",
            openai_model="small-model",
        )
        with LiveServer.start(settings) as live:
            yield fake, live


def test_the_openai_summarizer_is_called_and_its_text_stored(
    openai_server: tuple[FakeOpenAI, LiveServer], org: Org, database: Database
) -> None:
    fake, live = openai_server
    with httpx.Client(base_url=live.url, timeout=60) as client:
        session_id = _ingest(client, org, Call(sid="fs-openai"))
        response = _get(client, org, session_id)
        fake.status = 503
        failing = _ingest(client, org, Call(sid="fs-openai-down"))
        fallback = _get(client, org, failing)
    assert response.json() == {
        "summary": "The caller asked for a refill; it will be ready tomorrow.",
        "rating": "Good",
    }
    headers, body = fake.requests[0]
    assert headers["authorization"] == "Bearer sk-fake"
    assert body["model"] == "small-model"
    assert body["messages"][0]["role"] == "system"
    assert "user: Hi, I need to refill my blood pressure prescription." in body["messages"][1]["content"]
    assert summary_of(database, int(session_id)).summarizer == "openai"  # type: ignore[union-attr]
    assert len(fake.requests) == 2  # the second answered 503 ...
    assert fallback.json()["summary"].startswith('User: "Hi, I need to refill')  # ... so extractive stood in
    assert summary_of(database, int(failing)).summarizer == "extractive"  # type: ignore[union-attr]
