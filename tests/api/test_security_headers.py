"""Every API response, on both faces, carries nosniff, a deny-all policy and no-store; the docs may not
be framed; static files stay cacheable."""

from __future__ import annotations

import httpx

from tests.conftest import Org
from tests.helpers import list_sessions
from tests.recordings.helpers import audio, recording_urls, upload_ok


def _assert_api_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "same-origin"


def test_api_responses_with_data_and_errors_carry_the_security_headers(
    client: httpx.Client, org: Org
) -> None:
    list_sessions(client, org.read)
    responses = [
        client.get("/api/v1/sessions/", headers=org.headers("read")),
        client.get("/api/v1/sessions/"),  # 401
        client.get("/api/v2/journey/sessions/nope", headers={"Authorization": f"Bearer {org.read}"}),
        client.post("/api/v2/journey/deployments/nope/webevents", json={}),  # the ingest fast path
        client.get("/openapi.json"),
    ]
    for response in responses:
        _assert_api_headers(response)


def test_the_docs_may_not_be_framed_and_static_files_stay_cacheable(client: httpx.Client) -> None:
    docs = client.get("/docs")
    assert docs.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert docs.headers["x-content-type-options"] == "nosniff"
    script = client.get("/static/console.js")
    assert script.status_code == 200
    assert "no-store" not in script.headers.get("cache-control", "")
    assert script.headers["x-content-type-options"] == "nosniff"


def test_a_recording_stream_is_not_sniffed_nor_framed_and_caches_privately(
    client: httpx.Client, org: Org
) -> None:
    stored = upload_ok(client, org.ingest, audio(64), sid="headers-rec")
    [url] = recording_urls(client, org.read, stored["session_id"])
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert response.headers["cache-control"] == "private"
