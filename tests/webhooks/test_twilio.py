"""Twilio voice callbacks with Twilio's documented parameters, signed by twilio's own RequestValidator over
the public URL, posted to a live server on both databases: the session the official syllable-sdk reads back,
shuffled and twice, an unanswered call, a child call in its parent's conversation; refusals."""

from __future__ import annotations

import random

import httpx
import pytest
from twilio.request_validator import RequestValidator

from sessionary.db import Database
from tests.conftest import Org, make_org
from tests.helpers import LiveServer
from tests.webhooks import twilio_payloads as calls
from tests.webhooks.helpers import Connected, connect, twilio_post
from tests.webhooks.readback import read_session

TOKEN = "f1e2d3c4b5a697887766554433221100"  # a Twilio auth token: 32 hex digits


def _deliver(hooks: LiveServer, hook: Connected, callbacks: list[dict[str, str]]) -> None:
    for params in callbacks:
        answer = twilio_post(hooks.url, hook, params)
        assert answer.status_code == 200, answer.text


def test_an_answered_twilio_call_reads_back_with_direction_numbers_times_and_outcome(
    hooks: LiveServer, database: Database, org: Org
) -> None:
    _deliver(hooks, connect(database, org.id, "twilio", TOKEN), calls.answered_call())
    seen = read_session(hooks.url, org, calls.CALL)
    assert (seen["service"], seen["type"]) == ("twilio", "voice_twilio_v1")
    assert (seen["source"], seen["target"], seen["is_outbound"]) == ("+14155550100", "+14155550199", False)
    assert seen["duration"] == pytest.approx(42.0)
    assert seen["timestamp"] == calls.START  # initiated: the earliest status
    assert seen["conversation"] == calls.CALL
    assert seen["events"] == [("provider.report", "Twilio call completed")]
    assert seen["report"]["call_status"] == "completed"


def test_an_unanswered_twilio_call_is_an_ended_session_whose_outcome_shows(
    hooks: LiveServer, database: Database, org: Org
) -> None:
    hook = connect(database, org.id, "twilio", TOKEN)
    _deliver(
        hooks,
        hook,
        [
            calls.status("initiated", seconds=0, sequence=0, direction="outbound-api"),
            calls.status("ringing", seconds=1, sequence=1, direction="outbound-api"),
            calls.status("no-answer", seconds=31, sequence=2, direction="outbound-api", duration=0),
        ],
    )
    seen = read_session(hooks.url, org, calls.CALL)
    assert seen["is_outbound"] is True
    assert seen["duration"] == pytest.approx(0.0)
    assert seen["events"] == [("provider.report", "Twilio call no-answer")]
    assert seen["report"] == {"call_status": "no-answer", "call_duration": 0}
    listed = httpx.get(
        f"{hooks.url}/api/v1/sessions/{seen['session_id']}", headers=org.headers("read")
    ).json()
    assert listed["duration"] == 0


def test_a_child_call_is_in_the_conversation_of_its_parent(
    hooks: LiveServer, database: Database, org: Org
) -> None:
    hook = connect(database, org.id, "twilio", TOKEN)
    _deliver(hooks, hook, calls.answered_call())
    child = calls.status(
        "completed",
        seconds=40,
        sequence=1,
        call=calls.CHILD,
        direction="outbound-dial",
        duration=20,
        parent=calls.CALL,
    )
    _deliver(hooks, hook, [child])
    parent_seen = read_session(hooks.url, org, calls.CALL)
    child_seen = read_session(hooks.url, org, calls.CHILD)
    assert child_seen["conversation"] == parent_seen["conversation"] == calls.CALL
    assert child_seen["is_outbound"] is True


def test_twilio_callbacks_shuffled_or_twice_give_the_same_session(
    hooks: LiveServer, database: Database
) -> None:
    ordered, shuffled = make_org(database), make_org(database)
    callbacks = calls.answered_call()
    _deliver(hooks, connect(database, ordered.id, "twilio", TOKEN), callbacks)
    mixed = callbacks + callbacks[1:3]
    random.Random(7).shuffle(mixed)
    _deliver(hooks, connect(database, shuffled.id, "twilio", TOKEN), mixed)
    first, second = (read_session(hooks.url, o, calls.CALL) for o in (ordered, shuffled))
    first.pop("session_id"), second.pop("session_id")
    assert first == second


def test_a_replayed_early_callback_after_the_call_ended_changes_nothing(
    hooks: LiveServer, database: Database, org: Org
) -> None:
    hook = connect(database, org.id, "twilio", TOKEN)
    _deliver(hooks, hook, calls.answered_call())
    before = read_session(hooks.url, org, calls.CALL)
    answer = twilio_post(hooks.url, hook, calls.answered_call()[1])  # a captured `ringing`, sent again
    assert answer.status_code == 200
    assert answer.json()["inserted"] == 0
    assert read_session(hooks.url, org, calls.CALL) == before


@pytest.mark.parametrize(
    ("case", "status"),
    [("unsigned", 401), ("wrong signature", 403), ("other token", 403), ("changed parameter", 403)],
)
def test_a_twilio_callback_without_a_valid_signature_is_refused_and_stores_nothing(
    hooks: LiveServer, database: Database, case: str, status: int
) -> None:
    org = make_org(database)
    hook = connect(database, org.id, "twilio", TOKEN)
    params = calls.answered_call()[3]
    if case == "unsigned":
        answer = twilio_post(hooks.url, hook, params, signature="")
    elif case == "wrong signature":
        answer = twilio_post(hooks.url, hook, params, signature="bm90IGEgc2lnbmF0dXJl")
    elif case == "other token":
        other = Connected(hook.integration_id, hook.url, hook.path, "0" * 32)
        answer = twilio_post(hooks.url, other, params)
    else:
        signature = RequestValidator(TOKEN).compute_signature(hook.url, params)
        changed = {**params, "CallDuration": "4200"}
        answer = httpx.post(hooks.url + hook.path, data=changed, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == status, answer.text
    assert httpx.get(hooks.url + "/api/v1/sessions/", headers=org.headers("read")).json()["items"] == []


def test_a_twilio_callback_that_is_not_a_form_or_names_no_call_is_refused_naming_why(
    hooks: LiveServer, database: Database, org: Org
) -> None:
    hook = connect(database, org.id, "twilio", TOKEN)
    as_json = httpx.post(
        hooks.url + hook.path, json={"CallSid": calls.CALL}, headers={"X-Twilio-Signature": "x"}
    )
    assert as_json.status_code == 400
    assert "Content-Type" in as_json.json()["detail"]
    params = {k: v for k, v in calls.answered_call()[0].items() if k != "CallSid"}
    missing = twilio_post(hooks.url, hook, params)
    assert missing.status_code == 400
    assert missing.json()["detail"].startswith("CallSid")
    bad_time = twilio_post(hooks.url, hook, {**calls.answered_call()[0], "Timestamp": "yesterday"})
    assert bad_time.status_code == 400
    assert bad_time.json()["detail"].startswith("Timestamp")


def test_a_callback_signed_for_the_address_the_server_is_reached_at_directly_is_accepted(
    hooks: LiveServer, database: Database, org: Org
) -> None:
    """Before SESSIONARY_PUBLIC_URL is set (or without a proxy), Twilio signs the URL it calls, which is the
    request's own; a URL on neither address is refused."""
    hook = connect(database, org.id, "twilio", TOKEN)
    params = calls.answered_call()[3]
    direct = hooks.url + hook.path
    signed = RequestValidator(TOKEN).compute_signature(direct, params)
    assert httpx.post(direct, data=params, headers={"X-Twilio-Signature": signed}).status_code == 200
    elsewhere = RequestValidator(TOKEN).compute_signature("https://elsewhere.example" + hook.path, params)
    refused = httpx.post(direct, data=params, headers={"X-Twilio-Signature": elsewhere})
    assert refused.status_code == 403
    assert "SESSIONARY_PUBLIC_URL" in refused.json()["detail"]
