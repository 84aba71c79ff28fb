"""The session page's recording and summary in real headless Chromium: a generated WAV uploaded for a
call plays and seeks through the signed stream URL with HTTP Range requests (206), and the summary block
shows the stored analysis. An organization of its own keeps the shared site's counts untouched."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Page, Response

from sessionary.analysis.models import SessionSummary
from sessionary.analysis.service import process_due
from sessionary.db import open_database, session_scope
from sessionary.recordings.audio import tone_wav
from tests.browser.conftest import Site
from tests.browser.test_console_browser import assert_every_control_labelled, shot
from tests.conftest import Org, make_org
from tests.console.data import call, ingest_calls, session_ids
from tests.recordings.helpers import STREAM, upload_ok

SECONDS = 6.0


@dataclass(frozen=True)
class Recorded:
    org: Org
    session_id: str
    size: int
    summary: SessionSummary


@pytest.fixture(scope="module")
def recorded(site: Site) -> Iterator[Recorded]:
    """A call with a six-second tone recording, analyzed (summary, rating and auto-rating label stored)."""
    database = open_database(site.database_url, pool_size=1)
    try:
        org = make_org(database, "browser-audio")
        with httpx.Client(base_url=site.url, timeout=60) as http:
            ingest_calls(http, org.ingest, [call("rec1")])
            wav = tone_wav(seconds=SECONDS)
            upload_ok(http, org.ingest, wav, sid="rec1", filename="rec1.wav")
            session_id = session_ids(http, org.read)["rec1"]
        assert process_due(database, organization_id=org.id) == 1  # the site's server runs no worker
        with session_scope(database.reader) as db:
            summary = db.get(SessionSummary, int(session_id))
            assert summary is not None
            db.expunge(summary)
        yield Recorded(org=org, session_id=session_id, size=len(wav), summary=summary)
    finally:
        database.dispose()


def test_play_and_seek_the_recording_with_range_requests(page: Page, site: Site, recorded: Recorded) -> None:
    streamed: list[tuple[str | None, int]] = []  # (Range header sent, status) of each stream request

    def on_response(response: Response) -> None:
        if STREAM in response.url:
            streamed.append((response.request.all_headers().get("range"), response.status))

    page.on("response", on_response)
    path = f"/sessions/{recorded.session_id}"
    page.goto(site.url + path)
    assert "/signin" in page.url
    page.fill("#api_key", recorded.org.read)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    assert page.locator("#recording-h").inner_text() == "Recording"
    assert page.locator(".recording figcaption").inner_text() == "rec1.wav"
    audio = page.locator(".recording audio")
    assert audio.get_attribute("aria-labelledby") == "recording-1"
    src = page.locator(".recording audio source").get_attribute("src") or ""
    assert src.startswith(f"{STREAM}?token=")
    assert_every_control_labelled(page)

    # Metadata: the length comes from the WAV header, and the whole of it is seekable (ranges served).
    page.wait_for_function("() => document.querySelector('.recording audio').readyState >= 1")
    duration = page.evaluate("() => document.querySelector('.recording audio').duration")
    assert duration == pytest.approx(SECONDS, abs=0.05)
    seekable_end = page.evaluate("() => { const a = document.querySelector('.recording audio');"
                                 " return a.seekable.length ? a.seekable.end(0) : 0; }")  # fmt: skip
    assert seekable_end == pytest.approx(SECONDS, abs=0.05)

    # Play (muted: the autoplay policy allows it without a gesture), then seek to 4.5 s.
    page.evaluate("async () => { const a = document.querySelector('.recording audio');"
                  " a.muted = true; await a.play(); }")  # fmt: skip
    page.wait_for_function("() => document.querySelector('.recording audio').currentTime > 0")
    page.evaluate("""() => new Promise(resolve => {
        const a = document.querySelector('.recording audio');
        a.addEventListener('seeked', resolve, {once: true});
        a.currentTime = 4.5;
    })""")
    position = page.evaluate("() => document.querySelector('.recording audio').currentTime")
    assert 4.5 <= position <= SECONDS
    page.evaluate("() => document.querySelector('.recording audio').pause()")
    shot(page, "session-recording")

    assert streamed, "the audio element made no request to the stream"
    ranged = [(header, status) for header, status in streamed if header]
    assert ranged, f"no stream request carried a Range header: {streamed}"
    assert all(status == 206 for _, status in ranged)
    assert all(re.fullmatch(r"bytes=\d+-\d*", header) for header, _ in ranged)


def test_the_summary_block_shows_the_stored_analysis(page: Page, site: Site, recorded: Recorded) -> None:
    path = f"/sessions/{recorded.session_id}"
    page.goto(site.url + path)
    page.fill("#api_key", recorded.org.read)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    block = page.locator(".summary-block")
    assert block.locator(".summary-text").inner_text() == recorded.summary.summary
    assert block.locator(".rating strong").inner_text() == recorded.summary.rating
    assert block.locator(".note").count() == 0
    auto = page.locator(".label-list li", has_text="auto-rating by auto-rating@sessionary")
    assert auto.count() == 1
    shot(page, "session-summary")
