"""The import's plumbing: the file cut into chunks of lines, payload text made ahead, what a helper sends,
the GC paused."""

from __future__ import annotations

import gc
import io
import json
import pickle
from datetime import UTC, datetime, timedelta

import pytest

from sessionary.journey.intake import importer
from sessionary.journey.store import event_rows
from sessionary.journey.store.incoming import Incoming
from sessionary.journey.store.sessionize import StoredEvent


def _chunks(data: bytes, size: int, block: int) -> list[importer.Chunk]:
    original = importer._BLOCK
    importer._BLOCK = block
    try:
        return list(importer._chunks(io.BytesIO(data), size))
    finally:
        importer._BLOCK = original


@pytest.mark.parametrize("block", [1, 3, 7, 1 << 20])  # reads that end anywhere, mid-line included
def test_chunks_hold_size_lines_each_numbered_as_in_the_file(block: int) -> None:
    data = b"a\n\nbb\r\nccc\n  \nd\ne"  # blank lines count; CRLF; no newline at the end
    chunks = _chunks(data, 2, block)
    assert [c.first_line for c in chunks] == [1, 3, 5, 7]
    assert b"".join(c.data for c in chunks) == data
    lines = [line for c in chunks for line in c.lines()]
    assert lines == [(1, b"a"), (3, b"bb\r"), (4, b"ccc"), (6, b"d"), (7, b"e")]


@pytest.mark.parametrize("block", [1, 4, 1 << 20])
def test_a_file_ending_on_a_chunk_boundary_gives_no_empty_chunk(block: int) -> None:
    chunks = _chunks(b"a\nb\nc\nd\n", 2, block)
    assert [(c.first_line, c.data) for c in chunks] == [(1, b"a\nb\n"), (3, b"c\nd\n")]
    assert _chunks(b"", 2, block) == []


@pytest.mark.parametrize("payload", [{"eventName": "page_viewed", "page": {"url": "https://x.example/"}}, {}])
def test_totals_are_added_as_the_payloads_last_keys(payload: dict[str, object]) -> None:
    text = event_rows.with_totals(json.dumps(payload, separators=(",", ":")), 7, 3)
    assert json.loads(text) == {**payload, "totalEventCount": 7, "totalPageviewCount": 3}
    assert list(json.loads(text))[-2:] == ["totalEventCount", "totalPageviewCount"]


def test_the_collector_is_paused_for_the_import_and_restored_after() -> None:
    assert gc.isenabled()
    with importer._collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with importer._collector_paused():
            pass
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


@pytest.mark.parametrize(("sqlite", "packed"), [(True, True), (False, True), (False, False)])
def test_a_helpers_chunk_arrives_as_it_prepared_it(sqlite: bool, packed: bool) -> None:
    at = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    pack = event_rows.pack if packed else lambda incoming, _sqlite: incoming
    by_org = {
        org: [
            pack(
                Incoming(
                    deployment,
                    f"site {deployment}",
                    f"c{n}",
                    StoredEvent(f"e{org}{n}", at + timedelta(seconds=n), "web", "page_viewed", {"n": n}),
                    timedelta(seconds=60 * (n + 1)),
                    4 + n % 2,
                ),
                sqlite,
            )
            for n, deployment in enumerate(("d1", "d2", "d1"))
        ]
        for org in (1, 2)
    }
    sent = pickle.loads(pickle.dumps(importer._pack(by_org)))
    assert importer._unpack(sent) == by_org
