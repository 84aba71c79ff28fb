"""Retell AI webhooks (`{"event": ..., "call": {...}}`, the call as retell-sdk's PhoneCallResponse /
WebCallResponse) to native events. Field names from retell-sdk 6 (retell/types/phone_call_response.py).

- `call_started`: the session starts (start_timestamp), with direction, numbers and agent.
- `call_ended` and `call_analyzed` carry the whole call: start and end, duration, how it ended,
  `transcript_with_tool_calls` (turns, tool invocations paired with their results), `latency` (every value of
  e2e/llm/tts/asr/... as a latency event), the recording, the cost; `call_analyzed` adds `call_analysis`
  (summary, success, sentiment, voicemail, custom data): the provider's report and verdict.
Every other event (transcript_updated, transfer_*) is acknowledged and not stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sessionary.api.bodies import json_or_text
from sessionary.webhooks.mapping import common
from sessionary.webhooks.mapping.common import Builder, Mapped, Refused, Verdict

STORED = frozenset({"call_started", "call_ended", "call_analyzed"})
_TICK = timedelta(milliseconds=1)
# latency key -> (category, label); every value of `values` is one latency event.
_LATENCY = {
    "e2e": ("llm", "e2e_latency"),
    "llm": ("llm", "llm_latency"),
    "s2s": ("llm", "s2s_latency"),
    "tts": ("tts", "tts_latency"),
    "asr": ("stt", "asr_latency"),
    "knowledge_base": ("tool", "knowledge_base_latency"),
    "llm_websocket_network_rtt": ("http", "llm_websocket_network_rtt"),
}
_SENTIMENT = {"Positive": "GOOD", "Neutral": "OK", "Negative": "BAD", "Unknown": "N/A"}


def map_event(body: Any, *, received_at: datetime) -> Mapped | None:
    """The native events of one Retell webhook; None for an event that is not stored."""
    if not isinstance(body, dict) or not isinstance(body.get("event"), str):
        raise Refused("event", "is required and must be a string")
    if body["event"] not in STORED:
        return None
    call = body.get("call")
    if not isinstance(call, dict):
        raise Refused("call", "is required and must be an object")
    web = call.get("call_type") == "web_call"
    builder = Builder("retell", "retell", call.get("call_id"), "call.call_id")
    start = _when(call, "start_timestamp")
    end = _when(call, "end_timestamp")
    base = start or end or received_at
    builder.add("started", "session.started", base, _fields(call, web), "call")
    if body["event"] == "call_started":
        return builder.mapped
    if end is not None or call.get("call_status") in ("ended", "error", "not_connected"):
        builder.add("ended", "session.ended", end or base, _ended(call, start, end), "call")
    turns = _turns(builder, call, base)
    _latency(builder, call.get("latency"), turns or [end or base])
    _report(builder, call, end or base)
    builder.mapped.verdict = _verdict(call.get("call_analysis"))
    for key, field in (("recording", "recording_url"), ("multichannel", "recording_multi_channel_url")):
        url = call.get(field)
        if isinstance(url, str) and url:
            name = f"{builder.mapped.sid}-{key}.wav"[-255:]
            ref = common.RecordingRef(key, url, name, common.audio_type(url), origin=f"call.{field}")
            builder.mapped.recordings.append(ref)
    return builder.mapped


def _when(call: dict[str, Any], name: str) -> datetime | None:
    value = call.get(name)
    return None if value is None else common.from_epoch_ms(value, f"call.{name}")


def _fields(call: dict[str, Any], web: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {"channel_manager_type": "voice_web_retell_v1" if web else "voice_retell_v1"}
    direction = call.get("direction")
    if direction in ("inbound", "outbound"):
        fields["is_outbound"] = direction == "outbound"
    for name, field in (
        ("source", "from_number"),
        ("target", "to_number"),
        ("agent_id", "agent_id"),
        ("agent_name", "agent_name"),
    ):
        if isinstance(call.get(field), str):
            fields[name] = call[field]
    version = call.get("agent_version")
    if isinstance(version, int) and not isinstance(version, bool):
        fields["prompt_version_number"] = version
    telephony = call.get("telephony_identifier")
    if isinstance(telephony, dict) and isinstance(telephony.get("twilio_call_sid"), str):
        fields["conversation_id"] = telephony["twilio_call_sid"]  # the Twilio call it rode on, if reported
    return fields


def _ended(call: dict[str, Any], start: datetime | None, end: datetime | None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    duration = call.get("duration_ms")
    if isinstance(duration, int | float) and not isinstance(duration, bool) and duration >= 0:
        data["duration"] = duration / 1000
    elif start is not None and end is not None and end >= start:
        data["duration"] = (end - start).total_seconds()
    reason = call.get("disconnection_reason")
    if reason in ("user_hangup", "agent_hangup"):
        data["user_terminated"] = reason == "user_hangup"
    analysis = call.get("call_analysis")
    voicemail = analysis.get("in_voicemail") if isinstance(analysis, dict) else None
    if reason == "voicemail_reached" or voicemail is True:
        data["transfer_voicemail_detected"] = True
    return data


def _turns(builder: Builder, call: dict[str, Any], base: datetime) -> list[datetime]:
    """Turns and tool calls in order, each at its first word's time (or just after the one before);
    returns the agent turns' times (where the latency values are placed)."""
    items = call.get("transcript_with_tool_calls")
    if items is None:
        return []
    if not isinstance(items, list):
        raise Refused("call.transcript_with_tool_calls", "must be a list")
    results = {
        item.get("tool_call_id"): item
        for item in items
        if isinstance(item, dict) and item.get("role") == "tool_call_result"
    }
    agent_times: list[datetime] = []
    at = base - _TICK
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        where = f"call.transcript_with_tool_calls[{index}]"
        at = max(at + _TICK, _word_time(item, base, where) or at + _TICK)
        role = item.get("role")
        if role in ("user", "agent", "transfer_target"):
            source = "user" if role == "user" else "agent"
            content = item.get("content")
            if isinstance(content, str) and content.strip():
                data = {"source": source, "text": content}
                builder.add(f"turn:{index}", "transcript", at, data, f"{where}.content")
                if source == "agent":
                    agent_times.append(at)
        elif role == "tool_call_invocation":
            _tool_call(builder, item, results.get(item.get("tool_call_id")), at, where)
    return agent_times


def _word_time(item: dict[str, Any], base: datetime, where: str) -> datetime | None:
    words = item.get("words")
    if not isinstance(words, list) or not words or not isinstance(words[0], dict):
        return None
    offset = words[0].get("start")
    if isinstance(offset, bool) or not isinstance(offset, int | float) or not 0 <= offset < 86_400 * 7:
        return None
    return base + timedelta(seconds=offset)


def _tool_call(
    builder: Builder, call: dict[str, Any], result: dict[str, Any] | None, at: datetime, where: str
) -> None:
    call_id = call.get("tool_call_id")
    if not isinstance(call_id, str):
        raise Refused(f"{where}.tool_call_id", "is required and must be a string")
    data: dict[str, Any] = {
        "tool_call_id": call_id,
        "tool_name": call.get("name"),
        "tool_request": json_or_text(call.get("arguments")),
    }
    if result is not None:
        content = json_or_text(result.get("content"))
        data["tool_error" if result.get("successful") is False else "tool_result"] = content
    builder.add(f"tool:{common.short(call_id)}", "tool_call", at, data, where)


def _latency(builder: Builder, latency: Any, times: list[datetime]) -> None:
    if not isinstance(latency, dict):
        return
    for key, (category, label) in _LATENCY.items():
        entry = latency.get(key)
        values = entry.get("values") if isinstance(entry, dict) else None
        if not isinstance(values, list):
            continue
        for index, value in enumerate(values):
            at = times[min(index, len(times) - 1)]
            data = {"category": category, "label": label, "unit": "milliseconds", "value": value}
            builder.add(f"latency:{key}:{index}", "latency", at, data, f"call.latency.{key}.values[{index}]")


def _report(builder: Builder, call: dict[str, Any], at: datetime) -> None:
    """What Retell concluded: one `provider.report` event (README "Connect a voice platform")."""
    analysis = _object(call.get("call_analysis"))
    cost = _object(call.get("call_cost"))
    attributes = {
        "summary": analysis.get("call_summary"),
        "call_successful": analysis.get("call_successful"),
        "user_sentiment": analysis.get("user_sentiment"),
        "in_voicemail": analysis.get("in_voicemail"),
        "custom_analysis_data": common.bounded(analysis.get("custom_analysis_data")),
        "disconnection_reason": call.get("disconnection_reason"),
        "cost": cost.get("combined_cost"),
        "cost_unit": "cents" if cost.get("combined_cost") is not None else None,
        "metadata": common.bounded(call.get("metadata")),
    }
    common.report(builder, at, attributes, description=analysis.get("call_summary"), field="call")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _verdict(analysis: Any) -> Verdict | None:
    if not isinstance(analysis, dict):
        return None
    success, sentiment = analysis.get("call_successful"), analysis.get("user_sentiment")
    if isinstance(success, bool):
        code = "GOOD" if success else "BAD"
    elif isinstance(sentiment, str) and sentiment in _SENTIMENT:
        code = _SENTIMENT[sentiment]
    else:
        return None
    said = [
        f"{name}={analysis[name]}"
        for name in ("call_successful", "user_sentiment", "in_voicemail")
        if analysis.get(name) is not None
    ]
    categories = [f"user_sentiment:{sentiment}"] if isinstance(sentiment, str) else []
    if analysis.get("in_voicemail") is True:
        categories.append("voicemail")
    return Verdict(code, "Retell call analysis: " + ", ".join(said), tuple(categories))  # type: ignore[arg-type]
