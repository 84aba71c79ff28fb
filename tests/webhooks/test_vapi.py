"""Vapi server messages built from Vapi's server SDK models, with the server URL secret, posted to a live
server on both databases: the session the official syllable-sdk reads back, in any order and twice;
refusals."""

from __future__ import annotations

import random

import httpx
import pytest

from sessionary.db import Database
from tests.conftest import Org, make_org
from tests.helpers import LiveServer
from tests.webhooks import vapi_payloads as vapi
from tests.webhooks.helpers import connect, vapi_post
from tests.webhooks.readback import read_session

SECRET = "vapi-server-url-secret-7d1f"


def _deliver(hooks: LiveServer, database: Database, org: Org, bodies: list[dict[str, object]]) -> None:
    hook = connect(database, org.id, "vapi", SECRET)
    for body in bodies:
        answer = vapi_post(hooks.url, hook, body)
        assert answer.status_code == 200, answer.text


def test_a_vapi_call_reads_back_through_the_official_client_with_turns_tools_latency_and_verdict(
    hooks: LiveServer, database: Database, org: Org
) -> None:
    _deliver(hooks, database, org, [*vapi.status_flow("call-1"), vapi.report("call-1")])
    seen = read_session(hooks.url, org, "call-1")
    assert (seen["service"], seen["type"]) == ("vapi", "voice_vapi_v1")
    assert seen["agent"] == vapi.ASSISTANT_NAME
    assert (seen["source"], seen["target"], seen["is_outbound"]) == (vapi.CUSTOMER, vapi.OUR_NUMBER, False)
    assert seen["duration"] == pytest.approx(60.0)
    assert seen["user_terminated"] is True
    assert seen["turns"] == [("user" if role == "user" else "agent", said) for role, said, _ in vapi.TURNS]
    assert seen["tools"] == [(t.name, t.arguments, t.result) for t in vapi.TOOLS]
    labels = {label for _, label in seen["latency"]}
    assert {"model_latency", "voice_latency", "transcriber_latency", "turn_latency"} <= labels
    assert seen["labels"] == [("auto-rating", "GOOD", "vapi@providers.sessionary")]
    assert ("provider.report", vapi.SUMMARY) in seen["events"]
    assert seen["report"]["cost"] == 0.42
    assert seen["report"]["ended_reason"] == "customer-ended-call"


def test_vapi_messages_in_any_order_or_twice_give_the_same_session(
    hooks: LiveServer, database: Database
) -> None:
    ordered, shuffled = make_org(database), make_org(database)
    bodies = [*vapi.status_flow("call-2"), vapi.report("call-2")]
    _deliver(hooks, database, ordered, bodies)
    mixed = bodies * 2
    random.Random(3).shuffle(mixed)
    _deliver(hooks, database, shuffled, mixed)
    first, second = (read_session(hooks.url, o, "call-2") for o in (ordered, shuffled))
    first.pop("session_id"), second.pop("session_id")
    assert first == second


@pytest.mark.parametrize(("sent", "status"), [("", 401), ("not-the-secret", 403)])
def test_a_vapi_message_without_the_secret_is_refused_and_stores_nothing(
    hooks: LiveServer, database: Database, sent: str, status: int
) -> None:
    org = make_org(database)
    hook = connect(database, org.id, "vapi", SECRET)
    answer = vapi_post(hooks.url, hook, vapi.report("call-3"), secret=sent)
    assert answer.status_code == status, answer.text
    assert httpx.get(hooks.url + "/api/v1/sessions/", headers=org.headers("read")).json()["items"] == []


def test_a_bearer_credential_carrying_the_secret_is_accepted(
    hooks: LiveServer, database: Database, org: Org
) -> None:
    hook = connect(database, org.id, "vapi", SECRET)
    answer = httpx.post(
        hooks.url + hook.path,
        json=vapi.report("call-4"),
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    assert answer.status_code == 200, answer.text
    assert read_session(hooks.url, org, "call-4")["service"] == "vapi"


def test_a_recording_url_the_fetcher_cannot_take_is_skipped_and_named_and_the_call_is_kept(
    hooks: LiveServer, database: Database, org: Org
) -> None:
    body = vapi.report("call-5")
    body["message"]["artifact"]["recordingUrl"] = "ftp://storage.vapi.ai/call-5.wav"  # type: ignore[index]
    answer = vapi_post(hooks.url, connect(database, org.id, "vapi", SECRET), body)
    assert answer.status_code == 200, answer.text
    skipped = answer.json()["skipped_recordings"]
    assert len(skipped) == 1
    assert skipped[0].startswith("message.artifact.recordingUrl: url:")
    assert answer.json()["recordings"] == 1  # the stereo one is queued
    assert len(read_session(hooks.url, org, "call-5")["turns"]) == len(vapi.TURNS)
