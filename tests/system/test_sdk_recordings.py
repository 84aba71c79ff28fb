"""The official `syllable-sdk` client fetches recording URLs and streams the bytes that were uploaded."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from syllable_sdk import SyllableSDK, errors

from sessionary.recordings.audio import tone_wav
from tests.conftest import Org
from tests.helpers import LiveServer, event, ingest_ok, list_sessions
from tests.recordings.helpers import upload_ok


def test_sdk_generates_recording_urls_and_streams_the_uploaded_bytes(
    server: LiveServer, client: httpx.Client, org: Org
) -> None:
    wav = tone_wav(seconds=1.5)
    stored = upload_ok(client, org.ingest, wav, sid=f"sdk-{uuid.uuid4().hex[:8]}")
    with SyllableSDK(server_url=server.url, api_key_header=org.read) as sdk:
        answer = sdk.sessions.generate_session_recording_urls(session_id=stored["session_id"])
        assert answer.session_id == stored["session_id"]
        assert answer.recordings is not None
        [url] = answer.recordings
        token = parse_qs(urlsplit(url).query)["token"][0]
        response = sdk.sessions.session_recording_stream(token=token)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.read() == wav


def test_sdk_gets_an_empty_list_for_a_session_without_recordings_and_404_for_an_unknown_one(
    server: LiveServer, client: httpx.Client, org: Org
) -> None:
    sid = f"sdk-{uuid.uuid4().hex[:8]}"
    ingest_ok(client, org.ingest, [event(f"{sid}-s", "session.started", sid=sid)])
    [session] = list_sessions(client, org.read, search_fields="channel_manager_sid", search_field_values=sid)[
        "items"
    ]
    with SyllableSDK(server_url=server.url, api_key_header=org.read) as sdk:
        answer = sdk.sessions.generate_session_recording_urls(session_id=session["session_id"])
        assert answer.recordings == []
        with pytest.raises(errors.APIError) as raised:
            sdk.sessions.generate_session_recording_urls(session_id="987654321987")
        assert raised.value.status_code == 404


def test_sdk_stream_with_a_tampered_token_raises_api_error_403(server: LiveServer, org: Org) -> None:
    with SyllableSDK(server_url=server.url, api_key_header=org.read) as sdk:
        with pytest.raises(errors.APIError) as raised:
            sdk.sessions.session_recording_stream(token="WzEsMSw5OTk5OTk5OTk5XQ.forged")
        assert raised.value.status_code == 403
