"""The console in real headless Chromium: sign in, filter, open a session, label it, the overview's
charts, a CSV export read back; every form control labelled, the main controls reachable with Tab and
forms submitted with Enter. Each test leaves a screenshot in test-artifacts/."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import Page

from tests.browser.conftest import ARTIFACTS, Site

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden')
  .filter(el => el.labels.length === 0)
  .filter(el => !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML)"""


def assert_every_control_labelled(page: Page) -> None:
    controls = page.evaluate(
        "() => document.querySelectorAll('input:not([type=hidden]), select, textarea').length"
    )
    assert controls > 0
    assert page.evaluate(UNLABELLED) == []


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until `selector` has the focus (fails when it is not reachable by keyboard)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def shot(page: Page, name: str) -> None:
    """A screenshot of the page as it is now (the fixture also takes one at the end of each test)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def count(page: Page) -> int:
    return int(page.locator("#total-count").get_attribute("data-count") or "-1")


def sign_in(page: Page, site: Site, path: str = "/sessions") -> None:
    page.goto(site.url + path)
    assert "/signin" in page.url
    assert_every_control_labelled(page)
    page.keyboard.type(site.org.read)  # the key field has the focus
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def test_sign_in_and_out_with_the_keyboard(page: Page, site: Site) -> None:
    sign_in(page, site)
    assert page.locator("header .org").inner_text() == "browser-demo"
    assert count(page) == 6
    tab_to(page, "header form.signout button")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/signin$"))
    page.goto(site.url + "/sessions")
    assert "/signin" in page.url


def test_a_wrong_key_is_refused(page: Page, site: Site) -> None:
    page.goto(site.url + "/signin")
    page.keyboard.type("sk_not_a_key")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.get_by_role("alert").inner_text() == "That API key is not valid."
    assert page.locator("#api_key").get_attribute("aria-invalid") == "true"


def test_filter_the_list_and_see_the_count_change(page: Page, site: Site) -> None:
    sign_in(page, site)
    assert_every_control_labelled(page)
    assert count(page) == 6
    tab_to(page, "#f-agent")
    page.select_option("#f-agent", "Billing Support")
    tab_to(page, "#apply")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"agent=Billing\+Support"))
    assert count(page) == 2
    assert "range=" not in page.url  # empty fields stay out of the shared link
    shared = page.url
    tab_to(page, "#f-min_duration")
    page.keyboard.type("100")
    page.keyboard.press("Enter")  # Enter in a field submits the filters
    page.wait_for_url(re.compile(r"min_duration=100"))
    assert count(page) == 1
    page.goto(shared)
    assert count(page) == 2
    assert page.locator("table.sessions tbody tr").count() == 2


def test_open_a_session_add_a_label_and_follow_its_conversation(page: Page, site: Site) -> None:
    sign_in(page, site, "/sessions?conversation_id=conv-b&agent=Pharmacy+Refills")
    page.locator("table.sessions tbody a").first.click()
    page.wait_for_url(re.compile(rf"/sessions/{site.sessions['b1']}$"))
    assert page.locator(".chat .turn.user p").first.inner_text() == "I need a refill"
    tool = page.locator(".chat .tool details")
    assert not tool.locator("pre").first.is_visible()
    tool.locator("summary").click()
    assert tool.locator("pre").first.inner_text() == '{"dob":"1972"}'
    assert page.locator(".latency .bar").count() == 3  # STT, LLM and the tool before the agent's answer
    shot(page, "session-page")
    assert_every_control_labelled(page)
    # The label form, by keyboard: a rating, issues, a comment, the email, and Enter.
    tab_to(page, "input[name=code][value=GOOD]")
    page.keyboard.press("ArrowRight")  # radio group: GOOD -> OK
    page.keyboard.press("ArrowRight")  # OK -> BAD
    tab_to(page, "#l-issues")
    page.keyboard.type("tool_error, slow_answer")
    tab_to(page, "#l-comments")
    page.keyboard.type("took a while")
    tab_to(page, "#l-email")
    page.keyboard.type("reviewer@example.com")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"#labels$"))
    newest = page.locator(".label-list li").first
    assert newest.locator(".label").inner_text() == "BAD"
    assert "tool_error, slow_answer" in newest.inner_text()
    assert "reviewer@example.com" in newest.inner_text()
    page.locator("#conversation-link").click()
    page.wait_for_url(re.compile(r"conversation_id=conv-b"))
    assert count(page) == 2


def test_overview_renders_every_chart_with_data(page: Page, site: Site) -> None:
    sign_in(page, site, "/overview")
    assert_every_control_labelled(page)
    assert page.locator("#total-sessions").inner_text().startswith("6")
    for chart in ("per-day", "durations", "labels", "latency", "tools", "issues"):
        figure = page.locator(f"#chart-{chart}")
        assert figure.locator("svg[role=img]").count() == 1, chart
        assert figure.locator("rect.mark").count() > 0, chart
        assert figure.locator("rect.mark").first.bounding_box()["width"] > 0, chart
        figure.locator("summary").click()
        assert figure.locator("table tbody tr").count() > 0, chart
    shot(page, "overview-every-chart")
    tab_to(page, "#f-agent")
    page.select_option("#f-agent", "Front Desk")
    tab_to(page, "#apply")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"agent=Front\+Desk"))
    assert page.locator("#total-sessions").inner_text().startswith("1")


def test_export_a_csv_and_read_it_back(page: Page, site: Site, tmp_path) -> None:
    sign_in(page, site, "/sessions?test=exclude")
    assert count(page) == 5
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    path = tmp_path / "export.csv"
    download.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert sorted(r["channel_manager_sid"] for r in rows) == ["b1", "b2", "b3", "b4", "b5"]
    assert {r["label_code"] for r in rows} == {"", "BAD", "GOOD"}
