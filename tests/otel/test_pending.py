"""Spans whose trace never names its session (no key attribute, root never exported) wait, then are stored
under their trace id: by `release_overdue` once SESSIONARY_OTEL_PENDING_SECONDS have passed, and by the
sweeper thread of a running server. A trace keyed that way keeps that key for its later spans."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.otel.service import release_overdue
from tests.conftest import Org
from tests.helpers import LiveServer, list_sessions
from tests.otel.otlp import export, server_with
from tests.otel.test_otlp_http import agent_conversation


def test_waiting_spans_are_stored_under_their_trace_id_once_overdue(
    server: LiveServer, database: Database, org: Org, client: httpx.Client
) -> None:
    spans = agent_conversation()
    children = [span for span in spans if span.parent is not None]
    export(server.url, org.ingest, children)
    with session_scope(database.writer) as db:
        assert release_overdue(db, now=utcnow(), after_seconds=3600, limit=100) == 0  # not overdue yet
    with session_scope(database.writer) as db:
        released = release_overdue(db, now=utcnow() + timedelta(hours=2), after_seconds=3600, limit=1000)
    assert released >= len(children)
    items = list_sessions(client, org.read)["items"]
    trace_id = f"{children[0].context.trace_id:032x}"  # type: ignore[union-attr]
    assert [(s["channel_manager_service"], s["channel_manager_sid"]) for s in items] == [
        ("support-bot", trace_id)
    ]
    export(server.url, org.ingest, [span for span in spans if span.parent is None])  # the root, late
    after = list_sessions(client, org.read)["items"]
    assert [(s["channel_manager_sid"], s["agent_name"]) for s in after] == [(trace_id, "Support")]


@pytest.fixture
def sweeping_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    blobs = tmp_path_factory.mktemp("blobs")
    with server_with(database_url, blobs, analysis_worker=True, otel_pending_seconds=1) as live:
        yield live


def test_a_running_servers_sweeper_stores_overdue_spans(sweeping_server: LiveServer, org: Org) -> None:
    children = [span for span in agent_conversation() if span.parent is not None]
    export(sweeping_server.url, org.ingest, children)
    trace_id = f"{children[0].context.trace_id:032x}"  # type: ignore[union-attr]
    with httpx.Client(base_url=sweeping_server.url, timeout=60) as client:
        deadline = time.monotonic() + 60
        while not (items := list_sessions(client, org.read)["items"]) and time.monotonic() < deadline:
            time.sleep(0.2)
    assert [s["channel_manager_sid"] for s in items] == [trace_id]


def test_a_plan_made_on_a_stale_key_is_built_again_under_the_locked_one(
    server: LiveServer, database: Database, org: Org, client: httpx.Client
) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from sessionary.otel.service import ingest_spans
    from sessionary.otel.spans import spans_of
    from tests.otel.otlp import protobuf_body

    spans = agent_conversation()
    export(server.url, org.ingest, [span for span in spans if span.parent is None])  # keys the trace
    children = ExportTraceServiceRequest.FromString(protobuf_body([s for s in spans if s.parent is not None]))

    def stale(trace_ids: list[str]) -> dict[str, tuple[str, str] | None]:
        return dict.fromkeys(trace_ids, ("elsewhere", "not-this-session"))

    with session_scope(database.writer) as db:
        outcome = ingest_spans(db, organization_id=org.id, spans=spans_of(children), now=utcnow(), peek=stale)
    assert outcome.inserted > 0
    items = list_sessions(client, org.read)["items"]
    assert [(s["channel_manager_service"], s["channel_manager_sid"]) for s in items] == [
        ("support-bot", "conv-42")
    ]
