"""The official `syllable-sdk` client sees what the background analysis made of an ended session: the
auto-rating label with its issue categories, and the full summary with its rating."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from syllable_sdk import SyllableSDK, models

from sessionary.config import Settings
from tests.analysis.calls import LOOKUP, Call
from tests.conftest import Org
from tests.helpers import LiveServer, ingest_ok


@pytest.fixture
def analyzing_server(database_url: str) -> Iterator[LiveServer]:
    """A server whose analysis worker polls often and analyzes a session as soon as it ends."""
    settings = Settings(database_url=database_url, analysis_poll_seconds=0.05, analysis_delay_seconds=0)
    with LiveServer.start(settings) as live:
        yield live


def _labels(sdk: SyllableSDK, session_id: str) -> models.ListResponseSessionLabel:
    return sdk.session_labels.list(
        search_fields=[models.SessionLabelProperties.SESSION_ID], search_field_values=[session_id]
    )


def _wait_for_labels(
    sdk: SyllableSDK, session_id: str, timeout: float = 60
) -> models.ListResponseSessionLabel:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _labels(sdk, session_id)
        if found.total_count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"the worker did not label session {session_id} within {timeout} s")


def test_the_worker_labels_and_summarizes_an_ended_session(analyzing_server: LiveServer, org: Org) -> None:
    failed = {
        **LOOKUP,
        "tool_result": None,
        "tool_error": {"code": "NOT_FOUND", "message": "no such patient"},
    }
    call = Call(sid="sdk-analysis", tools=[(12, failed)])
    with httpx.Client(base_url=analyzing_server.url, timeout=60) as client:
        ingest_ok(client, org.ingest, call.events())
    with SyllableSDK(server_url=analyzing_server.url, api_key_header=org.read) as sdk:
        listed = sdk.sessions.list(
            search_fields=[models.SessionProperties.CHANNEL_MANAGER_SID], search_field_values=[call.sid]
        )
        session_id = listed.items[0].session_id
        assert session_id is not None
        labels = _wait_for_labels(sdk, session_id)  # no request asked for it: the worker made it
        [label] = labels.items
        assert label.type == "auto-rating"
        assert label.code == "BAD"
        assert label.issue_categories == ["Tool error"]
        assert label.user_email == "auto-rating@sessionary"
        assert label.comments == "lookup_patient failed: NOT_FOUND: no such patient"
        summary = sdk.sessions.full_summary.get_by_id(session_id=session_id)
        assert summary.rating == "Bad"
        assert summary.summary is not None
        assert summary.summary.startswith('User: "Hi, I need to refill my blood pressure prescription."')
        assert "lookup_patient failed (NOT_FOUND: no such patient)" in summary.summary
        assert sdk.sessions.get_by_id(session_id=session_id).session_label_id == str(label.id)
        assert sdk.session_labels.get_by_id(session_label_id=label.id).issue_categories == ["Tool error"]
