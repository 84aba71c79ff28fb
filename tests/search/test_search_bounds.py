"""A search's cost is bounded whatever is stored, and a busy server answers 503 + Retry-After, never a 500."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import exc

from sessionary.app import create_app
from sessionary.config import Settings
from sessionary.db import Database
from sessionary.errors import Unavailable
from sessionary.eventlog.schemas import TURN_MAX_CHARS
from sessionary.search.slots import Slots
from tests.conftest import Org, make_org
from tests.helpers import event, free_port, ingest_ok, wait_until_up
from tests.search.oversized import REFILL, store_unchecked_turn

SEARCH = "/api/v1/sessions/search"


@contextmanager
def serving(settings: Settings) -> Iterator[tuple[FastAPI, httpx.Client]]:
    """The app on a loopback port, and a client of it; the app is at hand to reach its connection pool."""
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        with httpx.Client(base_url=url, timeout=60) as client:
            yield app, client
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_search_over_an_oversized_stored_turn_answers_a_bounded_snippet(
    client: httpx.Client, database: Database, org: Org
) -> None:
    # 2 MB, every fourth word a match: FTS5's snippet() over the whole turn would take minutes.
    store_unchecked_turn(database, org.id, "huge", REFILL * (2_000_000 // len(REFILL)) + "gazebo")
    response = client.get(SEARCH, params={"q": "refill"}, headers=org.headers("read"))
    assert response.status_code == 200, response.text
    snippet = response.json()["items"][0]["best_match"]["snippet"]
    assert "<mark>refill</mark>" in snippet
    assert len(snippet) < 1_000
    # Its only match lies past the part of the turn a snippet is looked for in: the start, unmarked.
    response = client.get(SEARCH, params={"q": "gazebo"}, headers=org.headers("read"))
    assert response.status_code == 200, response.text
    snippet = response.json()["items"][0]["best_match"]["snippet"]
    assert snippet.startswith("please refill my pills")
    assert "<mark>" not in snippet
    assert len(snippet) < 1_000


def test_the_match_of_a_long_turn_is_highlighted_wherever_it_lies(client: httpx.Client, org: Org) -> None:
    text = ("please refill my pills " * TURN_MAX_CHARS)[: TURN_MAX_CHARS - 20] + " the gazebo"
    ingest_ok(client, org.ingest, [event("long", data={"source": "user", "text": text})])
    response = client.get(SEARCH, params={"q": "gazebo"}, headers=org.headers("read"))
    assert response.status_code == 200, response.text
    snippet = response.json()["items"][0]["best_match"]["snippet"]
    assert snippet.endswith("the <mark>gazebo</mark>")


def test_a_search_past_its_time_budget_is_a_503_with_retry_after(database_url: str, tmp_path: Path) -> None:
    settings = Settings(
        database_url=database_url, blob_dir=tmp_path, analysis_worker=False, search_timeout_seconds=1e-6
    )
    with serving(settings) as (app, client):
        org = make_org(app.state.db)
        turns = [
            event(f"t{n}", sid=f"s{n % 50}", data={"source": "user", "text": "refill"}) for n in range(3000)
        ]
        ingest_ok(client, org.ingest, turns)
        response = client.get(SEARCH, params={"q": "refill"}, headers=org.headers("read"))
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert "time budget" in response.json()["detail"]


def test_no_free_database_connection_is_a_503_with_retry_after_on_both_faces(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=database_url,
        blob_dir=tmp_path,
        analysis_worker=False,
        db_pool_size=1,
        db_pool_timeout_seconds=0.2,
    )
    with serving(settings) as (app, client), ExitStack() as held:
        org = make_org(app.state.db)
        while True:  # take every connection of the server's pool
            try:
                held.enter_context(app.state.db.engine.connect())
            except exc.TimeoutError:
                break
        listed = client.get("/api/v1/sessions/", headers=org.headers("read"))
        journey = client.get("/api/v2/journey/sessions/1", headers={"Authorization": f"Bearer {org.read}"})
    assert listed.status_code == 503, listed.text
    assert listed.headers["Retry-After"] == "1"
    assert "busy" in listed.json()["detail"]
    assert journey.status_code == 503, journey.text
    assert journey.headers["Retry-After"] == "1"
    assert (journey.json()["code"], journey.json()["status"]) == ("service.unavailable", 503)


def test_a_search_waiting_longer_than_its_wait_for_a_slot_gets_unavailable() -> None:
    async def scenario() -> int:
        slots = Slots(limit=1, wait=0.05, what="searches")
        first = slots.hold()
        await anext(first)  # the one slot is taken
        with pytest.raises(Unavailable) as refused:
            await anext(slots.hold())
        await first.aclose()  # released: the next one gets it at once
        await anext(slots.hold())
        return refused.value.retry_after

    assert asyncio.run(scenario()) == 1
