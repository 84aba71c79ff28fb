"""The producer client's events as the server stores them: a complete session read back through the official
syllable-sdk, given ids and timestamps kept, and what the client refuses in the caller."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from syllable_sdk import SyllableSDK

from sessionary_client import SessionaryClient
from tests.client.conftest import turns
from tests.conftest import Org
from tests.helpers import LiveServer, list_sessions

MakeClient = Callable[..., SessionaryClient]


def _pharmacy_call(client: SessionaryClient) -> None:
    with client.session(
        "hedy", "call-42", agent_name="Pharmacy Refills", channel_manager_type="voice_sip_v1"
    ) as call:
        call.latency("stt", "stt_processing", 0.25, unit="seconds", metadata=["Deepgram"])
        call.transcript("agent", "Hi! How can I help?", lang="en-US")
        call.transcript("user", "Where is my order A1?")
        call.tool_call(
            "c1", "lookup_order", request={"order": "A1"}, result={"status": "shipped"}, duration_ms=420
        )
        call.latency("llm", "llm_first_token", 800)
        call.transcript("agent", "It shipped yesterday.")
        call.custom("transfer", description="to a pharmacist", category="escalation", attributes={"queue": 7})
        call.end(user_terminated=True)


def test_a_complete_session_reads_back_through_the_syllable_sdk(
    server: LiveServer, org: Org, make_client: MakeClient
) -> None:
    client = make_client(server.url, org.ingest)
    _pharmacy_call(client)
    assert client.flush(timeout=60)
    assert (client.stats.inserted, client.stats.duplicates, client.stats.accepted) == (9, 0, 9)
    with SyllableSDK(server_url=server.url, api_key_header=org.read) as sdk:
        (session,) = sdk.sessions.list().items
        assert (session.agent_name, session.channel_manager_type) == ("Pharmacy Refills", "voice_sip_v1")
        assert (session.channel_manager_sid, session.user_terminated) == ("call-42", True)
        transcript = sdk.sessions.transcript.get_by_id(session_id=str(session.session_id))
        assert [t.text for t in transcript.transcription] == [
            "Hi! How can I help?",
            "Where is my order A1?",
            "It shipped yesterday.",
        ]
        assert transcript.transcription[0].lang == "en-US"
        (action,) = transcript.actions
        assert (action.tool_name, action.tool_result, action.duration_ms) == (
            "lookup_order",
            '{"status":"shipped"}',
            420,
        )
        latency = sdk.sessions.latency.get_by_id(session_id=str(session.session_id))
        assert [(e.label, e.value_str) for e in latency.timeline] == [
            ("stt_processing", "250 ms"),
            ("llm_first_token", "800 ms"),
        ]
        (custom,) = [e for e in sdk.events.list().items if e.type == "transfer"]  # tool calls are listed too
        assert (custom.type, custom.category, custom.description) == (
            "transfer",
            "escalation",
            "to a pharmacist",
        )


def test_given_event_ids_and_aware_timestamps_are_sent_as_given_in_utc(
    server: LiveServer, org: Org, make_client: MakeClient, client: httpx.Client
) -> None:
    producer = make_client(server.url, org.ingest)
    new_york = timezone(timedelta(hours=-4))
    start = datetime(2024, 6, 19, 6, 0, tzinfo=new_york)
    call = producer.session("hedy", "call-7", timestamp=start, event_id="call-7-start")
    assert call.transcript("user", "hello", timestamp=start + timedelta(seconds=3), event_id="t1") == "t1"
    assert call.end(timestamp=start + timedelta(seconds=9)) == call.end()  # ended once
    assert producer.flush(timeout=60)
    (session,) = list_sessions(client, org.read)["items"]
    assert session["timestamp"] == "2024-06-19T10:00:00Z"
    assert session["duration"] == 9
    producer.session("hedy", "call-7", timestamp=start, event_id="call-7-start").end(event_id="t1")
    assert producer.flush(timeout=60)
    assert producer.stats.duplicates == 2  # the same ids again: nothing new stored
    assert turns(client, org) == ["hello"]


@pytest.mark.parametrize(
    ("when", "data"),
    [
        (datetime(2024, 6, 19, 10, 0), {}),  # noqa: DTZ001 (the naive datetime refused is the point)
        (datetime(2024, 6, 19, 10, 0, tzinfo=UTC), {"score": float("nan")}),
        (datetime(2024, 6, 19, 10, 0, tzinfo=UTC), {"at": datetime(2024, 6, 19, tzinfo=UTC)}),
    ],
    ids=["naive timestamp", "NaN", "datetime in attributes"],
)
def test_what_json_or_utc_cannot_say_is_refused_in_the_caller_and_nothing_queued(
    make_client: MakeClient, when: datetime, data: dict[str, object]
) -> None:
    producer = make_client("http://127.0.0.1:9", "sk_unused")
    call = producer.session("hedy", "call-1")
    with pytest.raises((ValueError, TypeError)):
        call.custom("note", attributes=data, timestamp=when)
    assert producer.stats.accepted == 1  # the start only


@pytest.mark.parametrize(
    "options", [{"batch_size": 10_001}, {"batch_size": 0}, {"max_batch_bytes": 11 << 20}]
)
def test_batches_beyond_the_servers_request_limits_are_refused_at_construction(
    options: dict[str, int],
) -> None:
    with pytest.raises(ValueError, match="the server's"):
        SessionaryClient("http://127.0.0.1:9", "sk_unused", **options)
