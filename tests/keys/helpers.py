"""Helpers of the keys and audit tests: make, list and revoke keys over the API, read the audit trail."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx

from sessionary.db_types import utcnow

KEYS = "/api/v1/keys"
AUDIT = "/api/v1/audit"


def create(client: httpx.Client, admin: str, *scopes: str, **body: Any) -> httpx.Response:
    return client.post(KEYS, json={"scopes": list(scopes), **body}, headers={"Syllable-API-Key": admin})


def create_ok(client: httpx.Client, admin: str, *scopes: str, **body: Any) -> dict[str, Any]:
    response = create(client, admin, *scopes, **body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def listed(client: httpx.Client, admin: str, **params: Any) -> dict[str, Any]:
    response = client.get(KEYS, params=params, headers={"Syllable-API-Key": admin})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def listed_key(client: httpx.Client, admin: str, key_id: int) -> dict[str, Any]:
    items = listed(client, admin, limit=1000)["items"]
    return next(item for item in items if item["id"] == key_id)


def revoke(client: httpx.Client, admin: str, key_id: int, **headers: str) -> httpx.Response:
    return client.delete(f"{KEYS}/{key_id}", headers={"Syllable-API-Key": admin, **headers})


def audit(client: httpx.Client, admin: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(AUDIT, params=params, headers={"Syllable-API-Key": admin})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def in_days(days: float) -> str:
    return (utcnow() + timedelta(days=days)).isoformat().replace("+00:00", "Z")


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    """`check()` once it is truthy (polled; the key-use write happens off the request, in a thread)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)
