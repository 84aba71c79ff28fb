"""Numbers in a label body (issue 11, item 6): one that cannot be kept exactly is refused with 422 naming
the field, however many digits it has, on every database."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import Org
from tests.helpers import event, ingest_ok, list_sessions

LABELS = "/api/v1/session_labels/"


@pytest.mark.parametrize(
    "raw",
    [str(2**63), str(2**64), "1e400", "-1", "1.5", '"Infinity"', "1" + "0" * 5000],
    ids=["2**63", "2**64", "1e400", "negative", "fraction", "infinity", "5001-digits"],
)
def test_a_label_session_id_that_is_no_64_bit_id_is_refused_naming_session_id(
    client: httpx.Client, org: Org, raw: str
) -> None:
    body = {"session_id": "__NUM__", "type": "human-rating", "code": "GOOD", "user_email": "qa@x.io"}
    response = client.post(
        LABELS,
        content=json.dumps(body).replace('"__NUM__"', raw),
        headers={**org.headers("read"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "session_id"]


def test_a_label_with_a_64_bit_session_id_is_taken_as_that_id(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, [event("a", "session.started", sid="label-numbers")])
    [session] = list_sessions(client, org.read)["items"]
    body = {
        "session_id": int(session["session_id"]),
        "type": "human-rating",
        "code": "OK",
        "user_email": "q@x.io",
    }
    created = client.post(LABELS, json=body, headers=org.headers("read"))
    assert created.status_code == 200, created.text
    assert created.json()["session_id"] == int(session["session_id"])
    unknown = client.post(LABELS, json={**body, "session_id": 2**63 - 1}, headers=org.headers("read"))
    assert unknown.status_code == 404, unknown.text
