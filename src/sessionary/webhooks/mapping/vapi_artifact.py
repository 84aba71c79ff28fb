"""A Vapi end-of-call report's `artifact`: its messages as turns and tool calls, its per-turn latency, its
recordings (SDK `Artifact`, `ArtifactMessagesItem`, `PerformanceMetrics`, `TurnLatency`, `Recording`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sessionary.api.bodies import json_or_text
from sessionary.types import MAX_DURATION_SECONDS
from sessionary.webhooks.mapping.common import Builder, RecordingRef, Refused, from_epoch_ms, short
from sessionary.webhooks.mapping.vapi_json import items, name, number, obj, string

MESSAGES = "message.artifact.messages"
_SOURCES = {"user": "user", "bot": "agent", "assistant": "agent"}  # role -> turn source; `system` skipped
_TOOL_ROLES = frozenset({"tool_calls", "tool_call_result"})
_MS = timedelta(milliseconds=1)
# TurnLatency field -> (latency category, label), in milliseconds
LATENCIES = {
    "modelLatency": ("llm", "model_latency"),
    "voiceLatency": ("tts", "voice_latency"),
    "transcriberLatency": ("stt", "transcriber_latency"),
    "endpointingLatency": ("stt", "endpointing_latency"),
    "turnLatency": ("llm", "turn_latency"),
}
# Recording kind -> where the SDK puts its URL, first found wins (the top-level fields are the older ones)
RECORDINGS = {
    "mono": (
        ("artifact", "recordingUrl"),
        ("artifact", "recording", "mono", "combinedUrl"),
        ("recordingUrl",),
    ),
    "stereo": (
        ("artifact", "stereoRecordingUrl"),
        ("artifact", "recording", "stereoUrl"),
        ("stereoRecordingUrl",),
    ),
}
AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass
class _Clock:
    """Turn times, strictly increasing in list order (a tie, or a time before the last, moves 1 ms on)."""

    last: datetime | None = None

    def next(self, at: datetime, path: str) -> datetime:
        if self.last is not None and at <= self.last:
            at = _shifted(self.last, _MS, f"{path}.time")
        self.last = at
        return at


def conversation(builder: Builder, artifact: dict[str, Any], started: datetime) -> list[datetime]:
    """Add `artifact.messages` as turns (`vapi:{call}:turn:{index}`) and tool calls; returns the times of
    the agent's replies (agent turns right after a user turn), which the per-turn latencies belong to."""
    clock, tools = _Clock(), _Tools()
    replies: list[datetime] = []
    last_source = None
    for i, raw in enumerate(items(artifact.get("messages"), MESSAGES)):
        path = f"{MESSAGES}[{i}]"
        item = obj(raw, path)
        role = item.get("role")
        if not isinstance(role, str) or (role not in _SOURCES and role not in _TOOL_ROLES):
            continue  # `system` (the prompt), and roles the SDK does not have
        sent = _time(item, path, started)
        at = clock.next(sent, path)
        if role in _TOOL_ROLES:
            tools.take(item, path, role, at, sent)
            continue
        source = _SOURCES[role]
        if _turn(builder, i, item, path, source, at):
            if source == "agent" and last_source == "user":
                replies.append(at)
            last_source = source
    tools.add_to(builder)
    return replies


def _time(item: dict[str, Any], path: str, started: datetime) -> datetime:
    """The message's `time` (epoch ms), else the call's start plus its `secondsFromStart`."""
    if item.get("time") is not None:
        return from_epoch_ms(item["time"], f"{path}.time")
    offset = number(item.get("secondsFromStart"), f"{path}.secondsFromStart")
    if offset is None:
        raise Refused(f"{path}.time", "is required (or secondsFromStart)")
    if not 0 <= offset <= MAX_DURATION_SECONDS:
        raise Refused(f"{path}.secondsFromStart", f"must be between 0 and {MAX_DURATION_SECONDS}")
    return _shifted(started, timedelta(seconds=offset), f"{path}.secondsFromStart")


def _shifted(at: datetime, by: timedelta, path: str) -> datetime:
    try:
        return at + by
    except OverflowError:
        raise Refused(path, "puts the time past the year 9999") from None


def _turn(builder: Builder, i: int, item: dict[str, Any], path: str, source: str, at: datetime) -> bool:
    """Add a spoken turn (False: it has no text)."""
    said = string(item.get("message"), f"{path}.message")
    if said is None or not said.strip():
        return False
    builder.add(f"turn:{i}", "transcript", at, {"source": source, "text": said}, f"{path}.message")
    return True


@dataclass
class _Call:
    """One tool call's event being put together from its request and its result."""

    at: datetime
    name_path: str  # where its function name is (or would be)
    sent: datetime | None = None  # when the request was made (the result's time less it: the duration)
    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)

    def set(self, key: str, value: Any, origin: str) -> None:
        if value is not None and key not in self.data:
            self.data[key], self.origins[key] = value, origin


@dataclass
class _Tools:
    """The tool calls of `tool_calls` messages paired with their `tool_call_result` by toolCallId: one
    event per call id (`vapi:{call}:tool:{id}`), at the request's time."""

    calls: dict[str, _Call] = field(default_factory=dict)

    def take(self, item: dict[str, Any], path: str, role: str, at: datetime, sent: datetime) -> None:
        if role == "tool_calls":
            for j, raw in enumerate(items(item.get("toolCalls"), f"{path}.toolCalls")):
                self._request(obj(raw, f"{path}.toolCalls[{j}]"), f"{path}.toolCalls[{j}]", at, sent)
        else:
            self._result(item, path, at, sent)

    def _call(self, call_id: Any, path: str, at: datetime, name_path: str) -> _Call:
        if not isinstance(call_id, str) or not call_id:
            raise Refused(path, "is required and must be a string")
        found = self.calls.setdefault(call_id, _Call(at, name_path))
        found.set("tool_call_id", call_id, path)
        return found

    def _request(self, request: dict[str, Any], path: str, at: datetime, sent: datetime) -> None:
        call = self._call(request.get("id"), f"{path}.id", at, f"{path}.function.name")
        if call.sent is not None:
            return  # the same call id requested twice: the first request
        # a result listed before its request takes the request's time
        call.at, call.sent, call.name_path = at, sent, f"{path}.function.name"
        function = obj(request.get("function"), f"{path}.function")
        call.set("tool_name", name(function.get("name"), f"{path}.function.name"), f"{path}.function.name")
        call.set("tool_request", json_or_text(function.get("arguments")), f"{path}.function.arguments")

    def _result(self, result: dict[str, Any], path: str, at: datetime, sent: datetime) -> None:
        call = self._call(result.get("toolCallId"), f"{path}.toolCallId", at, f"{path}.name")
        call.set("tool_result", json_or_text(result.get("result")), f"{path}.result")
        call.set("tool_error", json_or_text(result.get("error")), f"{path}.error")  # SDK ToolCallResult.error
        if call.sent is not None and sent >= call.sent:
            call.set("duration_ms", (sent - call.sent) / _MS, f"{path}.time")
        call.set("tool_name", name(result.get("name"), f"{path}.name"), f"{path}.name")

    def add_to(self, builder: Builder) -> None:
        for call_id, call in self.calls.items():
            if "tool_name" not in call.data:
                raise Refused(call.name_path, "is required: the tool call has no function name")
            builder.add(f"tool:{short(call_id)}", "tool_call", call.at, call.data, MESSAGES, call.origins)


def latencies(builder: Builder, artifact: dict[str, Any], replies: list[datetime], ended: datetime) -> None:
    """`performanceMetrics.turnLatencies`, in milliseconds: turn i's at the agent's i-th reply (else at the
    call's end), `vapi:{call}:latency:{i}:{label}`. The call's averages are not kept (they follow)."""
    metrics = obj(artifact.get("performanceMetrics"), "message.artifact.performanceMetrics")
    turns_path = "message.artifact.performanceMetrics.turnLatencies"
    for i, raw in enumerate(items(metrics.get("turnLatencies"), turns_path)):
        path = f"{turns_path}[{i}]"
        turn = obj(raw, path)
        at = replies[i] if i < len(replies) else ended
        for key, (category, label) in LATENCIES.items():
            value = number(turn.get(key), f"{path}.{key}")
            if value is not None:
                data = {"category": category, "label": label, "unit": "milliseconds", "value": value}
                builder.add(f"latency:{i}:{label}", "latency", at, data, f"{path}.{key}")


def recordings(message: dict[str, Any], sid: str) -> list[RecordingRef]:
    """The mono and stereo recordings' URLs, to be fetched (`source_key` `mono` / `stereo`)."""
    out = []
    for kind, places in RECORDINGS.items():
        for place in places:
            url = _at(message, place)
            if url is not None:
                out.append(_recording(kind, url, f"message.{'.'.join(place)}", sid))
                break
    return out


def _at(message: dict[str, Any], place: tuple[str, ...]) -> Any:
    """The value at `place` (keys from the message down), None when any part is absent."""
    holder, path = message, "message"
    for key in place[:-1]:
        path = f"{path}.{key}"
        holder = obj(holder.get(key), path)
    return holder.get(place[-1])


def _recording(kind: str, url: Any, path: str, sid: str) -> RecordingRef:
    """The recording at `url`; the URL itself is checked when its fetch is queued (recordings.fetchjobs),
    which skips one it could never fetch rather than lose the call (webhooks/service.py)."""
    if not isinstance(url, str):
        raise Refused(path, "must be a string (an http(s) URL)")
    where = url.split("?", 1)[0].split("#", 1)[0].lower()
    extension = next((e for e in AUDIO_TYPES if where.endswith(e)), "")
    filename = f"{_UNSAFE.sub('_', sid)[:200]}-{kind}{extension}"
    return RecordingRef(kind, url, filename=filename, content_type=AUDIO_TYPES.get(extension), origin=path)
