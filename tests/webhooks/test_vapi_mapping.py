"""Vapi's server messages, built from the Vapi server SDK's models (tests/webhooks/vapi_payloads.py), mapped
to native events (`webhooks.mapping.vapi.map_message`): what each event says, what the sessions read back
say once the events are ingested into both databases, idempotency and order independence, the refusals
naming the field, and that no JSON makes the mapping raise anything but `Refused`."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from sessionary.db import Database, session_scope
from sessionary.eventlog.schemas import PAYLOAD_MAX_BYTES, TURN_MAX_CHARS
from sessionary.ingest.service import ingest_events
from sessionary.notable.models import NotableEvent
from sessionary.sessions import service as sessions
from sessionary.sessions.models import Session
from sessionary.transcripts import service as transcripts
from sessionary.webhooks.mapping.common import Mapped, RecordingRef, Refused
from sessionary.webhooks.mapping.vapi import map_message
from tests.conftest import Org, make_org
from tests.webhooks import vapi_payloads as vapi
from tests.webhooks.vapi_payloads import TOOLS, TURNS, at

# --- the mapping ---------------------------------------------------------------------------------------


def mapped(body: dict[str, Any]) -> Mapped:
    result = map_message(body)
    assert result is not None
    return result


def by_type(result: Mapped, type_: str) -> list[Any]:
    return [event for event in result.events if event.type == type_]


def data(event: Any) -> dict[str, Any]:
    return event.data.model_dump(exclude_unset=True)


def test_a_report_maps_to_the_calls_turns_in_order_with_their_text() -> None:
    turns = by_type(mapped(vapi.report()), "transcript")
    assert [(e.data.source, e.data.text) for e in turns] == [(role, said) for role, said, _ in TURNS]
    times = [e.timestamp for e in turns]
    assert times == sorted(times)
    assert len(set(times)) == len(times)  # the two turns Vapi dates alike are 1 ms apart, in list order
    assert times[:3] == [at(seconds) for _, _, seconds in TURNS[:3]]
    assert times[3] == at(8) + timedelta(milliseconds=1)
    assert [e.event_id for e in turns] == [f"vapi:call-1:turn:{i}" for i in (1, 2, 6, 7, 8)]  # list indexes


def test_each_tool_call_is_one_event_with_its_arguments_and_result() -> None:
    tools = by_type(mapped(vapi.report()), "tool_call")
    assert [e.event_id for e in tools] == [f"vapi:call-1:tool:{t.call_id}" for t in TOOLS]
    assert [(e.data.tool_call_id, e.data.tool_name) for e in tools] == [(t.call_id, t.name) for t in TOOLS]
    assert [e.data.tool_request for e in tools] == [t.arguments for t in TOOLS]  # JSON text, parsed
    assert [e.data.tool_result for e in tools] == [t.result for t in TOOLS]  # parsed when JSON
    assert all(e.timestamp == at(5) for e in tools)  # the request's time
    assert [e.data.duration_ms for e in tools] == [1000.0, 2000.0]


def test_a_report_starts_and_ends_the_session_with_its_duration_and_who_hung_up() -> None:
    result = mapped(vapi.report())
    (started,) = by_type(result, "session.started")
    (ended,) = by_type(result, "session.ended")
    assert (started.event_id, started.timestamp) == ("vapi:call-1:started", vapi.START)
    assert (ended.event_id, ended.timestamp) == ("vapi:call-1:ended", at(60))
    assert data(ended) == {"duration": 60.0, "user_terminated": True}
    assert (result.provider, result.service, result.sid) == ("vapi", "vapi", "call-1")


def test_an_inbound_phone_call_runs_from_the_customer_to_our_number() -> None:
    (started,) = by_type(mapped(vapi.report()), "session.started")
    assert data(started) == {
        "channel_manager_type": "voice_vapi_v1",
        "conversation_id": "call-1",
        "is_outbound": False,
        "source": vapi.CUSTOMER,
        "target": vapi.OUR_NUMBER,
        "agent_name": vapi.ASSISTANT_NAME,
        "agent_id": vapi.ASSISTANT_ID,
        "llm_provider": "openai",
        "llm_model": "gpt-4o",
        "llm_temperature": 0.3,
    }


def test_an_outbound_phone_call_runs_from_our_number_to_the_customer() -> None:
    (started,) = by_type(mapped(vapi.report(call_type="outboundPhoneCall")), "session.started")
    fields = data(started)
    assert (fields["is_outbound"], fields["source"], fields["target"]) == (
        True,
        vapi.OUR_NUMBER,
        vapi.CUSTOMER,
    )


def test_a_web_call_is_a_web_channel_without_direction_or_numbers() -> None:
    (started,) = by_type(mapped(vapi.report(call_type="webCall")), "session.started")
    fields = data(started)
    assert fields["channel_manager_type"] == "voice_web_vapi_v1"
    assert not {"is_outbound", "source", "target"} & set(fields)


def test_the_carriers_call_id_names_the_conversation() -> None:
    body = vapi.report()
    body["message"]["call"] = orjson.loads(vapi.call(phone_call_provider_id="CA0123").json())
    (started,) = by_type(mapped(body), "session.started")
    assert started.data.conversation_id == "CA0123"


def test_the_reports_conclusions_are_one_provider_report_event() -> None:
    (report,) = by_type(mapped(vapi.report()), "custom")
    assert (report.event_id, report.timestamp) == ("vapi:call-1:report", at(60))
    assert data(report) == {
        "type": "provider.report",
        "source": "vapi",
        "source_id": "call-1",
        "category": "provider",
        "description": vapi.SUMMARY,
        "attributes": {
            "summary": vapi.SUMMARY,
            "cost": 0.42,
            "ended_reason": "customer-ended-call",
            "success_evaluation": "8",
            "structured_data": {"booked": True, "people": 2},
        },
    }


def test_a_long_summary_and_large_structured_data_stay_within_the_native_limits() -> None:
    summary = "word " * 30_000
    structured = {"notes": "x" * 20_000}
    (report,) = by_type(mapped(vapi.report(summary=summary, structured_data=structured)), "custom")
    attributes = report.data.attributes
    assert report.data.description == summary[:1999] + "…"
    size = len(orjson.dumps(structured))
    assert attributes["structured_data"] == {"omitted": f"{size} bytes, over the 16 KiB limit"}
    assert len(orjson.dumps(attributes)) <= PAYLOAD_MAX_BYTES
    assert summary.startswith(attributes["summary"][:-1])
    assert len(attributes["summary"]) > 60_000


def test_per_turn_latency_is_dated_at_the_agents_replies() -> None:
    latency = by_type(mapped(vapi.report()), "latency")
    seen = {(e.data.category, e.data.label, e.data.value, e.data.unit, e.timestamp) for e in latency}
    first, second = at(8), at(10)  # the agent's replies to the user's turns (the greeting answers none)
    assert seen == {
        ("llm", "model_latency", 420.0, "milliseconds", first),
        ("tts", "voice_latency", 180.5, "milliseconds", first),
        ("stt", "transcriber_latency", 95.0, "milliseconds", first),
        ("stt", "endpointing_latency", 300.0, "milliseconds", first),
        ("llm", "turn_latency", 1010.0, "milliseconds", first),
        ("llm", "model_latency", 380.0, "milliseconds", second),
        ("tts", "voice_latency", 170.0, "milliseconds", second),
        ("llm", "turn_latency", 900.0, "milliseconds", second),
    }


def test_the_recordings_are_referenced_for_fetching() -> None:
    assert mapped(vapi.report()).recordings == [
        RecordingRef(
            "mono", vapi.MONO_URL, "call-1-mono.wav", "audio/wav", origin="message.artifact.recordingUrl"
        ),
        RecordingRef(
            "stereo",
            vapi.STEREO_URL,
            "call-1-stereo.mp3",
            "audio/mpeg",
            origin="message.artifact.stereoRecordingUrl",
        ),
    ]


def test_the_recording_objects_urls_serve_when_the_artifact_has_no_recording_url() -> None:
    body = vapi.report()
    artifact = body["message"]["artifact"]
    del artifact["recordingUrl"], artifact["stereoRecordingUrl"]
    artifact["recording"] = {
        "stereoUrl": "https://storage.vapi.ai/s.wav",
        "mono": {"combinedUrl": "https://storage.vapi.ai/m"},
    }
    assert [(r.source_key, r.url, r.filename, r.content_type) for r in mapped(body).recordings] == [
        ("mono", "https://storage.vapi.ai/m", "call-1-mono", None),
        ("stereo", "https://storage.vapi.ai/s.wav", "call-1-stereo.wav", "audio/wav"),
    ]


@pytest.mark.parametrize(
    ("evaluation", "code"),
    [
        ("true", "GOOD"),
        ("Pass", "GOOD"),
        ("false", "BAD"),
        ("fail", "BAD"),
        ("8", "GOOD"),
        ("7", "GOOD"),
        ("5", "OK"),
        ("3", "BAD"),
        ("85%", "GOOD"),
        ("55%", "OK"),
        ("20%", "BAD"),
        ("72", "GOOD"),
        ("9/10", "GOOD"),
        ("A", "GOOD"),
        ("B+", "GOOD"),
        ("C", "OK"),
        ("D", "BAD"),
        ("F", "BAD"),
        ("Excellent", "GOOD"),
        ("Fair", "OK"),
        ("Poor", "BAD"),
        ("the caller seemed happy", "N/A"),
        ("250", "N/A"),
    ],
)
def test_the_success_evaluation_becomes_the_verdict(evaluation: str, code: str) -> None:
    verdict = mapped(vapi.report(success_evaluation=evaluation)).verdict
    assert verdict is not None
    assert (verdict.code, verdict.comments) == (code, f"Vapi successEvaluation: {evaluation}")


@pytest.mark.parametrize(("evaluation", "code"), [(True, "GOOD"), (False, "BAD"), (9, "GOOD"), (45, "OK")])
def test_a_success_evaluation_sent_as_json_true_or_a_number_is_read_too(evaluation: Any, code: str) -> None:
    body = vapi.report()
    body["message"]["analysis"]["successEvaluation"] = evaluation
    verdict = mapped(body).verdict
    assert verdict is not None
    assert (verdict.code, verdict.comments) == (
        code,
        f"Vapi successEvaluation: {orjson.dumps(evaluation).decode()}",
    )


def test_a_report_without_a_success_evaluation_has_no_verdict() -> None:
    assert mapped(vapi.report(success_evaluation=None)).verdict is None


@pytest.mark.parametrize(
    ("reason", "ending"),
    [
        ("assistant-ended-call", {"user_terminated": False}),
        ("assistant-said-end-call-phrase", {"user_terminated": False}),
        ("customer-ended-call-during-transfer", {"user_terminated": True}),
        ("voicemail", {"transfer_voicemail_detected": True}),
        ("silence-timed-out", {}),
    ],
)
def test_the_ended_reason_says_who_hung_up_and_whether_voicemail_answered(reason: str, ending: dict) -> None:
    (ended,) = by_type(mapped(vapi.report(ended_reason=reason)), "session.ended")
    assert data(ended) == {"duration": 60.0, **ending}


def test_turns_without_a_time_are_dated_from_the_start_by_seconds_from_start() -> None:
    body = vapi.report()
    for item in body["message"]["artifact"]["messages"]:
        del item["time"]
    turns = by_type(mapped(body), "transcript")
    assert [e.timestamp for e in turns][:3] == [at(seconds) for _, _, seconds in TURNS[:3]]


def test_an_error_result_is_the_tool_calls_error() -> None:
    body = vapi.report()
    result = next(m for m in body["message"]["artifact"]["messages"] if m["role"] == "tool_call_result")
    del result["result"]
    result["error"] = "the weather service is down"
    (weather, _) = by_type(mapped(body), "tool_call")
    assert (weather.data.tool_error, weather.data.tool_result) == ("the weather service is down", None)


def test_a_text_holding_the_characters_backslash_u0000_is_no_nul_and_is_kept() -> None:
    messages = [vapi._turn("user", r"type \u0000 to quit", 2.0)]
    (turn,) = by_type(mapped(vapi.report(messages=messages)), "transcript")
    assert turn.data.text == r"type \u0000 to quit"


def test_status_updates_update_start_and_end_the_session() -> None:
    ringing, progress, ended = (mapped(body) for body in vapi.status_flow("call-1"))
    assert [(e.event_id, e.type, e.timestamp) for e in ringing.events] == [
        ("vapi:call-1:status:ringing", "session.updated", at(-3))
    ]
    assert [(e.event_id, e.type, e.timestamp) for e in progress.events] == [
        ("vapi:call-1:status:in-progress", "session.started", at(0))
    ]
    assert [(e.event_id, e.type, e.timestamp) for e in ended.events] == [
        ("vapi:call-1:status:ended", "session.updated", at(60.5)),
        ("vapi:call-1:status:ended:end", "session.ended", at(60.5)),
    ]
    assert data(ended.events[1]) == {"user_terminated": True}
    assert data(ringing.events[0])["source"] == vapi.CUSTOMER
    assert not by_type(ended, "transcript")  # transcripts only come from the report


@pytest.mark.parametrize(
    "body",
    [
        {"message": {"type": "conversation-update", "messages": []}},
        {"message": {"type": "transcript", "role": "user", "transcript": "hi"}},
        {"message": {"type": "status-update", "status": "not-found"}},  # not the call's: no call either
        {"message": {"type": "speech-update", "status": "started"}},
    ],
)
def test_other_messages_are_not_stored(body: dict[str, Any]) -> None:
    assert map_message(body) is None


# --- refusals name the field ---------------------------------------------------------------------------


def refused(body: Any) -> Refused:
    with pytest.raises(Refused) as caught:
        map_message(body)
    return caught.value


def test_a_nul_in_a_turn_is_refused_naming_the_turn() -> None:
    body = vapi.report()
    body["message"]["artifact"]["messages"][2]["message"] = "hello\x00there"
    error = refused(body)
    assert error.field_name == "message.artifact.messages[2].message"
    assert "NUL" in error.reason


def test_an_overlong_turn_is_refused_naming_the_turn() -> None:
    body = vapi.report()
    body["message"]["artifact"]["messages"][6]["message"] = "x" * (TURN_MAX_CHARS + 1)
    assert refused(body).field_name == "message.artifact.messages[6].message"


def test_a_bad_started_at_is_refused() -> None:
    body = vapi.report()
    body["message"]["startedAt"] = "yesterday"
    assert refused(body).field_name == "message.startedAt"


def test_a_report_without_a_call_id_is_refused() -> None:
    body = vapi.report()
    del body["message"]["call"]["id"]
    assert refused(body).field_name == "message.call.id"


def test_an_overlong_agent_name_is_refused_naming_the_assistants_name() -> None:
    body = vapi.report()
    body["message"]["assistant"]["name"] = "n" * 201
    error = refused(body)
    assert error.field_name == "message.assistant.name"
    assert error.reason.startswith("agent_name:")


def test_a_nul_in_tool_arguments_is_refused_naming_them() -> None:
    body = vapi.report()
    body["message"]["artifact"]["messages"][3]["toolCalls"][1]["function"]["arguments"] = '{"a": "\\u0000"}'
    assert refused(body).field_name == "message.artifact.messages[3].toolCalls[1].function.arguments"


def test_a_recording_url_that_is_not_a_string_is_refused_and_any_string_goes_to_the_fetch_queue() -> None:
    body = vapi.report()
    body["message"]["artifact"]["recordingUrl"] = {"url": "https://storage.vapi.ai/x.wav"}
    assert refused(body).field_name == "message.artifact.recordingUrl"
    body["message"]["artifact"]["recordingUrl"] = "file:///etc/passwd"  # skipped when queued (test_vapi.py)
    [mono, _stereo] = mapped(body).recordings
    assert (mono.url, mono.origin) == ("file:///etc/passwd", "message.artifact.recordingUrl")


def test_tool_arguments_nested_past_what_can_be_stored_are_refused_naming_them() -> None:
    body = vapi.report()
    function = body["message"]["artifact"]["messages"][3]["toolCalls"][0]["function"]
    function["arguments"] = "[" * 254 + "]" * 254
    (weather, _) = by_type(mapped(body), "tool_call")
    assert orjson.dumps(weather.data.tool_request)  # 254 levels: stored, and written back by the reads
    function["arguments"] = "[" * 255 + "]" * 255
    error = refused(body)
    assert error.field_name == "message.artifact.messages[3].toolCalls[0].function.arguments"
    assert error.reason.endswith("at most 254 levels of lists and objects")


@pytest.mark.parametrize("body", [None, [], "x", {}, {"message": []}, {"message": {"type": 3}}])
def test_a_body_that_is_no_vapi_message_is_refused(body: Any) -> None:
    assert refused(body).field_name in ("message", "message.type")


# --- ingested into a real database ---------------------------------------------------------------------


def ingest(database: Database, org: Org, result: Mapped) -> int:
    with session_scope(database.writer) as db:
        return ingest_events(db, organization_id=org.id, events=result.events).inserted


def stored(database: Database, org: Org, sid: str = "call-1") -> dict[str, Any]:
    """The session as the services read it back: fields, transcript, tool calls, latency, report."""
    with session_scope(database.reader) as db:
        row = db.scalars(
            select(Session).where(Session.organization_id == org.id, Session.channel_manager_sid == sid)
        ).one()
        session_id = str(row.id)
        transcript = transcripts.transcript(db, organization_id=org.id, session_id=session_id)
        latency = transcripts.latency(db, organization_id=org.id, session_id=session_id)
        notable = db.scalars(select(NotableEvent).where(NotableEvent.session_id == row.id)).all()
        return {
            "session": sessions.to_read(row).model_dump(exclude={"session_id"}),
            "span": (row.started_at, row.ended_at, row.event_count),
            "llm": (row.llm_provider, row.llm_model, row.llm_temperature),
            "turns": [(t.timestamp, t.source, t.text) for t in transcript.transcription],
            "actions": [a.model_dump() for a in transcript.actions],
            "latency": sorted((e.category, e.label, e.value) for e in latency.timeline),
            "notable": sorted((n.type, n.description, orjson.dumps(n.attributes).decode()) for n in notable),
        }


def test_an_ingested_report_reads_back_as_the_calls_session(database: Database, org: Org) -> None:
    assert ingest(database, org, mapped(vapi.report())) > 0
    seen = stored(database, org)
    session = seen["session"]
    assert (session["channel_manager_service"], session["channel_manager_type"]) == ("vapi", "voice_vapi_v1")
    assert (session["source"], session["target"], session["is_outbound"]) == (
        vapi.CUSTOMER,
        vapi.OUR_NUMBER,
        False,
    )
    assert (session["agent_name"], session["agent_id"], session["conversation_id"]) == (
        vapi.ASSISTANT_NAME,
        vapi.ASSISTANT_ID,
        "call-1",
    )
    assert (session["timestamp"], session["duration"], session["user_terminated"]) == (vapi.START, 60.0, True)
    assert seen["llm"] == ("openai", "gpt-4o", 0.3)
    assert [(source, said) for _, source, said in seen["turns"]] == [(role, said) for role, said, _ in TURNS]
    assert [(a["tool_name"], orjson.loads(a["tool_request"])) for a in seen["actions"]] == [
        (t.name, t.arguments) for t in TOOLS
    ]
    assert [a["tool_result"] for a in seen["actions"]][1] == "booked for 19:00"  # not JSON: the text
    assert orjson.loads(seen["actions"][0]["tool_result"]) == TOOLS[0].result
    assert ("llm", "turn_latency", 1010.0) in seen["latency"]
    report = next(n for n in seen["notable"] if n[0] == "provider.report")
    assert report[1] == vapi.SUMMARY
    assert orjson.loads(report[2])["success_evaluation"] == "8"


def test_the_status_flow_alone_makes_a_started_and_ended_session(database: Database, org: Org) -> None:
    for body in vapi.status_flow("call-1"):
        ingest(database, org, mapped(body))
    seen = stored(database, org)
    assert seen["span"][:2] == (at(0), at(60.5))
    assert (seen["session"]["duration"], seen["session"]["user_terminated"]) == (60.5, True)
    assert seen["session"]["agent_name"] == vapi.ASSISTANT_NAME
    assert seen["turns"] == []


def test_the_same_report_twice_stores_nothing_the_second_time(database: Database, org: Org) -> None:
    ingest(database, org, mapped(vapi.report()))
    first = stored(database, org)
    assert ingest(database, org, mapped(vapi.report())) == 0
    assert stored(database, org) == first


def test_status_updates_and_report_in_any_order_store_the_same_session(database: Database) -> None:
    bodies = [*vapi.status_flow("call-1"), vapi.report()]
    orders = [bodies, bodies[::-1], [bodies[3], bodies[1], bodies[0], bodies[2]]]
    states = []
    for order in orders:
        org = make_org(database)
        for body in order:
            ingest(database, org, mapped(body))
        ingest(database, org, mapped(bodies[0]))  # a repeat changes nothing
        states.append(stored(database, org))
    assert states[0] == states[1] == states[2]
    assert states[0]["span"][:2] == (at(0), at(60.5))
    assert states[0]["session"]["duration"] == 60.0  # the report's, over the status times


# --- no JSON makes it raise anything but Refused --------------------------------------------------------

FUZZ = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
KEYS = st.sampled_from(
    [
        "message",
        "type",
        "call",
        "id",
        "status",
        "artifact",
        "messages",
        "role",
        "time",
        "toolCalls",
        "function",
    ]
) | st.text(max_size=8)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "end-of-call-report",
            "status-update",
            "ended",
            "in-progress",
            "user",
            "bot",
            "tool_calls",
            "tool_call_result",
            "2026-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "\x00",
            "{}",
            "8",
        ]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=30,
)


def check(body: Any) -> None:
    """Mapped, None or Refused naming a field of the message: nothing else."""
    refusal: Refused | None = None
    try:
        result = map_message(body)
    except Refused as error:
        refusal, result = error, None
    assert result is None or isinstance(result, Mapped)
    assert refusal is None or refusal.field_name.startswith("message")
    for event in result.events if result else []:
        event.data.model_dump_json(exclude_unset=True)  # as the ingest writes it


@FUZZ
@given(JSON)
def test_any_json_maps_or_is_refused_or_ignored(body: Any) -> None:
    check(body)


@FUZZ
@given(JSON)
def test_any_json_as_a_message_maps_or_is_refused_or_ignored(message: Any) -> None:
    check({"message": message})


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        out += [p for key, item in value.items() for p in _paths(item, (*path, key))]
    elif isinstance(value, list):
        out += [p for i, item in enumerate(value) for p in _paths(item, (*path, i))]
    return out


VALID = [vapi.report(), vapi.report(call_type="webCall"), *vapi.status_flow("call-1")]


@FUZZ
@given(st.data())
def test_valid_payloads_with_any_value_changed_map_or_are_refused(draw: st.DataObject) -> None:
    body = copy.deepcopy(draw.draw(st.sampled_from(VALID)))
    for _ in range(draw.draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(body)[1:]
        if not paths:  # `message` itself went
            break
        path = draw.draw(st.sampled_from(paths))
        holder = body
        for part in path[:-1]:
            holder = holder[part]
        if draw.draw(st.booleans()) and isinstance(holder, dict):
            del holder[path[-1]]
        else:
            holder[path[-1]] = draw.draw(JSON)
    check(body)


def test_the_payloads_the_fuzzing_changes_all_map_as_they_are() -> None:
    assert all(mapped(body).events for body in VALID)
