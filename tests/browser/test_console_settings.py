"""The console's Settings and Audit pages in real headless Chromium: an admin makes a key (the secret shown
once), revokes it after a confirmation (the key stops working at once), sets the retention, and reads the
trail of it all; a read key sees no Settings link and gets a 403 page. Screenshots in test-artifacts/."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.browser.test_console_browser import assert_every_control_labelled, count, shot


def sign_in_as(page: Page, site: Site, key: str, path: str) -> None:
    page.goto(site.url + path)
    assert "/signin" in page.url
    page.fill("#api_key", key)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def test_an_admin_makes_a_key_sees_it_once_and_revokes_it_after_confirming(page: Page, site: Site) -> None:
    sign_in_as(page, site, site.org.admin, "/sessions")
    page.get_by_role("link", name="Settings").click()
    page.wait_for_url(re.compile(r"/settings$"))
    assert_every_control_labelled(page)
    page.get_by_label("read").check()
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-key-secret").inner_text()
    assert secret.startswith("sk_")
    shot(page, "settings-new-key")
    with httpx.Client(base_url=site.url) as http:
        assert http.get("/api/v1/sessions/", headers={"Syllable-API-Key": secret}).status_code == 200
    row = page.locator("tr", has=page.locator(f"code:text-is('{secret[:10]}…')"))
    row.get_by_role("link", name="Revoke…").click()
    page.wait_for_url(re.compile(r"/revoke$"))
    assert secret[:10] in page.locator("h1").inner_text()
    shot(page, "settings-revoke-confirm")
    page.get_by_role("button", name="Revoke this key").click()
    page.wait_for_url(re.compile(r"/settings#keys$"))
    assert page.locator(f"code:text-is('{secret[:10]}…')").count() == 0
    assert page.locator("#new-key-secret").count() == 0
    with httpx.Client(base_url=site.url) as http:
        assert http.get("/api/v1/sessions/", headers={"Syllable-API-Key": secret}).status_code == 401

    page.fill("#f-retention_days", "400")
    page.get_by_role("button", name="Save retention").click()
    page.wait_for_url(re.compile(r"/settings#retention$"))
    assert "400 days" in page.locator("#retention-now").inner_text()
    page.fill("#f-retention_days", "")
    page.get_by_role("button", name="Save retention").click()
    expect(page.locator("#retention-now")).to_contain_text("forever")

    page.get_by_role("link", name="Audit").click()
    page.wait_for_url(re.compile(r"/audit$"))
    actions = page.locator("table.audit tbody tr td:nth-child(3)").all_inner_texts()
    assert actions[:4] == ["retention.changed", "retention.changed", "key.revoked", "key.created"]
    assert page.locator("table.audit tbody tr").first.locator("td").nth(1).inner_text() == site.org.admin[:10]
    page.select_option("#f-action", "key.revoked")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"action=key\.revoked"))
    assert count(page) >= 1
    assert set(page.locator("table.audit tbody tr td:nth-child(3)").all_inner_texts()) == {"key.revoked"}
    assert_every_control_labelled(page)


def test_a_read_key_has_no_settings_link_and_gets_a_403_page(page: Page, site: Site) -> None:
    sign_in_as(page, site, site.org.read, "/sessions")
    assert page.get_by_role("link", name="Settings").count() == 0
    assert page.get_by_role("link", name="Audit").count() == 0
    response = page.goto(site.url + "/settings")
    assert response is not None
    assert response.status == 403
    assert "admin scope" in page.locator("main").inner_text()
