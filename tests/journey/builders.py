"""Plain builders for journey test data: deployments, web and app event bodies, posting them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from sessionary.db import Database, session_scope
from sessionary.journey import deployments

UA_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)
UA_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.91 Safari/537.36"
)


def make_deployment(database: Database, organization_id: int, *domains: str, **rules: int) -> str:
    with session_scope(database.writer) as db:
        row = deployments.create_deployment(
            db,
            organization_id=organization_id,
            name="Test site",
            allowed_domains=domains,
            rules=deployments.SessionRules(**rules),
        )
        return row.id


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def web(
    cookie: str,
    at: datetime,
    name: str = "page_viewed",
    *,
    url: str = "https://www.example.com/",
    title: str = "Home",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "customerCookieId": cookie,
        "eventName": name,
        "page": {"url": url, "title": title},
        "createdDate": iso(at),
        **extra,
    }


def app_body(
    cookie: str, at: datetime, name: str = "screen_viewed", screen: str = "Home", **extra: Any
) -> dict[str, Any]:
    return {
        "customerCookieId": cookie,
        "eventName": name,
        "screenName": screen,
        "app": {"name": "bank", "namespace": "com.example.bank", "version": "5.9.27", "buildNumber": "701"},
        "device": {"category": "mobile", "type": "iPhone", "osFamily": "iOS", "osVersion": "17.4"},
        "createdDate": iso(at),
        **extra,
    }


def cookie() -> str:
    return str(uuid.uuid4())


def post_web(client: httpx.Client, deployment_id: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return client.post(f"/api/v2/journey/deployments/{deployment_id}/webevents", json=body, **kwargs)


def post_app(client: httpx.Client, deployment_id: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return client.post(f"/api/v2/journey/deployments/{deployment_id}/appevents", json=body, **kwargs)


def web_ok(client: httpx.Client, deployment_id: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = post_web(client, deployment_id, body, **kwargs)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def get_session(client: httpx.Client, key: str, session_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v2/journey/sessions/{session_id}", headers=bearer(key))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
