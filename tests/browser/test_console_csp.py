"""The console under its Content-Security-Policy in real Chromium: no violation on any page, and what the
policy could have broken still shows (latency bars have their widths, chart marks their colors)."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Page

from tests.browser.conftest import Site
from tests.browser.test_console_browser import sign_in

VIOLATIONS = """() => window.__violations || []"""
LISTEN = """document.addEventListener('securitypolicyviolation',
  e => (window.__violations = window.__violations || []).push(e.violatedDirective + ' ' + e.blockedURI));"""


def test_console_pages_break_no_rule_of_their_policy_and_still_draw_bars_and_charts(
    page: Page, site: Site
) -> None:
    messages: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            messages.append(message.text)

    page.on("console", keep)
    page.add_init_script(LISTEN)
    sign_in(page, site)
    assert page.evaluate(VIOLATIONS) == []
    page.goto(f"{site.url}/sessions/{site.sessions['b1']}")
    assert page.evaluate(VIOLATIONS) == []
    widths = [
        box["width"] for box in (bar.bounding_box() for bar in page.locator(".latency rect.bar").all()) if box
    ]
    assert widths
    assert all(width > 0 for width in widths)
    stt = page.locator(".latency rect.bar-stt").first.evaluate("el => getComputedStyle(el).fill")
    assert stt == "rgb(9, 105, 218)"  # --stt: painted by the stylesheet, not by a style attribute
    page.goto(f"{site.url}/overview")
    assert page.evaluate(VIOLATIONS) == []
    fills = page.locator("svg.chart-svg rect.mark").evaluate_all(
        "els => els.map(e => getComputedStyle(e).fill)"
    )
    assert fills
    assert "rgb(0, 0, 0)" not in fills  # SVG's default black: a mark without its color class
    assert messages == []
