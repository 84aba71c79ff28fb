"""Numbers in web/app event attributes and traits (issue 11, item 6): a number is kept as its text, and one
that cannot be kept exactly (past 64 bits, past the double range) is refused with 400 naming the field."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sessionary.db import Database
from tests.conftest import Org
from tests.journey.builders import cookie, make_deployment, now, web

NUM = '"__NUM__"'


@pytest.fixture
def deployment_id(database: Database, org: Org) -> str:
    return make_deployment(database, org.id, "example.com")


def _post(client: httpx.Client, deployment_id: str, where: str, raw: str) -> httpx.Response:
    body: dict[str, Any] = web(cookie(), now())
    body[where] = {"n": {"dataType": "number", "value": "__NUM__"}}
    return client.post(
        f"/api/v2/journey/deployments/{deployment_id}/webevents",
        content=json.dumps(body).replace(NUM, raw),
        headers={"Content-Type": "application/json"},
    )


@pytest.mark.parametrize("where", ["attributes", "traits"])
@pytest.mark.parametrize(
    "raw",
    [str(2**63), str(-(2**63) - 1), str(2**70), "1e400", "-1e400", "1" + "0" * 5000],
    ids=["2**63", "-(2**63)-1", "2**70", "1e400", "-1e400", "5001-digits"],
)
def test_an_attribute_number_that_cannot_be_kept_exactly_is_400_naming_it(
    client: httpx.Client, deployment_id: str, where: str, raw: str
) -> None:
    response = _post(client, deployment_id, where, raw)
    assert response.status_code == 400, response.text
    assert response.json()["details"][0]["fieldName"] == f"body.{where}.n.value"


@pytest.mark.parametrize(
    ("raw", "text"),
    [(str(2**63 - 1), str(2**63 - 1)), (str(-(2**63)), str(-(2**63))), ("0.1", "0.1"), ("1e308", "1e+308")],
)
def test_an_attribute_number_within_range_is_kept_as_its_value_in_text(
    client: httpx.Client, deployment_id: str, raw: str, text: str
) -> None:
    response = _post(client, deployment_id, "attributes", raw)
    assert response.status_code == 201, response.text
    assert response.json()["attributes"]["n"] == {"dataType": "number", "value": text}
