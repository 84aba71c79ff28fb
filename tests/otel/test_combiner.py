"""The OTLP face's group commit (otel/combiner.py): exports ready while another is written are stored
together in the next transaction, each answered only once its transaction committed; a failing export
fails alone."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from sessionary.db import Database
from sessionary.otel import combiner as combiner_module
from sessionary.otel.combiner import WriteCombiner
from sessionary.otel.service import Mapped, map_spans
from sessionary.otel.spans import spans_of
from tests.conftest import Org, make_org
from tests.helpers import list_sessions
from tests.otel.otlp import protobuf_body
from tests.otel.test_otlp_http import agent_conversation


def mapped_conversation(conversation_id: str) -> list[Mapped]:
    request = ExportTraceServiceRequest.FromString(protobuf_body(agent_conversation(conversation_id)))
    mapped, outcome = map_spans(spans_of(request))
    assert outcome.rejected == []
    return mapped


def test_exports_ready_during_a_write_are_merged_into_the_next_transaction(
    database: Database, org: Org, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    first_started, release_first = threading.Event(), threading.Event()
    real = combiner_module._transaction

    def transaction(db: Database, batch: Any) -> Any:
        batches.append(len(batch))
        if len(batches) == 1:
            first_started.set()
            assert release_first.wait(30)
        return real(db, batch)

    monkeypatch.setattr(combiner_module, "_transaction", transaction)
    combiner = WriteCombiner()
    results: dict[str, Any] = {}

    def store(name: str) -> None:
        results[name] = combiner.store(database, org.id, mapped_conversation(name))

    first = threading.Thread(target=store, args=("conv-a",))
    first.start()
    assert first_started.wait(30)
    others = [threading.Thread(target=store, args=(f"conv-{n}",)) for n in "bcd"]
    for thread in others:
        thread.start()
    while len(combiner._queue) < 3:  # all three queued behind the write in progress
        threading.Event().wait(0.01)
    release_first.set()
    for thread in [first, *others]:
        thread.join(60)
    assert batches == [1, 3]
    assert sorted(results) == ["conv-a", "conv-b", "conv-c", "conv-d"]
    sids = sorted(s["channel_manager_sid"] for s in list_sessions(client, org.read)["items"])
    assert sids == ["conv-a", "conv-b", "conv-c", "conv-d"]


def test_an_export_that_fails_in_a_merged_write_fails_alone(
    database: Database, org: Org, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = make_org(database)
    real = combiner_module.store_mapped

    def store_mapped(db: Any, *, organization_id: int, **kwargs: Any) -> Any:
        if organization_id == bad.id:
            raise RuntimeError("this export cannot be stored")
        return real(db, organization_id=organization_id, **kwargs)

    monkeypatch.setattr(combiner_module, "store_mapped", store_mapped)
    good_export = combiner_module._Export(org.id, mapped_conversation("conv-good"))
    bad_export = combiner_module._Export(bad.id, mapped_conversation("conv-bad"))
    combiner_module._write(database, [good_export, bad_export])
    assert good_export.done
    assert good_export.error is None
    assert good_export.result is not None
    assert bad_export.done
    assert isinstance(bad_export.error, RuntimeError)
    assert [s["channel_manager_sid"] for s in list_sessions(client, org.read)["items"]] == ["conv-good"]
    assert list_sessions(client, bad.read)["items"] == []
