"""The /api/v2 face renders every error as a Genesys ErrorBody; /api/v1 keeps {"detail": ...}."""

from __future__ import annotations

import httpx

from tests.conftest import Org
from tests.journey.builders import bearer

SESSION = "/api/v2/journey/sessions/0f8fad5b-d9cb-469f-a165-70867728950e"


def _shape(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert isinstance(body["message"], str)
    assert body["message"]
    assert set(body) <= {"message", "code", "status", "contextId", "details"}
    return body


def test_401_without_a_key_names_the_bearer_scheme(client: httpx.Client) -> None:
    body = _shape(client.get(SESSION), 401, "authentication.required")
    assert "Authorization: Bearer" in body["message"]


def test_401_with_a_wrong_key(client: httpx.Client) -> None:
    _shape(client.get(SESSION, headers=bearer("sk_nope")), 401, "authentication.required")


def test_403_for_a_key_without_the_read_scope(client: httpx.Client, org: Org) -> None:
    body = _shape(client.get(SESSION, headers=bearer(org.ingest)), 403, "not.authorized")
    assert "read" in body["message"]


def test_404_for_an_unknown_session_and_an_unknown_path(client: httpx.Client, org: Org) -> None:
    _shape(client.get(SESSION, headers=bearer(org.read)), 404, "not.found")
    _shape(client.get("/api/v2/nothing/here", headers=bearer(org.read)), 404, "not.found")


def test_400_names_the_query_parameter(client: httpx.Client, org: Org) -> None:
    response = client.get(f"{SESSION}/events", params={"pageSize": "500"}, headers=bearer(org.read))
    body = _shape(response, 400, "bad.request")
    assert body["message"].startswith("pageSize")


def test_api_v1_still_answers_in_its_own_shape(client: httpx.Client) -> None:
    response = client.get("/api/v1/sessions/")
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}
    missing = client.get("/api/v1/nothing")
    assert missing.json() == {"detail": "Not Found"}
