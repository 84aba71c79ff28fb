"""The console's label form takes the session id from the path (issue 11, item 7): an id of 4,300+
digits, or written in another script's digits, is an unknown session (404), never a 500 or another
session's label."""

from __future__ import annotations

import httpx

from tests.conftest import Org
from tests.console.helpers import csrf_of, signed_in
from tests.helpers import LiveServer, event, ingest_ok, list_sessions

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_a_label_posted_to_an_id_that_is_no_plain_number_finds_no_session(
    client: httpx.Client, server: LiveServer, org: Org
) -> None:
    ingest_ok(client, org.ingest, [event("a", "session.started", sid="label-form-ids")])
    [session] = list_sessions(client, org.read)["items"]
    form = {"code": "GOOD", "issues": "", "comments": "", "user_email": "qa@x.io"}
    with signed_in(server.url, org.read) as http:
        token = csrf_of(http.get(f"/sessions/{session['session_id']}").text)
        for path_id in ("9" * 4301, str(2**64), session["session_id"].translate(ARABIC_INDIC)):
            response = http.post(f"/sessions/{path_id}/labels", data={**form, "csrf_token": token})
            assert response.status_code == 404, response.text[:200]
    labels = client.get("/api/v1/session_labels/", headers=org.headers("read")).json()
    assert labels["items"] == []
