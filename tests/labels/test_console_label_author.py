"""The console's label form is a client like any other: it may not write in sessionary's own name."""

from __future__ import annotations

import httpx

from tests.conftest import Org
from tests.console.data import call, ingest_calls, session_ids
from tests.console.helpers import csrf_of, signed_in
from tests.helpers import LiveServer


def test_a_console_label_in_sessionarys_name_is_403_and_stores_nothing(
    server: LiveServer, client: httpx.Client, org: Org
) -> None:
    ingest_calls(client, org.ingest, [call("a1")])
    path = f"/sessions/{session_ids(client, org.read)['a1']}"
    form = {"code": "GOOD", "issues": "", "comments": "", "user_email": "auto-rating@sessionary"}
    with signed_in(server.url, org.read) as http:
        token = csrf_of(http.get(path).text)
        response = http.post(f"{path}/labels", data={**form, "csrf_token": token})
    assert response.status_code == 403
    assert "user_email" in response.text
    labels = client.get("/api/v1/session_labels/", headers=org.headers("read")).json()
    assert labels["total_count"] == 0
