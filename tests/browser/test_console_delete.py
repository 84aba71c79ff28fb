"""Deleting a session in real headless Chromium: an admin key finds the button on the session page,
confirms on the next page and lands on the list with a message; a read-only key sees no button. An
organization of its own keeps the shared site's counts untouched."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page

from sessionary.db import open_database
from tests.browser.conftest import Site
from tests.browser.test_console_browser import shot
from tests.conftest import Org, make_org
from tests.console.data import call, ingest_calls, session_ids


def _org_with_calls(site: Site) -> tuple[Org, dict[str, str]]:
    database = open_database(site.database_url, pool_size=1)
    try:
        org = make_org(database)
    finally:
        database.dispose()
    with httpx.Client(base_url=site.url) as http:
        ingest_calls(http, org.ingest, [call("del-1"), call("del-2")])
        return org, session_ids(http, org.read)


def _sign_in(page: Page, site: Site, key: str, path: str) -> None:
    page.goto(site.url + path)
    page.get_by_label("API key").fill(key)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def test_an_admin_deletes_a_session_from_its_page_after_confirming(page: Page, site: Site) -> None:
    org, ids = _org_with_calls(site)
    _sign_in(page, site, org.admin, f"/sessions/{ids['del-1']}")
    page.get_by_role("link", name="Delete session").click()
    page.wait_for_url(re.compile(r"/delete$"))
    shot(page, "console-delete-confirm")
    page.get_by_role("button", name=f"Delete session {ids['del-1']}").click()
    page.wait_for_url(re.compile(r"/sessions$"))
    assert page.get_by_role("status").inner_text() == (
        f"Session {ids['del-1']} was deleted, with everything made from it."
    )
    assert page.locator(f'a[href="/sessions/{ids["del-1"]}"]').count() == 0
    assert page.locator(f'a[href="/sessions/{ids["del-2"]}"]').count() > 0


def test_a_read_only_key_sees_no_delete_button(page: Page, site: Site) -> None:
    org, ids = _org_with_calls(site)
    _sign_in(page, site, org.read, f"/sessions/{ids['del-1']}")
    assert page.get_by_role("heading", level=1).inner_text().startswith(f"Session {ids['del-1']}")
    assert page.get_by_role("link", name="Delete session").count() == 0
