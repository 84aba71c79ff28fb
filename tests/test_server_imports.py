"""What a server process holds before its first request: the optional libraries that only some requests
need (a web event's URL and user agent, a phone number, an LLM summarizer, a recording fetch, an OTLP
export; on SQLite, the PostgreSQL driver) are imported at their first use, not by every worker (each
costs megabytes in every process: issue 16's RSS target)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

AT_FIRST_USE = (
    "httpx",
    "tldextract",
    "requests",
    "ua_parser",
    "yaml",
    "maxminddb",
    "phonenumbers",
    "google.protobuf",
    "opentelemetry.proto",
    "psycopg",  # the PostgreSQL driver, in a server on SQLite
)
PROBE = """
import json, sys
from sessionary.app import create_app_from_env
create_app_from_env()
wanted = sys.argv[1:]
print(json.dumps(sorted(n for n in sys.modules if any(n == m or n.startswith(m + ".") for m in wanted))))
"""


def test_a_server_process_imports_no_library_only_some_requests_use(tmp_path: Path) -> None:
    env = {**os.environ, "SESSIONARY_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *AT_FIRST_USE], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_the_libraries_imported_at_first_use_are_installed_and_work() -> None:
    """The probe above would pass with a library missing: each one imports, and its first use answers."""
    from sessionary.journey import contacts, urls
    from sessionary.journey.intake import enrich

    assert urls.registrable_domain("shop.example.co.uk") == "example.co.uk"
    assert contacts.normalize("phone", "(415) 555-0132", "US") == "+14155550132"
    browser, device = enrich.browser_and_device(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.0 Mobile/15E148 Safari/604.1",
        browser=None,
        device=None,
    )
    assert browser is not None
    assert device is not None
    assert device["isMobile"] is True
