"""A journey (web) session in real headless Chromium: its page trail, then the link to the same
customer's call and on to that call's page, which links back to the visits. Screenshots in test-artifacts/."""

from __future__ import annotations

import re
from dataclasses import replace

import httpx
import pytest
from playwright.sync_api import Page

from sessionary.db import open_database
from tests.browser.conftest import Site
from tests.browser.test_console_browser import assert_every_control_labelled, shot, sign_in
from tests.conftest import make_org
from tests.console.journey_data import Customer, build_customer


@pytest.fixture(scope="module")
def journey_site(site: Site) -> tuple[Site, Customer]:
    """The browser site with an organization of its own holding one known customer (so the other
    browser tests' counts stay as they are)."""
    database = open_database(site.database_url, pool_size=1)
    try:
        org = make_org(database, "browser-journey")
        with httpx.Client(base_url=site.url, timeout=60) as http:
            customer = build_customer(http, database, org.id, ingest_key=org.ingest, read_key=org.read)
    finally:
        database.dispose()
    return replace(site, org=org), customer


def test_follow_a_visit_to_the_customers_call(page: Page, journey_site: tuple[Site, Customer]) -> None:
    site, customer = journey_site
    sign_in(page, site, f"/sessions/{customer.visit}")
    trail = page.locator("section.journey ol li")
    assert trail.count() == 3
    assert "Spring sale" in trail.nth(0).inner_text()
    assert "Checkout" in trail.nth(2).inner_text()
    facts = page.locator("section.journey dl").inner_text()
    assert "newsletter / Spring Sale" in facts
    assert "mobile / iOS" in facts
    shot(page, "journey-session-page")
    others = page.locator("section.customer a")
    assert others.count() == 2
    others.first.focus()  # reachable by keyboard: a plain link
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/sessions/{customer.call}$"))
    assert "web" in page.locator("section.customer").inner_text()  # the call's page lists the visits
    back = page.locator(f'section.customer a[href="/sessions/{customer.visit}"]')
    assert back.count() == 1
    assert page.locator("section.journey").count() == 0
    assert_every_control_labelled(page)
    back.click()
    page.wait_for_url(re.compile(rf"/sessions/{customer.visit}$"))
    assert page.locator("section.journey ol li").count() == 3
