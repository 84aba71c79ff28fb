"""A recording far larger than the server's memory budget streams in and out in chunks: a real `sessionary
serve` process takes a 300 MB upload from a generator body and streams it back, while its resident memory
is sampled; it grows by a small fraction of the file."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.system.processes import ServerProcess, create_key

MiB = 1024 * 1024
FILE_SIZE = 300 * MiB
BUDGET = 64 * MiB  # what the server's RSS may grow by while moving the file (a fifth of it)
BOUNDARY = "memory-test-boundary"


class PeakRSS:
    """Samples a process's resident set size in a thread; `peak` is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def _file_chunks(digest: hashlib._Hash) -> Iterator[bytes]:
    """FILE_SIZE bytes, 1 MiB at a time, every MiB different; hashed as they are made."""
    block = bytes(range(256)) * (MiB // 256)
    for n in range(FILE_SIZE // MiB):
        chunk = n.to_bytes(8, "big") + block[8:]
        digest.update(chunk)
        yield chunk


def _multipart(chunks: Iterator[bytes], sid: str) -> tuple[dict[str, str], int, Iterator[bytes]]:
    """A multipart body around `chunks`, built by hand so that it is never whole in memory."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="channel_manager_service"\r\n\r\nmem\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="channel_manager_sid"\r\n\r\n{sid}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.raw"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head
        yield from chunks
        yield tail

    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    return headers, len(head) + FILE_SIZE + len(tail), body()


def _upload(http: httpx.Client, key: str, chunks: Iterator[bytes], size: int) -> dict[str, str]:
    sid = f"mem-{uuid.uuid4().hex[:8]}"
    headers, length, body = _multipart(chunks, sid)
    headers.update({"Content-Length": str(length - FILE_SIZE + size), "Syllable-API-Key": key})
    response = http.post("/api/v1/ingest/recordings", content=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, str] = response.json()
    return result


def _download(http: httpx.Client, key: str, session_id: str, expected: int) -> tuple[int, str]:
    urls = http.post(f"/api/v1/sessions/recording/{session_id}", headers={"Syllable-API-Key": key}).json()
    digest, size = hashlib.sha256(), 0
    with http.stream("GET", urls["recordings"][0]) as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(expected)
        for chunk in response.iter_bytes():
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


def test_a_300_mb_recording_streams_in_and_out_with_little_server_memory(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    record_property: Callable[[str, object], None],
) -> None:
    database_url = f"sqlite:///{tmp_path / 'sessionary.db'}"  # memory use does not depend on the database
    monkeypatch.setenv("SESSIONARY_BLOB_DIR", str(tmp_path / "blobs"))
    monkeypatch.setenv("SESSIONARY_RECORDING_MAX_BYTES", str(FILE_SIZE))
    ingest, read = (
        create_key(database_url, "mem", "ingest"),
        create_key(database_url, "mem", "read"),
    )
    server = ServerProcess.start(database_url, tmp_path / "server.log")
    try:
        with httpx.Client(base_url=server.url, timeout=300) as http:
            warm = _upload(http, ingest, iter([b"warm-up" * 1000]), 7000)  # load every code path once
            _download(http, read, warm["session_id"], 7000)
            baseline = psutil.Process(server.process.pid).memory_info().rss
            sent = hashlib.sha256()
            with PeakRSS(server.process.pid) as upload_rss:
                stored = _upload(http, ingest, _file_chunks(sent), FILE_SIZE)
            with PeakRSS(server.process.pid) as download_rss:
                size, received = _download(http, read, stored["session_id"], FILE_SIZE)
    finally:
        server.stop()
    assert stored["sha256"] == sent.hexdigest()
    assert (size, received) == (FILE_SIZE, sent.hexdigest())
    growth = max(upload_rss.peak, download_rss.peak) - baseline
    record_property("server_rss_at_rest_mib", round(baseline / MiB, 1))
    record_property("upload_growth_mib", round((upload_rss.peak - baseline) / MiB, 1))
    record_property("download_growth_mib", round((download_rss.peak - baseline) / MiB, 1))
    assert growth < BUDGET, (
        f"the server grew by {growth / MiB:.0f} MiB moving a {FILE_SIZE / MiB:.0f} MiB file"
    )
