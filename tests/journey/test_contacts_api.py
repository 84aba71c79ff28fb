"""Contacts from traits, and GET /api/v2/externalcontacts/contacts/{id}/journey/sessions: web/app sessions
of the linked customers and the conversation sessions whose source is the contact's phone or email."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sessionary.db import Database
from sessionary.journey.read.conversations import native_uuid
from tests.conftest import Org
from tests.helpers import event, ingest_ok, list_sessions
from tests.journey.builders import bearer, cookie, get_session, make_deployment, minutes, now, web, web_ok


def _trait(value: str) -> dict[str, str]:
    return {"dataType": "string", "value": value}


@pytest.fixture
def deployment_id(database: Database, org: Org) -> str:
    return make_deployment(database, org.id)


def _sessions(client: httpx.Client, org: Org, contact: str, **params: str) -> dict[str, Any]:
    response = client.get(
        f"/api/v2/externalcontacts/contacts/{contact}/journey/sessions",
        params=params or None,
        headers=bearer(org.read),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _visit(client: httpx.Client, deployment_id: str, minute: float, **traits: str) -> dict[str, Any]:
    body = web(cookie(), now() - minutes(minute), traits={k: _trait(v) for k, v in traits.items()})
    return web_ok(client, deployment_id, body)["session"]


def test_traits_link_visits_and_calls_of_one_person_to_one_contact(
    client: httpx.Client, org: Org, deployment_id: str
) -> None:
    first = _visit(client, deployment_id, 30, email="Ann@Example.COM")
    contact = get_session(client, org.read, first["id"])["externalContact"]["id"]
    second = _visit(client, deployment_id, 20, emailAddress="ann@example.com", cellPhone="(804) 222-0001")
    assert get_session(client, org.read, second["id"])["externalContact"]["id"] == contact
    call_at = (now() - minutes(10)).isoformat()
    started = {"channel_manager_type": "voice_sip_v1", "is_outbound": False, "source": "+18042220001"}
    ingest_ok(
        client, org.ingest, [event("c-1", "session.started", sid="call-ann", timestamp=call_at, data=started)]
    )
    other = {"channel_manager_type": "voice_sip_v1", "source": "+18049999999"}
    ingest_ok(
        client, org.ingest, [event("c-2", "session.started", sid="call-bob", timestamp=call_at, data=other)]
    )
    listed = _sessions(client, org, contact)
    assert [s["type"] for s in listed["entities"]] == ["conversation", "web", "web"]  # newest first
    assert [s["id"] for s in listed["entities"][1:]] == [second["id"], first["id"]]
    call = listed["entities"][0]
    assert (call["customerId"], call["externalContact"]["id"]) == ("+18042220001", contact)
    assert "nextUri" not in listed


def test_pages_of_a_contacts_sessions_follow_next_uri(
    client: httpx.Client, org: Org, deployment_id: str
) -> None:
    made = [_visit(client, deployment_id, m, phone="+1 415 555 0100")["id"] for m in (40, 30, 20, 10, 5)]
    contact = get_session(client, org.read, made[0])["externalContact"]["id"]
    page, seen = _sessions(client, org, contact, pageSize="2"), []
    while True:
        seen += [s["id"] for s in page["entities"]]
        if "nextUri" not in page:
            break
        response = client.get(page["nextUri"], headers=bearer(org.read))
        page = response.json()
    assert seen == made[::-1]


def test_a_shared_trait_merges_two_contacts_and_include_merged_lists_the_whole_set(
    client: httpx.Client, org: Org, deployment_id: str
) -> None:
    by_email = _visit(client, deployment_id, 40, email="merge@example.com")
    by_phone = _visit(client, deployment_id, 30, phone="+44 20 7946 0000")
    older = get_session(client, org.read, by_email["id"])["externalContact"]["id"]
    newer = get_session(client, org.read, by_phone["id"])["externalContact"]["id"]
    assert older != newer
    bridge = _visit(client, deployment_id, 20, email="merge@example.com", homePhone="+442079460000")
    assert get_session(client, org.read, bridge["id"])["externalContact"]["id"] == older
    alone = {s["id"] for s in _sessions(client, org, newer)["entities"]}
    assert alone == {by_phone["id"]}
    merged = {s["id"] for s in _sessions(client, org, newer, includeMerged="true")["entities"]}
    assert merged == {by_email["id"], by_phone["id"], bridge["id"]}
    assert {s["id"] for s in _sessions(client, org, older)["entities"]} == {by_email["id"], bridge["id"]}


def test_an_unknown_or_foreign_contact_is_404(
    client: httpx.Client, org: Org, other_org: Org, deployment_id: str
) -> None:
    visit = _visit(client, deployment_id, 5, email="private@example.com")
    contact = get_session(client, org.read, visit["id"])["externalContact"]["id"]
    for who, target in ((org, "0f8fad5b-d9cb-469f-a165-70867728950e"), (org, "x"), (other_org, contact)):
        response = client.get(
            f"/api/v2/externalcontacts/contacts/{target}/journey/sessions", headers=bearer(who.read)
        )
        assert response.status_code == 404


def test_native_sessions_are_readable_on_api_v2_as_conversation_sessions(
    client: httpx.Client, org: Org
) -> None:
    at = (now() - minutes(3)).isoformat()
    outbound = {"channel_manager_type": "voice_twilio_v1", "is_outbound": True, "conversation_id": "conv-9"}
    chat = {"channel_manager_type": "web_chat_v1", "is_outbound": False, "source": "pat@example.com"}
    ingest_ok(
        client,
        org.ingest,
        [
            event("v-1", "session.started", sid="v2-call", service="twilio", timestamp=at, data=outbound),
            event(
                "v-2", "session.ended", sid="v2-call", service="twilio", timestamp=at, data={"duration": 95}
            ),
            event("w-1", "session.started", sid="v2-chat", service="console", timestamp=at, data=chat),
        ],
    )
    ids = {
        i["channel_manager_sid"]: i["session_id"] for i in list_sessions(client, org.read, limit=100)["items"]
    }
    call = get_session(client, org.read, native_uuid(int(ids["v2-call"])))
    assert (call["type"], call["originatingDirection"], call["durationInSeconds"]) == (
        "conversation",
        "Outbound",
        95,
    )
    assert call["conversationChannels"] == [{"type": "Call", "platform": "twilio"}]
    assert call["conversation"]["id"] == "conv-9"
    chat_session = get_session(client, org.read, native_uuid(int(ids["v2-chat"])))
    assert chat_session["conversationChannels"][0]["type"] == "Webchat"
    assert (chat_session["originatingDirection"], chat_session["customerIdType"]) == ("Inbound", "email")
    events = client.get(f"/api/v2/journey/sessions/{call['id']}/events", headers=bearer(org.read))
    assert events.json()["entities"] == []


def test_a_journey_rows_derived_id_is_not_a_second_name_for_it(
    client: httpx.Client, org: Org, deployment_id: str
) -> None:
    visit = _visit(client, deployment_id, 2)
    (row,) = [
        i
        for i in list_sessions(client, org.read, limit=100)["items"]
        if i["channel_manager_sid"] == visit["id"]
    ]
    response = client.get(
        f"/api/v2/journey/sessions/{native_uuid(int(row['session_id']))}", headers=bearer(org.read)
    )
    assert response.status_code == 404
