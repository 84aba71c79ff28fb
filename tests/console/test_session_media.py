"""The session page's recording player (signed stream URLs that serve Range requests) and its summary
block (the stored analysis, never computed on page load), on every database."""

from __future__ import annotations

import html
import re

import httpx

from sessionary.analysis.service import process_due
from sessionary.db import Database
from sessionary.recordings.audio import tone_wav
from tests.conftest import Org
from tests.console.data import call, ingest_calls, session_ids
from tests.console.helpers import signed_in
from tests.helpers import LiveServer, event, ingest_ok
from tests.recordings.helpers import STREAM, upload_ok

SOURCE = re.compile(r'<source src="([^"]+)"')


def test_the_player_streams_the_recording_with_ranges(
    server: LiveServer, client: httpx.Client, org: Org
) -> None:
    ingest_calls(client, org.ingest, [call("m1")])
    first, second = tone_wav(seconds=1.0), tone_wav(seconds=0.5, frequency=660)
    for data in (first, second):
        upload_ok(client, org.ingest, data, sid="m1")
    ids = session_ids(client, org.read)
    with signed_in(server.url, org.read) as http:
        page = http.get(f"/sessions/{ids['m1']}").text
    urls = [html.unescape(url) for url in SOURCE.findall(page)]
    assert len(urls) == 2  # oldest first
    assert all(url.startswith(f"{STREAM}?token=") for url in urls)
    assert 'type="audio/wav"' in page
    for url, data in zip(urls, (first, second), strict=True):
        part = client.get(url, headers={"Range": "bytes=44-143"})  # no API key: the token authorizes
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 44-143/{len(data)}"
        assert part.content == data[44:144]
    tampered = urls[0][:-2] + ("AA" if not urls[0].endswith("AA") else "BB")
    assert client.get(tampered).status_code == 403


def test_a_session_without_recording_has_no_player(
    server: LiveServer, client: httpx.Client, org: Org
) -> None:
    ingest_calls(client, org.ingest, [call("m2")])
    ids = session_ids(client, org.read)
    with signed_in(server.url, org.read) as http:
        page = http.get(f"/sessions/{ids['m2']}").text
    assert "<audio" not in page
    assert 'id="recording-h"' not in page


def test_the_summary_block_shows_the_stored_analysis_or_why_there_is_none(
    server: LiveServer, client: httpx.Client, database: Database, org: Org
) -> None:
    ingest_calls(client, org.ingest, [call("m3"), call("m5", turns=False)])
    ingest_ok(client, org.ingest, [event("m4-s", "session.started", sid="m4")])  # still open
    ids = session_ids(client, org.read)
    with signed_in(server.url, org.read) as http:
        before = http.get(f"/sessions/{ids['m3']}").text
        assert "Not analyzed yet." in before  # the page does not analyze (the server's worker is off)
        assert "auto-rating" not in before
        assert process_due(database, organization_id=org.id) >= 1
        after = http.get(f"/sessions/{ids['m3']}").text
        still_open = http.get(f"/sessions/{ids['m4']}").text
        silent = http.get(f"/sessions/{ids['m5']}").text
    stored = client.get(f"/api/v1/sessions/full-summary/{ids['m3']}", headers=org.headers("read")).json()
    assert stored["summary"]
    assert stored["rating"]
    shown = re.search(r'<p class="summary-text">(.*?)</p>', after, re.S)
    assert shown
    assert html.unescape(shown.group(1)) == stored["summary"]
    assert f"Rating: <strong>{stored['rating']}</strong>" in after
    assert "Not analyzed yet." not in after
    # The auto-rating is a label like any other, listed with its issue categories.
    for sid, page in (("m3", after), ("m5", silent)):
        labels = client.get(
            "/api/v1/session_labels/",
            params={"search_fields": "session_id", "search_field_values": ids[sid]},
            headers=org.headers("read"),
        ).json()["items"]
        [auto] = [label for label in labels if label["type"] == "auto-rating"]
        shown_label = re.search(
            r'<li><span class="label[^"]*">([^<]+)</span>\s*auto-rating by auto-rating@sessionary[^<]*'
            r'(?:<span class="issues">· ([^<]*)</span>)?',
            page,
        )
        assert shown_label, sid
        assert shown_label.group(1) == auto["code"]
        assert (shown_label.group(2) or "") == ", ".join(auto["issue_categories"] or [])
    assert "No user turn" in silent  # a call without a caller turn: a BAD auto-rating with a category
    assert "The session has not ended yet." in still_open
