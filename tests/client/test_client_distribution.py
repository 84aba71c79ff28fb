"""The producer client is a light distribution of its own: httpx its only dependency, nothing of the server
imported, typed (py.typed), and the server's limits on a request stated where it checks them."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import httpx
import pytest

from sessionary.config import Settings
from sessionary_client import SERVER_MAX_BYTES, SERVER_MAX_EVENTS, RetryPolicy, SessionaryClient
from sessionary_client._sender import MAX_RETRY_AFTER, retry_after

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "python"


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}


def test_the_client_depends_on_httpx_only_and_ships_py_typed() -> None:
    project = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]
    assert [dependency.split(">")[0] for dependency in project["dependencies"]] == ["httpx"]
    assert (CLIENT / "src" / "sessionary_client" / "py.typed").exists()


def test_the_client_imports_nothing_of_the_server() -> None:
    modules = set().union(*(_imported(path) for path in (CLIENT / "src").rglob("*.py")))
    assert modules
    assert not {m for m in modules if m == "sessionary" or m.startswith("sessionary.")}


def test_the_clients_request_bounds_are_the_servers_defaults() -> None:
    fields = Settings.model_fields
    defaults = (fields["ingest_max_events"].default, fields["ingest_max_bytes"].default)
    assert (SERVER_MAX_EVENTS, SERVER_MAX_BYTES) == defaults


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("86400", MAX_RETRY_AFTER),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_retry_after_is_read_in_seconds_or_as_a_date_and_bounded(header: str, seconds: float) -> None:
    assert retry_after(httpx.Response(503, headers={"Retry-After": header})) == seconds


@pytest.mark.parametrize("header", [None, "soon"])
def test_a_missing_or_unreadable_retry_after_falls_back_to_the_capped_backoff(header: str | None) -> None:
    response = httpx.Response(503, headers={} if header is None else {"Retry-After": header})
    policy = RetryPolicy(backoff=1.0, max_backoff=4.0)
    assert retry_after(response) is None
    assert 2.0 <= policy.delay(10, response) <= 4.0  # capped at 4 s, never below half the cap (jitter)


def test_the_client_is_a_context_manager_that_closes() -> None:
    with SessionaryClient("http://127.0.0.1:9", "sk_unused") as client:
        assert client.stats.accepted == 0
    assert client.close(timeout=1)  # closing again is harmless
