"""SESSIONARY_PUBLIC_URL, the base of every webhook URL: an absolute http(s) URL with a host and nothing a
provider would mangle or leak (query, fragment, credentials), at most 500 characters, without a trailing /."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sessionary.config import PUBLIC_URL_MAX_CHARS, Settings
from sessionary.integrations.service import webhook_url

LONGEST = "https://h.example/" + "p" * (PUBLIC_URL_MAX_CHARS - 18)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://sessions.example.com", "https://sessions.example.com"),
        ("https://sessions.example.com/", "https://sessions.example.com"),
        ("http://10.0.0.5:8000/sessionary//", "http://10.0.0.5:8000/sessionary"),
        ("https://[2001:db8::1]:8443", "https://[2001:db8::1]:8443"),
        (LONGEST, LONGEST),
    ],
)
def test_a_valid_public_url_is_kept_without_its_trailing_slash(given: str, kept: str) -> None:
    settings = Settings(public_url=given)
    assert settings.public_url == kept
    assert webhook_url(settings.public_url, "wh_x") == f"{kept}/webhooks/wh_x"


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("sessions.example.com", "needs http:// or https:// and a host"),
        ("/relative/path", "needs http:// or https:// and a host"),
        ("ftp://sessions.example.com", "needs http:// or https:// and a host"),
        ("https://", "needs http:// or https:// and a host"),
        ("https://:8000/x", "needs http:// or https:// and a host"),
        ("https://admin:hunter22@sessions.example.com", "must not carry credentials"),
        ("https://sessions.example.com/?a=1", "must not carry a query"),
        ("https://sessions.example.com/#top", "must not carry a query (?...) or a fragment"),
        ("https://sessions.example.com:99999", "is not a valid URL"),
        ("https://sessions.example.com/a b", "spaces or control characters"),
        ("https://sessions.example.com/\x00", "spaces or control characters"),
        (
            "https://h.example/" + "p" * (PUBLIC_URL_MAX_CHARS - 17),
            f"got {PUBLIC_URL_MAX_CHARS + 1} characters",
        ),
    ],
)
def test_an_invalid_public_url_is_refused_naming_the_variable_and_the_problem(given: str, why: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(public_url=given)
    message = str(caught.value)
    assert "SESSIONARY_PUBLIC_URL" in message
    assert why in message
    assert "hunter22" not in message  # never echoed: it may hold credentials


def test_the_public_url_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESSIONARY_PUBLIC_URL", "https://hooks.example.org/")
    assert Settings().public_url == "https://hooks.example.org"
