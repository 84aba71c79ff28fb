"""The admin API's integrations on every database: create (the webhook URL shown once), list, delete; admin
keys only; every invalid input a 422 naming its field; the secret never comes back out."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import select

from sessionary.db import Database, session_scope
from sessionary.integrations import service
from sessionary.integrations.models import Integration
from sessionary.integrations.secrets import SECRET_NAME, Sealer
from sessionary.recordings.tokens import load_secret
from tests.conftest import Org
from tests.integrations.conftest import INTEGRATIONS, PUBLIC_URL, SECRETS, create, create_ok, listed

LISTED_FIELDS = {"id", "provider", "name", "token_prefix", "created_at"}


@pytest.mark.parametrize("provider", sorted(SECRETS))
def test_create_answers_201_with_a_webhook_url_built_on_the_public_url(
    client: httpx.Client, org: Org, database: Database, provider: str
) -> None:
    created = create_ok(client, org.admin, provider, name=f"{provider} line")
    assert set(created) == LISTED_FIELDS | {"webhook_url"}
    assert created["provider"] == provider
    assert created["name"] == f"{provider} line"
    assert created["created_at"].endswith("Z")
    url = created["webhook_url"]
    assert url.startswith(f"{PUBLIC_URL}/webhooks/{created['token_prefix']}")
    with session_scope(database.reader) as db:
        found = service.find_active(db, token=url.rsplit("/", 1)[1])
        assert found is not None
        assert found.id == created["id"]
        assert found.organization_id == org.id


def test_list_shows_the_organizations_integrations_in_the_envelope_without_secret_or_url(
    client: httpx.Client, org: Org
) -> None:
    first = create_ok(client, org.admin, "twilio")
    second = create_ok(client, org.admin, "vapi", name="support")
    page = listed(client, org.admin)
    assert set(page) == {"items", "page", "page_size", "total_pages", "total_count"}
    assert page["total_count"] == 2
    assert [item["id"] for item in page["items"]] == [second["id"], first["id"]]  # newest first
    for item in page["items"]:
        assert set(item) <= LISTED_FIELDS
    assert page["items"][0] == {k: v for k, v in second.items() if k != "webhook_url"}
    searched = listed(client, org.admin, search_fields="provider", search_field_values="twilio")
    assert [item["id"] for item in searched["items"]] == [first["id"]]
    projected = listed(client, org.admin, fields="name")["items"][0]
    assert set(projected) == LISTED_FIELDS  # the required keys stay


def test_delete_answers_204_then_404_and_the_integration_leaves_the_list(
    client: httpx.Client, org: Org, database: Database
) -> None:
    created = create_ok(client, org.admin)
    headers = org.headers("admin")
    assert client.delete(f"{INTEGRATIONS}/{created['id']}", headers=headers).status_code == 204
    again = client.delete(f"{INTEGRATIONS}/{created['id']}", headers=headers)
    assert again.status_code == 404
    assert again.json() == {"detail": "Integration not found"}
    assert listed(client, org.admin)["total_count"] == 0
    with session_scope(database.reader) as db:
        assert service.find_active(db, token=created["webhook_url"].rsplit("/", 1)[1]) is None


@pytest.mark.parametrize("unknown", [0, -1, 2**63, 10**30])
def test_delete_of_an_unknown_id_answers_404(client: httpx.Client, org: Org, unknown: int) -> None:
    response = client.delete(f"{INTEGRATIONS}/{unknown}", headers=org.headers("admin"))
    assert response.status_code in (404, 422)  # 10**30 is no integer id at all (422 naming it)
    if unknown < 2**63:
        assert response.status_code == 404


def test_another_organizations_integration_is_404_on_delete_and_absent_from_the_list(
    client: httpx.Client, org: Org, other_org: Org
) -> None:
    theirs = create_ok(client, other_org.admin)
    response = client.delete(f"{INTEGRATIONS}/{theirs['id']}", headers=org.headers("admin"))
    assert response.status_code == 404
    assert listed(client, org.admin)["total_count"] == 0
    assert [item["id"] for item in listed(client, other_org.admin)["items"]] == [theirs["id"]]


def _each_operation(client: httpx.Client, headers: dict[str, str]) -> list[httpx.Response]:
    body = {"provider": "twilio", "secret": SECRETS["twilio"]}
    return [
        client.post(INTEGRATIONS, json=body, headers=headers),
        client.get(INTEGRATIONS, headers=headers),
        client.delete(f"{INTEGRATIONS}/1", headers=headers),
    ]


def test_every_operation_answers_401_without_a_key(client: httpx.Client) -> None:
    for response in _each_operation(client, {}):
        assert response.status_code == 401, response.request.method
        assert response.json()["detail"].startswith("Not authenticated")


@pytest.mark.parametrize("scope", ["read", "ingest"])
def test_every_operation_answers_403_to_a_key_without_admin(
    client: httpx.Client, org: Org, scope: str
) -> None:
    for response in _each_operation(client, org.headers(scope)):
        assert response.status_code == 403, response.request.method
        assert response.json() == {"detail": "This API key lacks the 'admin' scope"}
    assert listed(client, org.admin)["total_count"] == 0  # nothing was created


INVALID = [
    pytest.param(
        {"provider": "plivo", "secret": "s3cret-value"}, ["body", "provider"], id="unknown-provider"
    ),
    pytest.param({"secret": "s3cret-value"}, ["body", "provider"], id="no-provider"),
    pytest.param({"provider": "vapi"}, ["body", "secret"], id="no-secret"),
    pytest.param({"provider": "vapi", "secret": ""}, ["body", "secret"], id="empty-secret"),
    pytest.param({"provider": "vapi", "secret": "x" * 513}, ["body", "secret"], id="overlong-secret"),
    pytest.param({"provider": "vapi", "secret": "s3cret\nvalue"}, ["body", "secret"], id="newline-secret"),
    pytest.param({"provider": "vapi", "secret": "s3cret\x00value"}, ["body", "secret"], id="nul-secret"),
    pytest.param({"provider": "vapi", "secret": " s3cret-value"}, ["body", "secret"], id="spaced-secret"),
    pytest.param({"provider": "vapi", "secret": 12345}, ["body", "secret"], id="number-secret"),
    pytest.param(
        {"provider": "vapi", "secret": "s3cret-value", "name": "n" * 201}, ["body", "name"], id="long-name"
    ),
    pytest.param(
        {"provider": "vapi", "secret": "s3cret-value", "name": "a\tb"}, ["body", "name"], id="tab-name"
    ),
    pytest.param(
        {"provider": "vapi", "secret": "s3cret-value", "name": ""}, ["body", "name"], id="empty-name"
    ),
    pytest.param(
        {"provider": "vapi", "secret": "s3cret-value", "webhook_url": "https://x"},
        ["body", "webhook_url"],
        id="extra-field",
    ),
]


@pytest.mark.parametrize(("body", "loc"), INVALID)
def test_an_invalid_body_answers_422_naming_the_field_and_creates_nothing(
    client: httpx.Client, org: Org, body: dict, loc: list[str]
) -> None:
    response = create(client, org.admin, body)
    assert response.status_code == 422, response.text
    assert [issue["loc"] for issue in response.json()["detail"]] == [loc]
    assert "s3cret" not in response.text  # the value is never echoed
    assert listed(client, org.admin)["total_count"] == 0


def test_a_body_that_is_not_json_answers_422(client: httpx.Client, org: Org) -> None:
    response = client.post(
        INTEGRATIONS,
        content=b'{"provider": "vapi", "secret": ',
        headers={**org.headers("admin"), "content-type": "application/json"},
    )
    assert response.status_code == 422


def test_a_body_over_the_default_limit_answers_413(client: httpx.Client, org: Org) -> None:
    padding = "x" * (1024 * 1024)  # SESSIONARY_BODY_MAX_BYTES defaults to 1 MiB
    response = create(client, org.admin, {"provider": "vapi", "secret": "s", "name": padding})
    assert response.status_code == 413


def test_the_secret_never_appears_in_responses_logs_or_the_database_in_clear(
    client: httpx.Client, org: Org, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Unmistakable-Provider-Secret-9f83"
    caplog.set_level(logging.DEBUG)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "sessionary", "sqlalchemy.engine"):
        caplog.set_level(logging.DEBUG, logger=name)
    responses = [
        create(client, org.admin, {"provider": "retell", "secret": secret, "name": "logged?"}),
        create(client, org.admin, {"provider": "retell", "secret": secret, "name": "x" * 300}),  # 422
        create(client, org.admin, {"provider": "nope", "secret": secret}),  # 422
        create(client, org.read, {"provider": "retell", "secret": secret}),  # 403
    ]
    assert [r.status_code for r in responses] == [201, 422, 422, 403]
    responses.append(client.get(INTEGRATIONS, headers=org.headers("admin")))
    for response in responses:
        assert secret not in response.text
    assert "INSERT INTO integration" in caplog.text  # the request's statements were logged, parameters too
    assert secret not in caplog.text
    with session_scope(database.reader) as db:
        row = db.scalar(select(Integration).where(Integration.id == responses[0].json()["id"]))
        assert row is not None
        assert secret not in row.sealed_secret
        assert all(secret not in str(value) for value in vars(row).values())
        sealer = Sealer(load_secret(database, None, name=SECRET_NAME))
        assert service.secret_of(db, sealer, integration_id=row.id) == secret
