"""Retell webhooks, built from retell-sdk's models and signed by its own signer, posted to a live server on
both databases: the session the official syllable-sdk reads back, in any order and twice; refusals."""

from __future__ import annotations

import time

import httpx
import pytest
from retell.lib.webhook_auth import symmetric

from sessionary.db import Database, session_scope
from sessionary.integrations import service as integrations
from tests.conftest import Org, make_org
from tests.console.helpers import signed_in
from tests.helpers import LiveServer
from tests.webhooks import retell_payloads as payloads
from tests.webhooks.helpers import connect, retell_body, retell_post
from tests.webhooks.readback import read_session


def _deliver(hooks: LiveServer, database: Database, org: Org, *bodies: dict[str, object]) -> None:
    hook = connect(database, org.id, "retell", "key_8c1d2e3f4a5b6c7d")
    for body in bodies:
        answer = retell_post(hooks.url, hook, body)
        assert answer.status_code == 200, answer.text


def test_a_retell_call_reads_back_through_the_official_client_with_transcript_tools_latency_and_verdict(
    hooks: LiveServer, database: Database, org: Org
) -> None:
    _deliver(hooks, database, org, payloads.started(), payloads.analyzed(), payloads.ended())
    seen = read_session(hooks.url, org, payloads.CALL_ID)
    assert seen["service"] == "retell"
    assert seen["type"] == "voice_retell_v1"
    assert (seen["source"], seen["target"], seen["is_outbound"]) == ("+14155550100", "+14155550199", False)
    assert seen["agent"] == "Front desk"
    assert seen["duration"] == pytest.approx(15.0)
    assert seen["user_terminated"] is True
    assert seen["turns"] == [
        ("agent", "Thanks for calling Acme Dental."),
        ("user", "Can I book a cleaning tomorrow?"),
        ("agent", "We have 10:00 or 14:30."),
        ("user", "10 works, thanks."),
    ]
    assert seen["tools"] == [("check_availability", {"date": "2025-12-07"}, {"slots": ["10:00", "14:30"]})]
    assert seen["latency"] == sorted(
        [("llm", "e2e_latency")] * 2
        + [("llm", "llm_latency")] * 2
        + [("tts", "tts_latency")] * 2
        + [("stt", "asr_latency")] * 2
    )
    assert seen["labels"] == [("auto-rating", "GOOD", "retell@providers.sessionary")]
    assert ("provider.report", "The caller booked a cleaning for tomorrow at 10:00.") in seen["events"]
    report = seen["report"]
    assert (report["cost"], report["cost_unit"]) == (12.5, "cents")
    assert (report["call_successful"], report["user_sentiment"]) == (True, "Positive")
    assert report["disconnection_reason"] == "user_hangup"
    assert report["custom_analysis_data"] == {"appointment_booked": True}
    assert report["metadata"] == {"crm_id": "42"}


def test_retell_deliveries_in_any_order_or_twice_give_the_same_session(
    hooks: LiveServer, database: Database
) -> None:
    ordered, shuffled = make_org(database), make_org(database)
    _deliver(hooks, database, ordered, payloads.started(), payloads.ended(), payloads.analyzed())
    _deliver(
        hooks,
        database,
        shuffled,
        payloads.analyzed(),
        payloads.analyzed(),
        payloads.ended(),
        payloads.started(),
        payloads.ended(),
    )
    first = read_session(hooks.url, ordered, payloads.CALL_ID)
    second = read_session(hooks.url, shuffled, payloads.CALL_ID)
    first.pop("session_id"), second.pop("session_id")
    assert first == second


@pytest.mark.parametrize(
    ("case", "status"),
    [("unsigned", 401), ("other key", 403), ("six minutes old", 403), ("body changed", 403)],
)
def test_a_retell_delivery_without_a_valid_signature_is_refused_and_stores_nothing(
    hooks: LiveServer, database: Database, case: str, status: int
) -> None:
    org = make_org(database)
    hook = connect(database, org.id, "retell", "key_real")
    body = payloads.analyzed()
    if case == "unsigned":
        answer = retell_post(hooks.url, hook, body, signed=False)
    elif case == "other key":
        answer = retell_post(hooks.url, hook, body, key="key_guess")
    elif case == "six minutes old":  # a replay of a captured delivery
        answer = retell_post(hooks.url, hook, body, at_ms=int(time.time() * 1000) - 6 * 60_000)
    else:
        text = retell_body(body)
        signature = symmetric["sign"](text, hook.secret)
        tampered = text.replace("Front desk", "Front dusk")
        answer = httpx.post(
            hooks.url + hook.path,
            content=tampered.encode(),
            headers={"content-type": "application/json", "x-retell-signature": signature},
        )
    assert answer.status_code == status, answer.text
    sessions = httpx.get(hooks.url + "/api/v1/sessions/", headers=org.headers("read")).json()
    assert sessions["items"] == []


def test_a_retell_value_that_cannot_be_stored_is_refused_naming_its_field(
    hooks: LiveServer, database: Database, org: Org
) -> None:
    hook = connect(database, org.id, "retell", "key_nul")
    body = payloads.analyzed()
    body["call"]["transcript_with_tool_calls"][1]["content"] = "bad \x00 byte"  # type: ignore[index]
    answer = retell_post(hooks.url, hook, body)
    assert answer.status_code == 400
    assert "call.transcript_with_tool_calls[1].content" in answer.json()["detail"]


def test_an_unknown_or_removed_webhook_url_is_404(hooks: LiveServer, database: Database, org: Org) -> None:
    hook = connect(database, org.id, "retell", "key_gone")
    missing = httpx.post(hooks.url + "/webhooks/wh_" + "x" * 43, content=b"{}")
    assert missing.status_code == 404
    with session_scope(database.writer) as db:
        integrations.remove(db, organization_id=org.id, integration_id=hook.integration_id)
    assert retell_post(hooks.url, hook, payloads.started()).status_code == 404


def test_the_console_shows_retells_report_next_to_the_sessionary_summary(
    hooks: LiveServer, database: Database, org: Org
) -> None:
    _deliver(hooks, database, org, payloads.ended(), payloads.analyzed())
    session_id = read_session(hooks.url, org, payloads.CALL_ID)["session_id"]
    with signed_in(hooks.url, org.read) as http:
        page = http.get(f"/sessions/{session_id}")
    assert page.status_code == 200
    assert "Retell&#39;s report" in page.text or "Retell's report" in page.text
    assert "The caller booked a cleaning for tomorrow at 10:00." in page.text
    assert "<dt>disconnection reason</dt><dd>user_hangup</dd>" in page.text
    assert 'id="summary-h"' in page.text  # sessionary's own summary block stays
