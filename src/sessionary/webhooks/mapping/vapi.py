"""Vapi's server messages (`{"message": {...}}` posted to the assistant's server URL) as native events.

Field names and shapes are those of Vapi's server SDK (`vapi_server_sdk` 3.0.0, `vapi.types`):
`ServerMessageStatusUpdate`, `ServerMessageEndOfCallReport`, `Call`, `Artifact` and its message items
(`UserMessage`, `BotMessage`, `SystemMessage`, `ToolCallMessage`, `ToolCallResultMessage`),
`PerformanceMetrics` / `TurnLatency`, `Analysis`, `Recording`. Two message types are stored, every other
is answered and ignored (`map_message` returns None):

* `status-update`: the session's fields at the message's `timestamp`; `in-progress` starts the session
  (`session.started`), `scheduled` / `queued` / `ringing` / `forwarding` update it, `ended` also ends it.
  Its transcript is not taken: only the report's final list, so that turn ids stay stable.
* `end-of-call-report`: the whole call: start, end and duration, the turns and tool calls of
  `artifact.messages` (event ids from their index in that final list), per-turn latency, one `custom`
  event of type `provider.report` (summary, cost, ended reason, success evaluation, structured data),
  the success evaluation as the session's verdict, the recordings to fetch.

Every event id is made from the call id, so the same message twice, or the status-updates and the report
in any order, store the same session. A report may hold more events than `Settings().ingest_max_events`;
the caller refuses those as it does any batch. What cannot be stored is `Refused`, naming the field.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sessionary.labels.schemas import LabelCode
from sessionary.webhooks.mapping import vapi_artifact as artifacts
from sessionary.webhooks.mapping.common import (
    Builder,
    Mapped,
    Refused,
    Verdict,
    from_epoch_ms,
    from_iso,
    text,
)
from sessionary.webhooks.mapping.vapi_json import Fields, bounded, first_name, fit, name, number, obj, string

PROVIDER = SERVICE = "vapi"
PHONE_CHANNEL, WEB_CHANNEL = "voice_vapi_v1", "voice_web_vapi_v1"  # both voice sessions
_CHANNELS = {"inboundPhoneCall": PHONE_CHANNEL, "outboundPhoneCall": PHONE_CHANNEL, "webCall": WEB_CHANNEL}
_PHONE_CALLS = frozenset({"inboundPhoneCall", "outboundPhoneCall"})
# status -> the session event it is; other statuses (`not-found`, `deletion-failed`) are not the call's
_STATUS_EVENTS = {
    "scheduled": "session.updated",
    "queued": "session.updated",
    "ringing": "session.updated",
    "in-progress": "session.started",
    "forwarding": "session.updated",
    "ended": "session.updated",
}
DESCRIPTION_CHARS = 2000  # the custom event's description: the summary, cut
REPORT_PART_BYTES = 16 * 1024  # structured data (and the success evaluation) kept in the report, as JSON


def map_message(body: Any) -> Mapped | None:
    """One delivery as the native events of its call's session (None: a message type not stored)."""
    if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
        raise Refused("message", "is required and must be an object")
    message: dict[str, Any] = body["message"]
    kind = message.get("type")
    if not isinstance(kind, str):
        raise Refused("message.type", "is required and must be a string")
    if kind == "status-update":
        return _status_update(message)
    if kind == "end-of-call-report":
        return _report(message)
    return None


def _call(message: dict[str, Any]) -> tuple[dict[str, Any], Builder]:
    """The message's call, and the builder of its session's events (keyed by the call id)."""
    call = obj(message.get("call"), "message.call")
    return call, Builder(PROVIDER, SERVICE, call.get("id"), "message.call.id")


def _status_update(message: dict[str, Any]) -> Mapped | None:
    status = string(message.get("status"), "message.status")
    event_type = _STATUS_EVENTS.get(status or "")
    if status is None or event_type is None:
        return None
    call, builder = _call(message)
    at = _status_time(message, call, status)
    fields = session_fields(message, call)
    builder.add(f"status:{status}", event_type, at, fields.values, "message.call", fields.origins)
    if status == "ended":
        builder.add("status:ended:end", "session.ended", at, _ending(message, call), "message.endedReason")
    return builder.mapped


def _status_time(message: dict[str, Any], call: dict[str, Any], status: str) -> datetime:
    """The message's `timestamp`; without one, the call's own time of the status, else its last update."""
    if message.get("timestamp") is not None:
        return from_epoch_ms(message["timestamp"], "message.timestamp")
    fallback = {"in-progress": "startedAt", "ended": "endedAt"}.get(status)
    for key in (fallback, "updatedAt"):
        if key and call.get(key) is not None:
            return from_iso(call[key], f"message.call.{key}")
    raise Refused("message.timestamp", "is required (epoch milliseconds)")


def _report(message: dict[str, Any]) -> Mapped:
    call, builder = _call(message)
    started = _started_at(message, call)
    ended, duration = _ended_at(message, call, started)
    fields = session_fields(message, call)
    builder.add("started", "session.started", started, fields.values, "message.call", fields.origins)
    ending = _ending(message, call) | ({} if duration is None else {"duration": duration})
    builder.add(
        "ended", "session.ended", ended, ending, "message.endedReason", {"duration": "message.endedAt"}
    )
    artifact = obj(message.get("artifact"), "message.artifact")
    replies = artifacts.conversation(builder, artifact, started)
    artifacts.latencies(builder, artifact, replies, ended)
    analysis = obj(message.get("analysis"), "message.analysis")
    _report_event(builder, message, analysis, ended)
    builder.mapped.verdict = verdict(analysis.get("successEvaluation"))
    builder.mapped.recordings = artifacts.recordings(message, builder.mapped.sid)
    return builder.mapped


def _started_at(message: dict[str, Any], call: dict[str, Any]) -> datetime:
    """`startedAt` (the report's, else the call's); a call that never started: when it was created."""
    for path, holder, key in (
        ("message", message, "startedAt"),
        ("message.call", call, "startedAt"),
        ("message.call", call, "createdAt"),
    ):
        if holder.get(key) is not None:
            return from_iso(holder[key], f"{path}.{key}")
    if message.get("timestamp") is not None:
        return from_epoch_ms(message["timestamp"], "message.timestamp")
    raise Refused("message.startedAt", "is required (an ISO 8601 date-time)")


def _ended_at(
    message: dict[str, Any], call: dict[str, Any], started: datetime
) -> tuple[datetime, float | None]:
    """`endedAt` (the report's, else the call's) and the duration since `started` in seconds; without
    one, the message's time (or the start) and no duration."""
    for path, holder in (("message", message), ("message.call", call)):
        if holder.get("endedAt") is not None:
            ended = from_iso(holder["endedAt"], f"{path}.endedAt")
            if ended < started:
                raise Refused(f"{path}.endedAt", "must not be before startedAt")
            return ended, (ended - started).total_seconds()
    if message.get("timestamp") is not None:
        return max(started, from_epoch_ms(message["timestamp"], "message.timestamp")), None
    return started, None


def _ending(message: dict[str, Any], call: dict[str, Any]) -> dict[str, Any]:
    """session.ended's fields from `endedReason`: who hung up, and whether voicemail answered."""
    reason = string(message.get("endedReason"), "message.endedReason")
    if reason is None:
        reason = string(call.get("endedReason"), "message.call.endedReason")
    out: dict[str, Any] = {}
    if reason is None:
        return out
    if reason.startswith("customer-ended-call"):
        out["user_terminated"] = True
    elif reason.startswith("assistant-ended-call") or reason == "assistant-said-end-call-phrase":
        out["user_terminated"] = False
    if reason == "voicemail":
        out["transfer_voicemail_detected"] = True
    return out


def session_fields(message: dict[str, Any], call: dict[str, Any]) -> Fields:
    """The session's fields a message tells: channel, direction, caller and callee, assistant, LLM."""
    fields = Fields()
    provider_call = name(call.get("phoneCallProviderId"), "message.call.phoneCallProviderId")
    if provider_call:  # the carrier's id of the call (Twilio's CallSid): its other records share it
        fields.put("conversation_id", provider_call, "message.call.phoneCallProviderId")
    else:
        fields.put("conversation_id", call["id"], "message.call.id")
    call_type = string(call.get("type"), "message.call.type")
    fields.put("channel_manager_type", _CHANNELS.get(call_type or ""), "message.call.type")
    if call_type in _PHONE_CALLS:
        outbound = call_type == "outboundPhoneCall"
        fields.put("is_outbound", outbound, "message.call.type")
        customer = first_name(message, call, "customer", ("number", "sipUri"))
        ours = first_name(message, call, "phoneNumber", ("number", "sipUri"))
        caller, callee = (ours, customer) if outbound else (customer, ours)
        fields.put("source", *caller)
        fields.put("target", *callee)
    _assistant_fields(fields, message, call)
    return fields


def _assistant_fields(fields: Fields, message: dict[str, Any], call: dict[str, Any]) -> None:
    if message.get("assistant") is not None:
        path, assistant = "message.assistant", obj(message["assistant"], "message.assistant")
    else:
        path, assistant = "message.call.assistant", obj(call.get("assistant"), "message.call.assistant")
    fields.put("agent_name", name(assistant.get("name"), f"{path}.name"), f"{path}.name")
    fields.put(
        "agent_id", name(call.get("assistantId"), "message.call.assistantId"), "message.call.assistantId"
    )
    model = obj(assistant.get("model"), f"{path}.model")
    for key, field_name in (("provider", "llm_provider"), ("model", "llm_model")):
        fields.put(field_name, name(model.get(key), f"{path}.model.{key}"), f"{path}.model.{key}")
    temperature = number(model.get("temperature"), f"{path}.model.temperature")
    if temperature is not None:
        fields.put("llm_temperature", float(temperature), f"{path}.model.temperature")


def _report_event(builder: Builder, message: dict[str, Any], analysis: dict[str, Any], at: datetime) -> None:
    """The provider's conclusions as one `custom` event (type `provider.report`, listed as notable)."""
    summary = string(analysis.get("summary"), "message.analysis.summary")
    if summary is None:  # the older top-level field (the SDK's status-update still has it)
        summary = string(message.get("summary"), "message.summary")
    reason = string(message.get("endedReason"), "message.endedReason")
    attributes = {
        "summary": summary,
        "cost": number(message.get("cost"), "message.cost"),
        "ended_reason": text(reason, 200),
        "success_evaluation": bounded(analysis.get("successEvaluation"), REPORT_PART_BYTES),
        "structured_data": bounded(analysis.get("structuredData"), REPORT_PART_BYTES),
    }
    attributes = fit({key: value for key, value in attributes.items() if value is not None})
    data: dict[str, Any] = {
        "type": "provider.report",
        "source": PROVIDER,
        "source_id": builder.mapped.sid,
        "category": "provider",
        "attributes": attributes,
    }
    description = text(summary, DESCRIPTION_CHARS)
    if description:
        data["description"] = description
    origins = {"description": "message.analysis.summary", "source_id": "message.call.id"}
    builder.add("report", "custom", at, data, "message.analysis", origins)


def verdict(value: Any) -> Verdict | None:
    """What `analysis.successEvaluation` concludes, in any of the rubrics' forms (PassFail `true`/`false`,
    NumericScale 1-10, PercentageScale, DescriptiveScale, letter grades); N/A for any other value (a
    Checklist, a Matrix, a Likert answer), None when there is none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    comments = text(f"Vapi successEvaluation: {_raw(value)}".replace("\x00", "\ufffd"), COMMENTS_CHARS)
    return Verdict(code=_code(value), comments=comments)


def _raw(value: Any) -> str:
    """The value as Vapi sent it, for the label's comments."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (ValueError, RecursionError):  # an integer of thousands of digits, a very deep nesting
        return f"(a {type(value).__name__} too large to quote)"


def _code(value: Any) -> LabelCode:
    if isinstance(value, bool):
        return "GOOD" if value else "BAD"
    if isinstance(value, int | float):
        return _score(float(value), percent=float(value) > 10)
    if not isinstance(value, str):
        return "N/A"
    said = value.strip().lower()
    if said in _WORDS:
        return _WORDS[said]
    if grade := _GRADE.fullmatch(said):
        return _GRADES[grade[1]]
    if score := _SCORE.fullmatch(said):
        points, scale = float(score[1]), (score[2] or "").replace(" ", "")
        return _score(points, percent=scale in ("%", "/100") or (not scale and points > 10))
    return "N/A"


def _score(points: float, *, percent: bool) -> LabelCode:
    """A 1-10 score (7 and up GOOD, 4 and up OK) or a percentage (70 and up GOOD, 40 and up OK)."""
    top, good, ok = (100, 70, 40) if percent else (10, 7, 4)
    if not 0 <= points <= top:
        return "N/A"
    return "GOOD" if points >= good else "OK" if points >= ok else "BAD"


COMMENTS_CHARS = 10_000  # a label's comments
_WORDS: dict[str, LabelCode] = {
    "true": "GOOD",
    "pass": "GOOD",
    "passed": "GOOD",
    "false": "BAD",
    "fail": "BAD",
    "failed": "BAD",
    "excellent": "GOOD",  # DescriptiveScale: Excellent, Good, Fair, Poor
    "good": "GOOD",
    "fair": "OK",
    "poor": "BAD",
}
_GRADE = re.compile(r"([abcdf])[+-]?")
_GRADES: dict[str, LabelCode] = {"a": "GOOD", "b": "GOOD", "c": "OK", "d": "BAD", "f": "BAD"}
_SCORE = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*(%|/\s*10|/\s*100)?")
