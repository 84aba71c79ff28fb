"""What the ingest endpoints refuse, in Genesys ErrorBody form, storing nothing: unknown deployments,
pages off the allowed domains, events too old or in the future, malformed fields; and CORS."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from sessionary.db import Database, session_scope
from sessionary.journey.models import Customer, JourneyEvent
from tests.conftest import Org
from tests.journey.builders import app_body, cookie, make_deployment, minutes, now, post_app, post_web, web

ERROR_KEYS = {"message", "code", "status", "contextId"}


@pytest.fixture
def deployment_id(database: Database, org: Org) -> str:
    return make_deployment(database, org.id, "example.com")


def _stored(database: Database, deployment_id: str) -> tuple[int, int]:
    with session_scope(database.reader) as db:
        events = db.scalar(select(func.count()).where(JourneyEvent.deployment_id == deployment_id))
        customers = db.scalar(select(func.count()).where(Customer.deployment_id == deployment_id))
    return events or 0, customers or 0


def _error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert ERROR_KEYS <= set(body) <= ERROR_KEYS | {"details"}
    assert body["status"] == status
    assert None not in body.values()
    return body


@pytest.mark.parametrize("deployment", [str(uuid.uuid4()), "not-a-uuid"])
def test_an_unknown_deployment_is_404_not_found(client: httpx.Client, deployment: str) -> None:
    body = _error(post_web(client, deployment, web(cookie(), now())), 404)
    assert body["code"] == "not.found"
    assert deployment in body["message"]


def test_a_page_off_the_allowed_domains_is_403_and_stores_nothing(
    client: httpx.Client, database: Database, deployment_id: str
) -> None:
    body = _error(post_web(client, deployment_id, web(cookie(), now(), url="https://evil.example.org/")), 403)
    assert "evil.example.org" in body["message"]
    assert body["code"] == "not.authorized"
    assert _stored(database, deployment_id) == (0, 0)


def test_subdomains_of_an_allowed_domain_are_accepted(client: httpx.Client, deployment_id: str) -> None:
    for url in ("https://example.com/", "https://shop.EXAMPLE.com/cart"):
        assert post_web(client, deployment_id, web(cookie(), now(), url=url)).status_code == 201


@pytest.mark.parametrize("age", [timedelta(hours=1, minutes=1), timedelta(days=3)])
def test_an_event_older_than_the_window_is_400_naming_created_date(
    client: httpx.Client, database: Database, deployment_id: str, age: timedelta
) -> None:
    body = _error(post_web(client, deployment_id, web(cookie(), now() - age)), 400)
    assert body["message"].startswith("createdDate:")
    assert _stored(database, deployment_id) == (0, 0)


def test_an_event_in_the_future_beyond_the_skew_is_400(client: httpx.Client, deployment_id: str) -> None:
    body = _error(post_app(client, deployment_id, app_body(cookie(), now() + minutes(10))), 400)
    assert "future" in body["message"]
    assert post_web(client, deployment_id, web(cookie(), now() + minutes(1))).status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"eventName": "page viewed"}, "body.eventName"),
        ({"eventName": "page-viewed"}, "body.eventName"),
        ({"page": {"title": "no url"}}, "body.page.url"),
        ({"customerCookieId": ""}, "body.customerCookieId"),
        ({"createdDate": "yesterday"}, "body.createdDate"),
        ({"ipAddress": "300.1.1.1"}, "body.ipAddress"),
        (
            {"device": {"category": "phone", "type": "x", "osFamily": "y", "osVersion": "1"}},
            "body.device.category",
        ),
    ],
)
def test_a_malformed_field_is_400_naming_it(
    client: httpx.Client, database: Database, deployment_id: str, change: dict, field: str
) -> None:
    body = _error(post_web(client, deployment_id, {**web(cookie(), now()), **change}), 400)
    assert body["message"].startswith(field)
    assert body["details"][0]["fieldName"] == field
    assert _stored(database, deployment_id) == (0, 0)


def test_an_app_event_without_its_app_is_400(client: httpx.Client, deployment_id: str) -> None:
    incomplete = app_body(cookie(), now())
    del incomplete["app"]
    assert _error(post_app(client, deployment_id, incomplete), 400)["message"].startswith("body.app")


def test_browsers_may_post_events_from_any_origin_but_reads_send_no_cors_headers(
    client: httpx.Client, deployment_id: str, org: Org
) -> None:
    preflight = client.options(
        f"/api/v2/journey/deployments/{deployment_id}/webevents",
        headers={
            "Origin": "https://www.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    posted = post_web(
        client, deployment_id, web(cookie(), now()), headers={"Origin": "https://www.example.com"}
    )
    assert posted.headers["access-control-allow-origin"] == "*"
    read = client.get(
        "/api/v2/journey/sessions/x", headers={"Origin": "https://a.b", "Authorization": f"Bearer {org.read}"}
    )
    assert "access-control-allow-origin" not in read.headers


def test_a_body_over_the_limit_gets_413_and_nothing_is_stored(
    client: httpx.Client, database: Database, deployment_id: str
) -> None:
    body = web(cookie(), now())
    body["attributes"] = {f"a{n}": {"dataType": "String", "value": "x" * 1000} for n in range(100)}
    body["searchQuery"] = "y" * 1000
    padded = {**body, "padding": "z" * 200_000}  # unknown keys are ignored, but still count as bytes
    response = client.post(f"/api/v2/journey/deployments/{deployment_id}/webevents", json=padded)
    assert "larger than" in _error(response, 413)["message"]
    assert _stored(database, deployment_id) == (0, 0)
    assert post_web(client, deployment_id, body).status_code == 201  # 100 attributes of 1,000 characters fit


def test_other_methods_on_the_ingest_paths_get_405_naming_the_allowed_ones(
    client: httpx.Client, deployment_id: str
) -> None:
    response = client.get(f"/api/v2/journey/deployments/{deployment_id}/webevents")
    _error(response, 405)
    assert response.headers["allow"] == "POST, OPTIONS"


def test_a_deployment_id_with_a_control_character_is_not_found(client: httpx.Client) -> None:
    response = client.post("/api/v2/journey/deployments/a%00b/webevents", json=web(cookie(), now()))
    assert response.status_code == 404
    assert response.json()["code"] == "not.found"
