"""Every request body is bounded: in size on every path (413, in the face's error shape, with or without a
Content-Length), and in time (408 past the read deadline, a minimum rate for long uploads); a slow body
holds no database connection, and a request with no key is answered without its body."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from sessionary.config import Settings
from tests.conftest import Org
from tests.console.helpers import signed_in
from tests.helpers import INGEST, LiveServer
from tests.recordings.helpers import audio, fields, multipart
from tests.slowbody import SlowBody, open_bodies

LABELS = "/api/v1/session_labels/"
MIB = 1024 * 1024


def _chunks(total: int, piece: int = 64 * 1024, pause: float = 0.0) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        time.sleep(pause)
        yield b" " * min(piece, total - sent)
        sent += piece


def test_a_label_body_over_1_mib_is_413_whether_declared_or_chunked(client: httpx.Client, org: Org) -> None:
    headers = {**org.headers("read"), "Content-Type": "application/json"}
    declared = client.post(LABELS, content=b" " * (MIB + 1), headers=headers)
    chunked = client.post(LABELS, content=_chunks(100 * MIB), headers=headers)
    for response in (declared, chunked):
        assert response.status_code == 413, response.text
        assert response.json() == {"detail": f"Request body is larger than {MIB} bytes"}


def test_a_body_over_the_limit_on_api_v2_is_413_as_an_error_body(client: httpx.Client, org: Org) -> None:
    headers = {"Authorization": f"Bearer {org.read}"}
    response = client.post("/api/v2/journey/sessions/x", content=b" " * (MIB + 1), headers=headers)
    assert response.status_code == 413
    body = response.json()
    assert body["status"] == 413
    assert body["code"] == "request.entity.too.large"
    assert "larger than" in body["message"]


def test_a_console_form_over_the_limit_is_413(server: LiveServer, org: Org) -> None:
    with signed_in(server.url, org.read) as http:
        response = http.post(
            "/sessions/1/labels",
            content=_chunks(2 * MIB),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 413


@pytest.fixture(scope="module")
def patient_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with a 1 s body read deadline, 4 KiB/s minimum rate and a pool of one connection."""
    settings = Settings(
        database_url=database_url,
        blob_dir=tmp_path_factory.mktemp("blobs"),
        analysis_worker=False,
        body_read_timeout_seconds=1,
        body_read_min_rate=4096,
        db_pool_size=1,
    )
    with LiveServer.start(settings) as live:
        yield live


def test_a_label_body_slower_than_the_deadline_is_408(patient_server: LiveServer, org: Org) -> None:
    headers = {"Content-Type": "application/json", **org.headers("read")}
    slow = SlowBody.start(patient_server.url, LABELS, headers=headers, every=0.3)
    try:
        assert slow.wait(30) == 408
        assert b'"detail":"The request body did not arrive in time' in slow.response
        assert b"connection: close" in slow.response.lower()
    finally:
        slow.stop()


def test_a_journey_event_slower_than_the_deadline_is_408_as_an_error_body(patient_server: LiveServer) -> None:
    path = "/api/v2/journey/deployments/any-deployment/webevents"
    slow = SlowBody.start(patient_server.url, path, headers={"Content-Type": "application/json"}, every=0.3)
    try:
        assert slow.wait(30) == 408
        assert b'"code":"request.timeout"' in slow.response
    finally:
        slow.stop()


def test_a_recording_upload_is_held_to_a_minimum_rate_not_a_total_time(
    patient_server: LiveServer, org: Org
) -> None:
    headers, body = multipart([*fields("slow-sid"), ("file", "a.wav", audio(48 * 1024))])
    headers = {**headers, **org.headers("ingest")}

    def paced(pause: float) -> Iterator[bytes]:
        for start in range(0, len(body), 4096):
            time.sleep(pause)
            yield body[start : start + 4096]

    with httpx.Client(base_url=patient_server.url, timeout=60) as http:
        # ~16 KiB/s for ~3 s: longer than the 1 s deadline, faster than the 4 KiB/s minimum rate.
        steady = http.post("/api/v1/ingest/recordings", content=paced(0.25), headers=headers)
        # ~2 KiB/s: under the minimum rate.
        crawling = http.post("/api/v1/ingest/recordings", content=paced(2.0), headers=headers)
    assert steady.status_code == 200, steady.text
    assert crawling.status_code == 408, crawling.text


def test_slow_label_bodies_hold_no_database_connection(
    patient_server: LiveServer, org: Org, other_org: Org
) -> None:
    """With a one-connection pool, bodies still arriving must not keep another organization from reading."""
    headers = {"Content-Type": "application/json", **org.headers("read")}
    _assert_others_read_while_open(patient_server, other_org, LABELS, headers)


def test_an_ingest_request_without_a_key_is_answered_before_its_body(server: LiveServer) -> None:
    slow = SlowBody.start(server.url, INGEST, headers={"Content-Type": "application/json"}, every=0.3)
    try:
        assert slow.wait(30) == 401
    finally:
        slow.stop()


def test_slow_console_label_forms_hold_no_database_connection(
    patient_server: LiveServer, org: Org, other_org: Org
) -> None:
    with signed_in(patient_server.url, org.read) as http:
        cookie = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    _assert_others_read_while_open(patient_server, other_org, "/sessions/1/labels", headers)


def _assert_others_read_while_open(
    server: LiveServer, other_org: Org, path: str, headers: dict[str, str]
) -> None:
    """While 20 bodies to `path` are still arriving, another organization's list answers 200."""
    socks = open_bodies(server.url, path, headers=headers, count=20)
    try:
        listed = httpx.get(f"{server.url}/api/v1/sessions/", headers=other_org.headers("read"), timeout=20)
        assert listed.status_code == 200, listed.text
    finally:
        for sock in socks:
            sock.close()
