"""Session labels: create with validation, the session's newest label, get, and the shared list contract."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from syllable_sdk import SyllableSDK, errors, models

from tests.conftest import Org
from tests.helpers import LiveServer, event, ingest_ok, list_sessions

LABELS = "/api/v1/session_labels/"


@pytest.fixture
def two_sessions(client: httpx.Client, org: Org) -> list[int]:
    ingest_ok(
        client, org.ingest, [event("a", "session.started", sid="a"), event("b", "session.started", sid="b")]
    )
    return sorted(int(s["session_id"]) for s in list_sessions(client, org.read)["items"])


def _label(session_id: int, **overrides: Any) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "type": "human-rating",
        "code": "GOOD",
        "user_email": "qa@x.io",
        **overrides,
    }


def _create(client: httpx.Client, org: Org, body: dict[str, Any], scope: str = "read") -> dict[str, Any]:
    response = client.post(LABELS, json=body, headers=org.headers(scope))
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def test_create_returns_the_label_and_it_becomes_the_sessions_newest(
    client: httpx.Client, org: Org, two_sessions: list[int]
) -> None:
    first = _create(client, org, _label(two_sessions[0], code="BAD", issue_categories=["Silent treatment"]))
    assert first["code"] == "BAD"
    assert first["issue_categories"] == ["Silent treatment"]
    assert first["timestamp"].endswith("Z")
    second = _create(client, org, _label(two_sessions[0], code="OK", comments="better on re-listen"))
    session = client.get(f"/api/v1/sessions/{two_sessions[0]}", headers=org.headers("read")).json()
    assert session["session_label_id"] == str(second["id"])
    got = client.get(f"{LABELS}{first['id']}", headers=org.headers("read"))
    assert got.json() == first


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "robot-rating"}, "type"),
        ({"code": "GREAT"}, "code"),
        ({"code": "good"}, "code"),
        ({"user_email": ""}, "user_email"),
        ({"session_id": "abc"}, "session_id"),
        ({"issue_categories": "not a list"}, "issue_categories"),
        ({"extra": 1}, "extra"),
    ],
)
def test_invalid_label_is_422_naming_the_field(
    client: httpx.Client, org: Org, two_sessions: list[int], change: dict[str, Any], field: str
) -> None:
    response = client.post(LABELS, json={**_label(two_sessions[0]), **change}, headers=org.headers("read"))
    assert response.status_code == 422
    assert any(field in err["loc"] for err in response.json()["detail"])


def test_label_needs_a_session_of_the_organization(
    client: httpx.Client, org: Org, other_org: Org, two_sessions: list[int]
) -> None:
    for who, session_id in ((org, 999_999_999), (other_org, two_sessions[0])):
        response = client.post(LABELS, json=_label(session_id), headers=who.headers("read"))
        assert response.status_code == 404
    assert client.get(f"{LABELS}999999", headers=org.headers("read")).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"type": "auto-rating"}, "type"),
        ({"type": "auto-rating", "user_email": "auto-rating@sessionary"}, "type"),
        ({"user_email": "Auto-Rating@Sessionary"}, "user_email"),
    ],
)
def test_a_read_key_may_not_pass_its_label_off_as_sessionarys_auto_rating(
    client: httpx.Client, org: Org, two_sessions: list[int], overrides: dict[str, str], field: str
) -> None:
    response = client.post(LABELS, json=_label(two_sessions[0], **overrides), headers=org.headers("read"))
    assert response.status_code == 403, response.text
    assert response.json()["detail"].startswith(f"{field}: ")
    session = client.get(f"/api/v1/sessions/{two_sessions[0]}", headers=org.headers("read")).json()
    assert session["session_label_id"] is None
    assert client.get(LABELS, headers=org.headers("read")).json()["total_count"] == 0


def test_an_admin_key_may_post_an_auto_rating_label(
    client: httpx.Client, org: Org, two_sessions: list[int]
) -> None:
    body = _label(two_sessions[0], type="auto-rating", user_email="auto-rating@sessionary")
    assert _create(client, org, body, scope="admin")["type"] == "auto-rating"


def test_list_contract_over_labels(client: httpx.Client, org: Org, two_sessions: list[int]) -> None:
    a, b = two_sessions
    _create(client, org, _label(a, code="BAD", issue_categories=["Speech transcription (STT)"]))
    _create(client, org, _label(b, code="GOOD"))
    _create(client, org, _label(b, code="OK", type="auto-rating"), scope="admin")

    def search(**params: Any) -> dict[str, Any]:
        response = client.get(LABELS, params=params, headers=org.headers("read"))
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page

    everything = search()
    assert everything["total_count"] == 3
    assert [i["code"] for i in everything["items"]] == ["OK", "GOOD", "BAD"]  # newest first
    assert search(search_fields="code", search_field_values="bad")["total_count"] == 1
    assert search(search_fields="session_id_list", search_field_values=f"{a},{b}")["total_count"] == 3
    assert search(search_fields="session_id_list", search_field_values=str(b))["total_count"] == 2
    assert search(search_fields="issue_categories", search_field_values="stt")["total_count"] == 1
    assert search(search_fields="type", search_field_values="auto")["total_count"] == 1
    ordered = search(order_by="code", order_by_direction="asc")["items"]
    assert [i["code"] for i in ordered] == ["BAD", "GOOD", "OK"]
    projected = search(fields="issue_categories")["items"][0]
    assert set(projected) == {
        "session_id",
        "type",
        "code",
        "user_email",
        "id",
        "timestamp",
        "issue_categories",
    }
    bad = client.get(
        LABELS,
        params={"search_fields": "session_id_list", "search_field_values": "1,x"},
        headers=org.headers(),
    )
    assert bad.status_code == 400
    assert "session_id_list" in bad.json()["detail"]


def test_official_client_creates_lists_and_gets_labels(
    server: LiveServer, org: Org, two_sessions: list[int]
) -> None:
    with SyllableSDK(server_url=server.url, api_key_header=org.read) as sdk:
        created = sdk.session_labels.create(
            request=models.SessionLabelCreate(
                session_id=two_sessions[1],
                type="human-rating",
                code="N/A",
                user_email="qa@x.io",
                comments="muted",
            )
        )
        assert created.code == "N/A"
        listed = sdk.session_labels.list(
            search_fields=[models.SessionLabelProperties.SESSION_ID],
            search_field_values=[str(two_sessions[1])],
        )
        assert listed.total_count == 1
        assert listed.items[0].id == created.id
        fetched = sdk.session_labels.get_by_id(session_label_id=created.id)
        assert fetched.comments == "muted"
        assert fetched.session_id == two_sessions[1]
        with pytest.raises(errors.APIError) as refused:
            sdk.session_labels.create(
                request=models.SessionLabelCreate(
                    session_id=two_sessions[1], type="auto-rating", code="GOOD", user_email="qa@x.io"
                )
            )
        assert refused.value.status_code == 403
