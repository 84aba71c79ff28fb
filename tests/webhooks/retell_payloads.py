"""Retell webhook payloads built from retell-sdk's own models (PhoneCallResponse and its parts), serialized
as the API sends them (`to_dict(mode="json")`), in Retell's envelope `{"event": ..., "call": ...}`."""

from __future__ import annotations

from typing import Any

from retell.types import phone_call_response as r

START_MS = 1_765_000_000_000  # 2025-12-06T05:46:40Z
CALL_ID = "call_5f8e2a0c9b7d4e1f"


def _words(start: float) -> list[r.TranscriptWithToolCallUtteranceWord]:
    return [r.TranscriptWithToolCallUtteranceWord(start=start, end=start + 0.4, word="w")]


def call(
    *, recording_url: str | None = None, analyzed: bool = True, call_id: str = CALL_ID
) -> r.PhoneCallResponse:
    """A finished inbound phone call: greeting, a question, a tool call with its result, an answer."""
    transcript: list[Any] = [
        r.TranscriptWithToolCallUtterance(
            role="agent", content="Thanks for calling Acme Dental.", words=_words(0.4)
        ),
        r.TranscriptWithToolCallUtterance(
            role="user", content="Can I book a cleaning tomorrow?", words=_words(3.1)
        ),
        r.TranscriptWithToolCallToolCallInvocationUtterance(
            role="tool_call_invocation",
            tool_call_id="tc_91",
            name="check_availability",
            arguments='{"date": "2025-12-07"}',
        ),
        r.TranscriptWithToolCallToolCallResultUtterance(
            role="tool_call_result",
            tool_call_id="tc_91",
            content='{"slots": ["10:00", "14:30"]}',
            successful=True,
        ),
        r.TranscriptWithToolCallUtterance(role="agent", content="We have 10:00 or 14:30.", words=_words(7.8)),
        r.TranscriptWithToolCallUtterance(role="user", content="10 works, thanks.", words=_words(11.0)),
    ]
    latency = r.Latency(
        e2e=r.LatencyE2E(p50=820, p90=990, values=[780.0, 860.0]),
        llm=r.LatencyLlm(p50=410, values=[400.0, 420.0]),
        tts=r.LatencyTts(p50=150, values=[140.0, 160.0]),
        asr=r.LatencyAsr(p50=90, values=[85.0, 95.0]),
    )
    analysis = r.CallAnalysis(
        call_summary="The caller booked a cleaning for tomorrow at 10:00.",
        call_successful=True,
        user_sentiment="Positive",
        in_voicemail=False,
        custom_analysis_data={"appointment_booked": True},
    )
    cost = r.CallCost(
        combined_cost=12.5,
        product_costs=[r.CallCostProductCost(cost=12.5, product="retell_platform")],
        total_duration_seconds=15,
        total_duration_unit_price=0.8333,
    )
    return r.PhoneCallResponse(
        agent_id="agent_7c1e",
        agent_version=3,
        agent_name="Front desk",
        call_id=call_id,
        call_status="ended",
        call_type="phone_call",
        direction="inbound",
        from_number="+14155550100",
        to_number="+14155550199",
        start_timestamp=START_MS,
        end_timestamp=START_MS + 15_000,
        duration_ms=15_000,
        disconnection_reason="user_hangup",
        transcript_with_tool_calls=transcript,
        latency=latency,
        call_analysis=analysis if analyzed else None,
        call_cost=cost,
        recording_url=recording_url,
        metadata={"crm_id": "42"},
    )


def started(call_id: str = CALL_ID) -> dict[str, Any]:
    """`call_started`: the call as it is when it starts (no end, transcript or analysis yet)."""
    begun = r.PhoneCallResponse(
        agent_id="agent_7c1e",
        agent_version=3,
        agent_name="Front desk",
        call_id=call_id,
        call_status="ongoing",
        call_type="phone_call",
        direction="inbound",
        from_number="+14155550100",
        to_number="+14155550199",
        start_timestamp=START_MS,
    )
    return {"event": "call_started", "call": begun.to_dict(mode="json")}


def ended(**kwargs: Any) -> dict[str, Any]:
    return {"event": "call_ended", "call": call(analyzed=False, **kwargs).to_dict(mode="json")}


def analyzed(**kwargs: Any) -> dict[str, Any]:
    return {"event": "call_analyzed", "call": call(**kwargs).to_dict(mode="json")}
