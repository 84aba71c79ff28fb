"""Recordings over HTTP on every database: upload, recording URLs, the stream and its Range requests,
tokens, limits and validation."""

from __future__ import annotations

import hashlib
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from sessionary.config import Settings
from sessionary.db import Database
from sessionary.recordings.tokens import TokenSigner, load_secret
from tests.conftest import Org
from tests.helpers import LiveServer, event, ingest_ok, list_sessions
from tests.recordings.conftest import LIMIT
from tests.recordings.helpers import (
    STREAM,
    UPLOAD,
    audio,
    fields,
    multipart,
    recording_urls,
    stored_files,
    token_of,
    upload,
    upload_ok,
)

CONFIGURED = "n6XwQ2-kR8vTzL4pY9dB1sHcE7uJmA3f"  # a SESSIONARY_SECRET_KEY strong enough to be accepted


def _sid() -> str:
    return f"call-{uuid.uuid4().hex[:8]}"


def test_upload_then_stream_returns_the_same_bytes_as_octet_stream(client: httpx.Client, org: Org) -> None:
    data = audio(100_000)
    stored = upload_ok(client, org.ingest, data, sid=_sid())
    assert stored["size"] == len(data)
    assert stored["sha256"] == hashlib.sha256(data).hexdigest()
    assert stored["duplicate"] is False
    assert isinstance(stored["session_id"], str)
    [url] = recording_urls(client, org.read, stored["session_id"])
    assert url.startswith(f"{client.base_url}{STREAM}?token=")
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.content == data


def test_an_upload_for_an_unknown_session_creates_it_and_later_events_fill_it(
    client: httpx.Client, org: Org
) -> None:
    sid = _sid()
    stored = upload_ok(client, org.ingest, audio(5000), sid=sid)
    ingest_ok(
        client,
        org.ingest,
        [event(f"{sid}-s", "session.started", sid=sid, data={"agent_name": "Front desk"})],
    )
    [session] = list_sessions(client, org.read, search_fields="channel_manager_sid", search_field_values=sid)[
        "items"
    ]
    assert session["session_id"] == stored["session_id"]
    assert session["agent_name"] == "Front desk"
    assert session["timestamp"] == "2024-06-19T10:00:00Z"  # the event's start, not the upload time


def test_an_upload_for_a_known_session_attaches_to_it(client: httpx.Client, org: Org) -> None:
    sid = _sid()
    ingest_ok(client, org.ingest, [event(f"{sid}-s", "session.started", sid=sid, service="hedy")])
    [session] = list_sessions(client, org.read, search_fields="channel_manager_sid", search_field_values=sid)[
        "items"
    ]
    stored = upload_ok(client, org.ingest, audio(5000), sid=sid, service="hedy")
    assert stored["session_id"] == session["session_id"]


def test_uploading_the_same_bytes_again_is_one_recording_and_one_file(
    client: httpx.Client, org: Org, blob_dir: Path
) -> None:
    sid, data = _sid(), audio(20_000, seed=3)
    first = upload_ok(client, org.ingest, data, sid=sid)
    files_after_first = stored_files(blob_dir)
    again = upload_ok(client, org.ingest, data, sid=sid, filename="renamed.wav")
    assert again == {**first, "duplicate": True}
    assert stored_files(blob_dir) == files_after_first
    assert len(recording_urls(client, org.read, first["session_id"])) == 1


def test_different_recordings_of_a_session_are_listed_oldest_first(client: httpx.Client, org: Org) -> None:
    sid = _sid()
    one, two = audio(3000, seed=1), audio(4000, seed=2)
    session_id = upload_ok(client, org.ingest, one, sid=sid)["session_id"]
    upload_ok(client, org.ingest, two, sid=sid)
    urls = recording_urls(client, org.read, session_id)
    assert [client.get(url).content for url in urls] == [one, two]


def test_a_session_without_recordings_has_an_empty_list(client: httpx.Client, org: Org) -> None:
    sid = _sid()
    ingest_ok(client, org.ingest, [event(f"{sid}-s", "session.started", sid=sid)])
    [session] = list_sessions(client, org.read, search_fields="channel_manager_sid", search_field_values=sid)[
        "items"
    ]
    assert recording_urls(client, org.read, session["session_id"]) == []


def test_recording_urls_of_an_unknown_or_foreign_session_are_404(
    client: httpx.Client, org: Org, other_org: Org
) -> None:
    session_id = upload_ok(client, org.ingest, audio(100), sid=_sid())["session_id"]
    for key, session in ((other_org.read, session_id), (org.read, "999999999"), (org.read, "abc")):
        response = client.post(f"/api/v1/sessions/recording/{session}", headers={"Syllable-API-Key": key})
        assert response.status_code == 404, response.text
        assert response.json() == {"detail": f"Session {session} not found"}


def test_recording_urls_need_the_read_scope_and_the_upload_the_ingest_scope(
    client: httpx.Client, org: Org
) -> None:
    session_id = upload_ok(client, org.ingest, audio(100), sid=_sid())["session_id"]
    denied = client.post(f"/api/v1/sessions/recording/{session_id}", headers=org.headers("ingest"))
    assert denied.status_code == 403
    assert upload(client, org.read, audio(100)).status_code == 403
    assert client.post(UPLOAD).status_code == 401


# --- Range requests -------------------------------------------------------------------------------

SIZE = 150_000
RANGES = [
    pytest.param("bytes=0-99", 0, 100, id="first-bytes"),
    pytest.param("bytes=70000-70999", 70_000, 71_000, id="middle"),
    pytest.param("bytes=-500", SIZE - 500, SIZE, id="suffix"),
    pytest.param("bytes=149000-", 149_000, SIZE, id="open-ended"),
    pytest.param("bytes=149990-999999", 149_990, SIZE, id="end-past-the-size-is-clipped"),
    pytest.param("bytes=-999999", 0, SIZE, id="suffix-longer-than-the-file"),
    pytest.param("bytes=149999-149999", SIZE - 1, SIZE, id="last-byte"),
]


@pytest.fixture
def long_recording(client: httpx.Client, org: Org) -> tuple[str, bytes]:
    data = audio(SIZE, seed=5)
    stored = upload_ok(client, org.ingest, data, sid=_sid())
    [url] = recording_urls(client, org.read, stored["session_id"])
    return url, data


@pytest.mark.parametrize(("header", "start", "stop"), RANGES)
def test_a_range_request_gets_206_with_exactly_those_bytes(
    client: httpx.Client, long_recording: tuple[str, bytes], header: str, start: int, stop: int
) -> None:
    url, data = long_recording
    response = client.get(url, headers={"Range": header})
    assert response.status_code == 206
    assert response.content == data[start:stop]
    assert response.headers["content-range"] == f"bytes {start}-{stop - 1}/{SIZE}"
    assert response.headers["content-length"] == str(stop - start)
    assert response.headers["content-type"] == "application/octet-stream"


@pytest.mark.parametrize("header", ["bytes=150000-", "bytes=200000-200010", "bytes=-0"])
def test_an_unsatisfiable_range_gets_416_with_the_size(
    client: httpx.Client, long_recording: tuple[str, bytes], header: str
) -> None:
    response = client.get(long_recording[0], headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{SIZE}"
    assert "150000 bytes" in response.json()["detail"]


@pytest.mark.parametrize(
    "header",
    ["bytes=0-9,20-29", "bytes=10-5", "items=0-9", "bytes=abc", "bytes=-", "bytes=٣-٤".encode()],
    ids=["multi-range", "reversed", "other-unit", "garbage", "empty", "non-ascii-digits"],
)
def test_a_range_that_is_not_one_plain_byte_range_gets_the_whole_file(
    client: httpx.Client, long_recording: tuple[str, bytes], header: str | bytes
) -> None:
    url, data = long_recording
    response = client.get(url, headers={"Range": header})
    assert response.status_code == 200
    assert "content-range" not in response.headers
    assert response.content == data


def test_if_range_with_another_etag_gets_the_whole_file_and_with_this_one_the_range(
    client: httpx.Client, long_recording: tuple[str, bytes]
) -> None:
    url, data = long_recording
    etag = client.get(url, headers={"Range": "bytes=0-0"}).headers["etag"]
    assert etag == f'"{hashlib.sha256(data).hexdigest()}"'
    stale = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert (stale.status_code, stale.content) == (200, data)
    fresh = client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert (fresh.status_code, fresh.content) == (206, data[:10])


# --- tokens -----------------------------------------------------------------------------------------


def _forbidden(response: httpx.Response, words: str) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/json"
    assert words in response.json()["detail"]


def test_a_tampered_token_is_403(client: httpx.Client, long_recording: tuple[str, bytes]) -> None:
    token = token_of(long_recording[0])
    payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    _forbidden(client.get(STREAM, params={"token": f"{payload}.{flipped}"}), "Invalid recording token")
    # the payload of another recording under this token's signature
    other = TokenSigner("x", ttl=60).issue(organization_id=1, recording_id=2).split(".")[0]
    _forbidden(client.get(STREAM, params={"token": f"{other}.{signature}"}), "Invalid recording token")
    _forbidden(client.get(STREAM, params={"token": "not-a-token"}), "Invalid recording token")


def test_an_expired_token_is_403(client: httpx.Client, org: Org, database: Database) -> None:
    stored = upload_ok(client, org.ingest, audio(100), sid=_sid())
    [url] = recording_urls(client, org.read, stored["session_id"])
    secret = load_secret(database, None)  # the one the server generated and keeps in the database
    hour_ago = TokenSigner(secret, ttl=3600, clock=lambda: 0.0)  # issued at the epoch, long expired
    expired = hour_ago.issue(organization_id=org.id, recording_id=stored["id"])
    _forbidden(client.get(STREAM, params={"token": expired}), "expired at 1970-01-01T01:00:00Z")
    fresh = TokenSigner(secret, ttl=3600).issue(organization_id=org.id, recording_id=stored["id"])
    assert client.get(STREAM, params={"token": fresh}).content == client.get(url).content == audio(100)


def test_a_token_naming_another_organization_is_403(
    client: httpx.Client, org: Org, other_org: Org, database: Database
) -> None:
    stored = upload_ok(client, org.ingest, audio(100), sid=_sid())
    signer = TokenSigner(load_secret(database, None), ttl=60)
    forged = signer.issue(organization_id=other_org.id, recording_id=stored["id"])
    _forbidden(client.get(STREAM, params={"token": forged}), "does not grant that recording")


def test_a_token_works_without_a_key_and_with_the_same_orgs_key_but_not_another_orgs(
    client: httpx.Client, long_recording: tuple[str, bytes], org: Org, other_org: Org
) -> None:
    url, data = long_recording
    assert client.get(url).content == data  # a browser <audio> element sends no key
    assert client.get(url, headers=org.headers("read")).content == data
    assert client.get(url, headers=org.headers("ingest")).content == data
    _forbidden(client.get(url, headers=other_org.headers("read")), "another organization")
    assert client.get(url, headers={"Syllable-API-Key": "sk_unknown"}).status_code == 401


def test_a_token_for_a_missing_recording_is_404(client: httpx.Client, org: Org, database: Database) -> None:
    token = TokenSigner(load_secret(database, None), ttl=60).issue(organization_id=org.id, recording_id=2**40)
    response = client.get(STREAM, params={"token": token})
    assert response.status_code == 404
    assert response.json() == {"detail": "Recording not found"}


def test_servers_on_one_database_share_the_signing_secret(
    database_url: str, blob_dir: Path, client: httpx.Client, org: Org
) -> None:
    data = audio(1000, seed=9)
    stored = upload_ok(client, org.ingest, data, sid=_sid())
    [url] = recording_urls(client, org.read, stored["session_id"])
    with LiveServer.start(Settings(database_url=database_url, blob_dir=blob_dir)) as second:
        response = httpx.get(url.replace(str(client.base_url), second.url), timeout=30)
    assert response.status_code == 200
    assert response.content == data


def test_a_configured_secret_key_signs_the_tokens(database_url: str, blob_dir: Path, org: Org) -> None:
    settings = Settings(database_url=database_url, blob_dir=blob_dir, secret_key=CONFIGURED)
    with LiveServer.start(settings) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        stored = upload_ok(http, org.ingest, audio(10), sid=_sid())
        [url] = recording_urls(http, org.read, stored["session_id"])
        TokenSigner(CONFIGURED, ttl=60).verify(token_of(url))  # raises if signed otherwise
        assert http.get(url).content == audio(10)


# --- limits and validation ------------------------------------------------------------------------


@pytest.fixture
def nothing_stored(client: httpx.Client, org: Org, blob_dir: Path) -> Iterator[str]:
    """A fresh sid; afterwards, no new blob may exist, nor a session for that sid."""
    before = stored_files(blob_dir)
    sid = _sid()
    yield sid
    assert stored_files(blob_dir) == before
    found = list_sessions(client, org.read, search_fields="channel_manager_sid", search_field_values=sid)
    assert found["items"] == []


def _too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    limit = f"the limit of {LIMIT} bytes (SESSIONARY_RECORDING_MAX_BYTES)"
    assert response.json() == {"detail": f"file: the recording is larger than {limit}"}


def test_a_file_one_byte_over_the_limit_is_413_and_nothing_is_stored(
    client: httpx.Client, org: Org, nothing_stored: str
) -> None:
    _too_large(upload(client, org.ingest, audio(LIMIT + 1), sid=nothing_stored))


def test_a_file_at_the_limit_is_stored(client: httpx.Client, org: Org) -> None:
    assert upload_ok(client, org.ingest, audio(LIMIT), sid=_sid())["size"] == LIMIT


def test_a_declared_length_far_over_the_limit_is_413_before_reading(
    client: httpx.Client, org: Org, nothing_stored: str
) -> None:
    _too_large(upload(client, org.ingest, audio(2 * LIMIT), sid=nothing_stored))


def test_a_chunked_upload_over_the_limit_is_413_and_nothing_is_stored(
    client: httpx.Client, org: Org, nothing_stored: str
) -> None:
    headers, body = multipart([*fields(nothing_stored), ("file", "a.wav", audio(LIMIT + 10_000))])

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    response = client.post(UPLOAD, content=chunks(), headers={**headers, **org.headers("ingest")})
    _too_large(response)


def _invalid(response: httpx.Response, *locs: list[str]) -> None:
    assert response.status_code == 422, response.text
    assert [issue["loc"] for issue in response.json()["detail"]] == list(locs)


def _post(client: httpx.Client, org: Org, parts: list[tuple[str, str | None, bytes]]) -> httpx.Response:
    headers, body = multipart(parts)
    return client.post(UPLOAD, content=body, headers={**headers, **org.headers("ingest")})


def test_missing_fields_are_422_naming_each(client: httpx.Client, org: Org, nothing_stored: str) -> None:
    _invalid(
        _post(client, org, []),
        ["body", "channel_manager_service"],
        ["body", "channel_manager_sid"],
        ["body", "file"],
    )
    service, sid = fields(nothing_stored)
    _invalid(_post(client, org, [sid, ("file", "a.wav", b"RIFF")]), ["body", "channel_manager_service"])
    _invalid(_post(client, org, [service, ("file", "a.wav", b"RIFF")]), ["body", "channel_manager_sid"])
    _invalid(_post(client, org, [service, sid]), ["body", "file"])


def test_empty_or_bad_fields_are_422_naming_the_field(
    client: httpx.Client, org: Org, nothing_stored: str
) -> None:
    service, sid = fields(nothing_stored)
    wav = ("file", "a.wav", b"RIFF")
    _invalid(_post(client, org, [service, sid, ("file", "a.wav", b"")]), ["body", "file"])
    _invalid(
        _post(client, org, [service, ("channel_manager_sid", None, b""), wav]),
        ["body", "channel_manager_sid"],
    )
    long = ("channel_manager_service", None, b"x" * 201)
    _invalid(_post(client, org, [long, sid, wav]), ["body", "channel_manager_service"])
    nul = ("channel_manager_service", None, b"a\x00b")
    _invalid(_post(client, org, [nul, sid, wav]), ["body", "channel_manager_service"])
    latin1 = ("channel_manager_service", None, b"caf\xe9")
    _invalid(_post(client, org, [latin1, sid, wav]), ["body", "channel_manager_service"])
    journey = ("channel_manager_service", None, b"journey")  # web/app sessions' service: reserved
    _invalid(_post(client, org, [journey, sid, wav]), ["body", "channel_manager_service"])
    _invalid(_post(client, org, [service, sid, wav, wav]), ["body", "file"])


@pytest.mark.parametrize("bad", [b"..", b".", b"a/../b", b"tab\tid"])
def test_a_producer_id_no_client_can_send_in_a_path_is_422_at_upload(
    client: httpx.Client, org: Org, nothing_stored: str, bad: bytes
) -> None:
    service, sid = fields(nothing_stored)
    wav = ("file", "a.wav", b"RIFF")
    _invalid(
        _post(client, org, [service, ("channel_manager_sid", None, bad), wav]),
        ["body", "channel_manager_sid"],
    )
    _invalid(
        _post(client, org, [("channel_manager_service", None, bad), sid, wav]),
        ["body", "channel_manager_service"],
    )


def test_a_body_that_is_not_a_whole_multipart_form_is_422(
    client: httpx.Client, org: Org, nothing_stored: str
) -> None:
    headers, body = multipart([*fields(nothing_stored), ("file", "a.wav", audio(1000))])
    truncated = client.post(UPLOAD, content=body[:-40], headers={**headers, **org.headers("ingest")})
    _invalid(truncated, ["body"])
    as_json = client.post(UPLOAD, json={"channel_manager_sid": "x"}, headers=org.headers("ingest"))
    _invalid(as_json, ["header", "content-type"])
    garbage = client.post(UPLOAD, content=b"\x00" * 100, headers={**headers, **org.headers("ingest")})
    _invalid(garbage, ["body"])


def test_fields_may_follow_the_file_and_unknown_fields_are_ignored(client: httpx.Client, org: Org) -> None:
    data = audio(70_000, seed=4)
    parts = [("file", "late.wav", data), ("note", None, b"ignored"), *fields(_sid())]
    response = _post(client, org, parts)
    assert response.status_code == 200, response.text
    [url] = recording_urls(client, org.read, response.json()["session_id"])
    assert client.get(url).content == data


def test_a_client_that_disconnects_mid_upload_leaves_nothing_behind(
    recording_server: LiveServer, org: Org, blob_dir: Path
) -> None:
    before = stored_files(blob_dir)
    headers, body = multipart([*fields(_sid()), ("file", "a.wav", audio(200_000))])
    host, port = recording_server.url.removeprefix("http://").split(":")
    request = (
        f"POST {UPLOAD} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {headers['Content-Type']}\r\n"
        f"Content-Length: {len(body)}\r\nSyllable-API-Key: {org.ingest}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(request + body[:150_000])
        assert _eventually(lambda: len(stored_files(blob_dir)) > len(before))  # the upload is under way
    assert _eventually(lambda: stored_files(blob_dir) == before)  # and dropped once the client is gone


def _eventually(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
