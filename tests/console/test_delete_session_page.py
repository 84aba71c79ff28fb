"""The console's "Delete session": offered to an admin key only, confirmed on a page of its own, posted
with the CSRF token; a read-only key sees no button and is refused (403) both pages."""

from __future__ import annotations

import httpx

from tests.conftest import Org
from tests.console.data import call, ingest_calls, session_ids
from tests.console.helpers import csrf_of, signed_in
from tests.helpers import LiveServer


def _a_call(client: httpx.Client, org: Org) -> str:
    ingest_calls(client, org.ingest, [call("c1"), call("c2")])
    return session_ids(client, org.read)["c1"]


def test_an_admin_key_deletes_a_session_after_confirming_and_the_list_says_so(
    server: LiveServer, client: httpx.Client, org: Org
) -> None:
    session_id = _a_call(client, org)
    with signed_in(server.url, org.admin) as console:
        page = console.get(f"/sessions/{session_id}")
        assert f'href="/sessions/{session_id}/delete"' in page.text
        confirm = console.get(f"/sessions/{session_id}/delete")
        assert confirm.status_code == 200
        assert 'id="confirm-delete"' in confirm.text
        done = console.post(f"/sessions/{session_id}/delete", data={"csrf_token": csrf_of(confirm.text)})
        assert (done.status_code, done.headers["location"]) == (303, "/sessions")
        listed = console.get("/sessions")
        assert f"Session {session_id} was deleted" in listed.text
        assert f"Session {session_id} was deleted" not in console.get("/sessions").text  # shown once
        assert console.get(f"/sessions/{session_id}").status_code == 404
        again = console.post(f"/sessions/{session_id}/delete", data={"csrf_token": csrf_of(listed.text)})
        assert again.status_code == 404
    assert list(session_ids(client, org.read)) == ["c2"]


def test_a_read_only_key_sees_no_button_and_gets_403_on_both_pages(
    server: LiveServer, client: httpx.Client, org: Org
) -> None:
    session_id = _a_call(client, org)
    with signed_in(server.url, org.read) as console:
        page = console.get(f"/sessions/{session_id}")
        assert page.status_code == 200
        assert "/delete" not in page.text
        assert console.get(f"/sessions/{session_id}/delete").status_code == 403
        posted = console.post(f"/sessions/{session_id}/delete", data={"csrf_token": csrf_of(page.text)})
        assert posted.status_code == 403
    assert session_id in session_ids(client, org.read).values()


def test_a_post_without_the_csrf_token_or_for_another_organizations_session_deletes_nothing(
    server: LiveServer, client: httpx.Client, org: Org, other_org: Org
) -> None:
    session_id = _a_call(client, org)
    theirs = _a_call(client, other_org)
    with signed_in(server.url, org.admin) as console:
        assert console.post(f"/sessions/{session_id}/delete", data={}).status_code == 403
        token = csrf_of(console.get("/sessions").text)
        assert console.post(f"/sessions/{theirs}/delete", data={"csrf_token": token}).status_code == 404
        assert console.get(f"/sessions/{theirs}/delete").status_code == 404
    assert session_id in session_ids(client, org.read).values()
    assert theirs in session_ids(client, other_org.read).values()
