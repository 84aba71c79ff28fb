"""API keys: missing or wrong keys get 401, scopes are enforced, and organizations never see each other."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Org
from tests.helpers import INGEST, event, ingest_ok, list_sessions, post_events


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/sessions/"), ("GET", "/api/v1/sessions/1"), ("POST", INGEST)],
)
@pytest.mark.parametrize(
    "headers", [{}, {"Syllable-API-Key": "sk_wrong"}, {"Authorization": "Bearer sk_wrong"}]
)
def test_missing_or_wrong_key_is_401_with_detail(
    client: httpx.Client, method: str, path: str, headers: dict[str, str]
) -> None:
    response = client.request(method, path, headers=headers, json={"events": []})
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)
    assert response.json()["detail"]


def test_bearer_key_is_accepted(client: httpx.Client, org: Org) -> None:
    response = client.post(
        INGEST, json={"events": [event("b1")]}, headers={"Authorization": f"Bearer {org.ingest}"}
    )
    assert response.status_code == 200
    listed = client.get("/api/v1/sessions/", headers={"Authorization": f"Bearer {org.read}"})
    assert listed.json()["total_count"] == 1


def test_read_key_cannot_ingest(client: httpx.Client, org: Org) -> None:
    response = post_events(client, org.read, [event("r1")])
    assert response.status_code == 403
    assert "ingest" in response.json()["detail"]


def test_ingest_key_cannot_read(client: httpx.Client, org: Org) -> None:
    response = client.get("/api/v1/sessions/", headers=org.headers("ingest"))
    assert response.status_code == 403
    assert "read" in response.json()["detail"]


def test_admin_key_may_read_and_ingest(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.admin, [event("a1")])
    assert list_sessions(client, org.admin)["total_count"] == 1


def test_organizations_never_see_each_other(client: httpx.Client, org: Org, other_org: Org) -> None:
    ingest_ok(client, org.ingest, [event("mine", "session.started", sid="shared-sid")])
    # The same producer ids in another organization make a separate session.
    ingest_ok(client, other_org.ingest, [event("mine", "session.started", sid="shared-sid")])
    mine = list_sessions(client, org.read)["items"]
    theirs = list_sessions(client, other_org.read)["items"]
    assert len(mine) == len(theirs) == 1
    assert mine[0]["session_id"] != theirs[0]["session_id"]
    response = client.get(f"/api/v1/sessions/{theirs[0]['session_id']}", headers=org.headers("read"))
    assert response.status_code == 404
    search = list_sessions(
        client, org.read, search_fields="session_id", search_field_values=theirs[0]["session_id"]
    )
    assert search["total_count"] == 0
