"""The Syllable transcript, timeline and latency responses (reference §3), as syllable-sdk parses them."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from sessionary.types import ZTimestamp


class SessionText(BaseModel):
    timestamp: ZTimestamp
    lang: str | None = None
    source: str | None = None
    text: str | None = None


class SessionAction(BaseModel):
    timestamp: ZTimestamp
    tool_name: str | None = None
    tool_request: str | None = None
    tool_result: str | None = None
    tool_error: str | None = None
    duration_ms: float | None = None


class SessionTranscriptionResponse(BaseModel):
    session_id: str
    transcription: list[SessionText]
    actions: list[SessionAction]


class TimelineEventKind(StrEnum):
    transcript = "transcript"
    tool = "tool"
    latency = "latency"


class TimelineEvent(BaseModel):
    kind: TimelineEventKind
    timestamp: ZTimestamp
    offset: str
    turn_index: int | None = None
    source: str | None = None
    text: str | None = None
    lang: str | None = None
    category: str | None = None
    label: str | None = None
    metadata: list[str] | None = None
    duration_ms: float | None = None
    tool_request: str | None = None
    tool_result: str | None = None
    tool_error: str | None = None


class SessionTimelineResponse(BaseModel):
    session_id: str
    session_start: ZTimestamp | None = None
    events: list[TimelineEvent]


class LatencyCategory(StrEnum):
    tts = "tts"
    stt = "stt"
    llm = "llm"
    tool = "tool"
    http = "http"


class LatencyUnitType(StrEnum):
    minutes = "minutes"
    seconds = "seconds"
    milliseconds = "milliseconds"
    microseconds = "microseconds"
    nanoseconds = "nanoseconds"


class LatencyEntry(BaseModel):
    timestamp: ZTimestamp
    measurement_start: ZTimestamp
    category: LatencyCategory
    label: str
    metadata: list[str] | None = None
    unit_type: LatencyUnitType
    value: float
    value_str: str
    time_delta: str


class SummaryEntry(BaseModel):
    category: LatencyCategory
    sub_category: str | None = None
    event_count: int
    sum_ms: float
    sum_str: str
    average_ms: float
    average_str: str


class InspectLatencyResponse(BaseModel):
    session_id: str
    timeline: list[LatencyEntry]
    summary: list[SummaryEntry]
