"""Console test helpers: sign in like a browser (cookie + CSRF token), read values out of pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


@contextmanager
def signed_in(base_url: str, key: str) -> Iterator[httpx.Client]:
    """A cookie-keeping client signed in to the console with `key`."""
    with httpx.Client(base_url=base_url, timeout=60, follow_redirects=False) as http:
        page = http.get("/signin")
        data = {"api_key": key, "csrf_token": csrf_of(page.text), "next": "/"}
        response = http.post("/signin", data=data)
        assert response.status_code == 303, response.text
        yield http


def total_count(html: str) -> int:
    match = re.search(r'id="total-count" data-count="(\d+)"', html)
    assert match, "no total count on the page"
    return int(match.group(1))
