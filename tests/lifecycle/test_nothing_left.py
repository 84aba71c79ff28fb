"""After DELETE /api/v1/sessions/{id}: nothing of the deleted sessions is reachable by any API or the
console, no table holds a row of them, the blob store no blob; the organization then looks exactly like one
that never had them (its other sessions, their conversation, customer and figures untouched)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Table, select, text

from sessionary.config import Settings
from sessionary.db import Base, Database, session_scope
from sessionary.export import service as export
from sessionary.lifecycle import coverage
from sessionary.sessions.filters import SessionFilter
from tests.conftest import Org, make_org
from tests.console.helpers import signed_in
from tests.helpers import LiveServer
from tests.journey.builders import bearer
from tests.lifecycle.data import DOOMED_WORD, KEPT_WORD, METRICS_RANGE, populate
from tests.recordings.helpers import recording_urls, stored_files


class World:
    """The live server (blobs in `blobs`), the organization that deleted, and the one that never had them."""

    def __init__(self, server: LiveServer, http: httpx.Client, blobs: Path, database: Database) -> None:
        self.server, self.http, self.blobs, self.database = server, http, blobs, database
        at = datetime.now(UTC).replace(microsecond=0)
        self.org, self.control = make_org(database), make_org(database)
        self.made = populate(self.http, database, self.org, at=at, doomed=True)
        self.control_made = populate(self.http, database, self.control, at=at, doomed=False)
        self.files_before = stored_files(blobs)
        for params in (METRICS_RANGE, {}):  # rolled up before the deletion: their shares must leave
            assert self.get("/api/v1/metrics", **params).json()["source"] == "rollup"
        self.stream_url = recording_urls(self.http, self.org.read, self.made.doomed["a"])[0]
        with session_scope(database.reader) as db:
            recordings, customers = _table("recording"), _table("journey_customer")
            key = db.scalar(
                select(recordings.c.blob_key).where(recordings.c.session_id == int(self.made.doomed["a"]))
            )
            self.doomed_blob = blobs / str(key)
            cookie = customers.c.cookie_id == self.made.doomed_cookie
            self.doomed_customer = db.scalar(select(customers.c.id).where(cookie))
        assert self.doomed_blob in self.files_before
        assert self.doomed_customer is not None
        self.answers = [
            self.http.delete(f"/api/v1/sessions/{session_id}", headers=self.org.headers("admin"))
            for session_id in self.made.doomed_ids
        ]

    def get(self, path: str, org: Org | None = None, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params or None, headers=(org or self.org).headers("read"))


@pytest.fixture(scope="module")
def world(database_url: str, database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    blobs = tmp_path_factory.mktemp("deletion-blobs")
    settings = Settings(database_url=database_url, blob_dir=blobs, analysis_worker=False)
    with LiveServer.start(settings) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        yield World(server, http, blobs, database)


def test_each_deletion_answers_204_and_a_second_one_404(world: World) -> None:
    assert [r.status_code for r in world.answers] == [204] * len(world.made.doomed_ids)
    again = world.http.delete(f"/api/v1/sessions/{world.made.doomed['a']}", headers=world.org.headers())
    assert again.status_code == 404


def test_no_syllable_api_reaches_a_deleted_session(world: World) -> None:
    doomed = [str(i) for i in world.made.doomed_ids]
    listed = world.get("/api/v1/sessions/", limit=100).json()["items"]
    assert {s["session_id"] for s in listed} & set(doomed) == set()
    for session_id in doomed:
        for path in (
            f"/api/v1/sessions/{session_id}",
            f"/api/v1/sessions/full-summary/{session_id}",
            f"/api/v1/sessions/transcript/{session_id}",
            f"/api/v1/sessions/timeline/{session_id}",
            f"/api/v1/sessions/latency/{session_id}",
            f"/api/v1/session_debug/session_id/{session_id}",
        ):
            assert world.get(path).status_code == 404, path
        recordings = world.http.post(
            f"/api/v1/sessions/recording/{session_id}", headers=world.org.headers("read")
        )
        assert recordings.status_code == 404
    found = world.get("/api/v1/sessions/search", q=DOOMED_WORD).json()
    assert found["items"] == []
    assert len(world.get("/api/v1/sessions/search", q=KEPT_WORD).json()["items"]) == 1
    events = world.get("/api/v1/events/", limit=100).json()["items"]
    assert {e["session_id"] for e in events} & set(doomed) == set()
    labels = world.get("/api/v1/session_labels/", limit=100).json()["items"]
    assert {str(label["session_id"]) for label in labels} & set(doomed) == set()
    assert [c["conversation_id"] for c in world.get("/api/v1/conversations/").json()["items"]] == ["conv-1"]


def test_the_signed_stream_urls_of_a_deleted_recording_stop_working(world: World) -> None:
    assert world.http.get(world.stream_url).status_code == 404


def test_no_journey_api_reaches_a_deleted_web_visit(world: World) -> None:
    for uuid in (world.made.doomed["v1"], world.made.doomed["y"]):
        response = world.http.get(f"/api/v2/journey/sessions/{uuid}", headers=bearer(world.org.read))
        assert response.status_code == 404
        events = world.http.get(f"/api/v2/journey/sessions/{uuid}/events", headers=bearer(world.org.read))
        assert events.status_code == 404
    contact = f"/api/v2/externalcontacts/contacts/{world.made.contact}/journey/sessions"
    listed = world.http.get(contact, headers=bearer(world.org.read))
    assert listed.status_code == 200
    assert listed.json()["entities"] == []
    kept = world.http.get(f"/api/v2/journey/sessions/{world.made.kept['v2']}", headers=bearer(world.org.read))
    assert kept.status_code == 200


def test_the_export_and_the_console_show_none_of_them(world: World) -> None:
    with session_scope(world.database.reader) as db:
        for kind in ("csv", "jsonl", "transcripts"):
            body = b"".join(export.stream(db, organization_id=world.org.id, f=SessionFilter(), kind=kind))
            assert DOOMED_WORD.encode() not in body, kind
            assert b"call-a" not in body, kind
            assert b"call-b" in body, kind
    with signed_in(world.server.url, world.org.read) as console:
        page = console.get("/sessions", params={"limit": 100}).text
        assert f'href="/sessions/{world.made.kept["b"]}"' in page
        for session_id in world.made.doomed_ids:
            assert f'href="/sessions/{session_id}"' not in page
            assert console.get(f"/sessions/{session_id}").status_code == 404
        exported = console.get("/sessions/export", params={"format": "jsonl"})
        assert exported.status_code == 200
        assert b"call-b" in exported.content
        assert b"call-a" not in exported.content


def test_the_figures_and_everything_kept_are_those_of_an_organization_that_never_had_them(
    world: World,
) -> None:
    for params in (METRICS_RANGE, {}):
        mine, theirs = (
            world.get("/api/v1/metrics", **params),
            world.get("/api/v1/metrics", world.control, **params),
        )
        assert mine.status_code == theirs.status_code == 200
        assert mine.json() == theirs.json()
    for path in ("/api/v1/conversations/", f"/api/v1/sessions/{world.made.kept['b']}"):
        mine_body, theirs_body = (
            world.get(path).json(),
            world.get(path.replace(world.made.kept["b"], world.control_made.kept["b"]), world.control).json(),
        )
        assert _without_ids(mine_body) == _without_ids(theirs_body)
    assert _customer_counts(world, world.org) == _customer_counts(world, world.control)


def test_no_table_holds_a_row_of_a_deleted_session(world: World) -> None:
    doomed = _identities(world)
    with session_scope(world.database.reader) as db:
        for table in Base.metadata.sorted_tables:
            for column, kind in coverage.identity_columns(table):
                values = doomed[kind]
                if not values:
                    continue
                stmt = select(table.c[column]).where(table.c[column].in_(values))
                assert db.execute(stmt).all() == [], f"{table.name}.{column} still names a deleted session"
        events = select(_table("journey_event").c.id).where(
            _table("journey_event").c.id.in_(world.made.doomed_web_events)
        )
        assert db.execute(events).all() == []
        assert db.execute(select(_table("blob_deletion"))).all() == []
        if db.get_bind().dialect.name == "sqlite":
            hits = db.execute(
                text("SELECT rowid FROM transcript_fts WHERE transcript_fts MATCH :w"), {"w": DOOMED_WORD}
            )
            assert hits.all() == []
            kept = db.execute(
                text("SELECT rowid FROM transcript_fts WHERE transcript_fts MATCH :w"), {"w": KEPT_WORD}
            )
            assert len(kept.all()) >= 1


def test_the_blob_store_keeps_only_the_kept_recordings(world: World) -> None:
    kept = len(world.files_before) - 1  # call A had one recording
    for _ in range(200):  # the blob goes right after the commit, in a background task
        if len(stored_files(world.blobs)) == kept:
            break
        time.sleep(0.05)
    assert stored_files(world.blobs) == [f for f in world.files_before if f != world.doomed_blob]


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _identities(world: World) -> dict[str, list[Any]]:
    """What names a deleted session, per kind of column (coverage.identity_columns' kinds)."""
    with session_scope(world.database.reader) as db:
        customers = _table("journey_customer")
        gone = db.execute(
            select(customers.c.id).where(customers.c.cookie_id == world.made.doomed_cookie)
        ).all()
        assert gone == []
    return {
        "session": list(world.made.doomed_ids),
        "session_key": ["call-a", world.made.doomed["v1"], world.made.doomed["y"]],
        "customer": [world.doomed_customer],
        "cookie": [world.made.doomed_cookie],
        "contact": [],  # a contact is a person's record: erasure deletes it, a session deletion keeps it
    }


def _customer_counts(world: World, org: Org) -> list[tuple[int, int]]:
    customers = _table("journey_customer")
    with session_scope(world.database.reader) as db:
        stmt = select(customers.c.event_count, customers.c.pageview_count).where(
            customers.c.organization_id == org.id
        )
        return sorted(tuple(row) for row in db.execute(stmt))  # type: ignore[misc]


def _without_ids(body: Any) -> Any:
    """A response with the values that differ between two organizations (ids, keys' names) left out."""
    if isinstance(body, dict):
        return {
            k: _without_ids(v) for k, v in body.items() if k not in ("session_id", "session_label_id", "id")
        }
    if isinstance(body, list):
        return [_without_ids(v) for v in body]
    return body
