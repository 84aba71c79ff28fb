"""Browser fixtures: Debian's headless Chromium through Playwright, a live server on a SQLite database of
its own with known sessions, and screenshots under test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from sessionary import migrate
from sessionary.config import Settings
from sessionary.db import open_database
from sessionary.db_types import utcnow
from tests.conftest import Org, make_org
from tests.console.data import call, ingest_calls, session_ids
from tests.helpers import LiveServer

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass(frozen=True)
class Site:
    url: str
    org: Org
    sessions: dict[str, str]  # channel_manager_sid -> session id
    database_url: str


def _day(days_ago: int) -> str:
    return (utcnow() - timedelta(days=days_ago)).date().isoformat()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A server on SQLite with six sessions over the last days, two of them labelled."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'console.db'}"
    migrate.upgrade(url)
    database = open_database(url, pool_size=1)
    org = make_org(database, "browser-demo")
    database.dispose()
    # No analysis worker: auto-rating labels would race the tests' label assertions (tests analyze on demand).
    blobs = tmp_path_factory.mktemp("browser-blobs")
    settings = Settings(database_url=url, blob_dir=blobs, analysis_worker=False)
    with LiveServer.start(settings) as live, httpx.Client(base_url=live.url) as http:
        d1, d2, d3 = _day(1), _day(2), _day(3)
        ingest_calls(
            http,
            org.ingest,
            [
                call("b1", start=f"{d1}T10:00:00Z", end=f"{d1}T10:02:00Z", conversation="conv-b"),
                call(
                    "b2",
                    start=f"{d1}T10:00:00Z",
                    end=f"{d1}T10:00:40Z",
                    agent="Billing Support",
                    outbound=True,
                    conversation="conv-b",
                ),
                call(
                    "b3",
                    start=f"{d2}T10:00:00Z",
                    end=f"{d2}T10:06:00Z",
                    agent="Billing Support",
                    channel="web_chat_v1",
                ),
                call("b4", start=f"{d2}T10:00:00Z", end=f"{d2}T10:00:20Z"),
                call("b5", start=f"{d3}T10:00:00Z", end=f"{d3}T10:01:00Z", agent="Front Desk"),
                call("b6", start=f"{d3}T10:00:00Z", end=f"{d3}T10:03:00Z", test=True),
            ],
        )
        ids = session_ids(http, org.read)
        for sid, code, issues in (("b3", "BAD", ["tool_error"]), ("b4", "GOOD", ["long_silence"])):
            body = {
                "session_id": int(ids[sid]),
                "type": "human-rating",
                "code": code,
                "user_email": "qa@x.io",
                "issue_categories": issues,
            }
            response = http.post("/api/v1/session_labels/", json=body, headers=org.headers("read"))
            assert response.status_code == 200
        yield Site(url=live.url, org=org, sessions=ids, database_url=url)


# Package scope: Playwright's sync API keeps an event loop running in the main thread while it is open, so
# it must close when the browser tests end (a later test's asyncio.run would find that loop running).
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (no cookies); the page's last state is saved as a screenshot."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    tab = context.new_page()
    try:
        yield tab
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        context.close()
