"""The /api/v1 face renders every error in one shape: {"detail": str}, or FastAPI's list for 422."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Org
from tests.helpers import INGEST, event


def test_400_shape(client: httpx.Client, org: Org) -> None:
    response = client.get("/api/v1/sessions/", params={"start_datetime": "x"}, headers=org.headers())
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "start_datetime: 'x' is not an ISO 8601 datetime in years 1000-9999"}


def test_401_shape(client: httpx.Client) -> None:
    response = client.get("/api/v1/sessions/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated: send an API key in the Syllable-API-Key header"}
    assert response.headers["www-authenticate"] == "APIKey"


def test_403_shape(client: httpx.Client, org: Org) -> None:
    response = client.get("/api/v1/sessions/", headers=org.headers("ingest"))
    assert response.status_code == 403
    assert response.json() == {"detail": "This API key lacks the 'read' scope"}


def test_404_shape(client: httpx.Client, org: Org) -> None:
    response = client.get("/api/v1/sessions/424242424", headers=org.headers())
    assert response.status_code == 404
    assert response.json() == {"detail": "Session 424242424 not found"}


def test_422_shape_has_loc_msg_type_and_no_echoed_input(client: httpx.Client, org: Org) -> None:
    bad = event("e", data={"source": "nobody", "text": "t"})
    response = client.post(INGEST, json={"events": [bad]}, headers=org.headers())
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert set(error) == {"loc", "msg", "type"}
    assert error["loc"] == ["body", "events", 0, "transcript", "data", "source"]
    assert error["type"] == "literal_error"


def test_422_for_unknown_event_type_names_the_type_field(client: httpx.Client, org: Org) -> None:
    bad = event("e", "session.exploded")
    response = client.post(INGEST, json={"events": [bad]}, headers=org.headers())
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "events", 0, "type"]


def test_413_shape(client: httpx.Client, org: Org) -> None:
    response = client.post(
        INGEST,
        content=b"x" * (10 * 1024 * 1024 + 1),
        headers={**org.headers(), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize("path", ["/api/v1/sessions/%0A", "/api/v1/sessions/%0D", "/api/v1/sessions/1%09"])
def test_paths_with_control_characters_are_404_not_the_list(
    client: httpx.Client, org: Org, path: str
) -> None:
    response = client.get(path, headers=org.headers())
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
