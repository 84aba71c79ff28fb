"""The native events' wire format, one model per event type (`EventIn`), as the event log stores them."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationInfo,
    field_validator,
)

from sessionary.sessions.models import JOURNEY_SERVICE
from sessionary.types import (
    MAX_DURATION_MS,
    MAX_DURATION_SECONDS,
    MS_PER_UNIT,
    DurationMs,
    ExactJson,
    UTCTimestamp,
)

Name = Annotated[str, Field(min_length=1, max_length=200)]


def _not_journey(value: str) -> str:
    if value == JOURNEY_SERVICE:
        raise ValueError(f"'{JOURNEY_SERVICE}' is reserved for web/app sessions of the journey API")
    return value


_CONTROL = re.compile("[\x00-\x1f\x7f]")  # one search, not a Python loop per character (ingest hot path)


def _path_safe(value: str) -> str:
    if "." in value and {".", ".."} & set(value.split("/")):  # HTTP clients remove such segments (RFC 3986)
        raise ValueError("'.' or '..' alone or between '/' cannot be sent in a URL path (ids are read so)")
    if _CONTROL.search(value):
        raise ValueError("control characters cannot be sent in a URL path (ids are read so)")
    return value


# A producer's id that the read API takes in a path: any text but control characters and `.` or `..` as the
# whole id or between slashes (clients that do not percent-encode `/` send its parts as segments).
PathId = Annotated[Name, AfterValidator(_path_safe)]
# A native session's channel_manager_service: any name but the one journey sessions are stored under.
Service = Annotated[PathId, AfterValidator(_not_journey)]
ShortText = Annotated[str, Field(max_length=200)]

# Free text: every field has a bound (README "## Limits"); past it the event is refused with 422 naming the
# field, rather than stored and cut: a stored event is never changed, and search, snippets and the
# console's pages then never meet an unbounded text (a search's cost grows with the text of a turn).
TURN_MAX_CHARS = 20_000  # a transcript turn: some 3,000 words, a quarter of an hour of speech
PAYLOAD_MAX_BYTES = 65_536  # each of tool_request / tool_result / tool_error, and custom attributes, as JSON
METADATA_MAX_ITEMS = 100


def _bounded_json(value: Any) -> Any:
    """A JSON value of at most PAYLOAD_MAX_BYTES (serialized; its numbers already checked by ExactJson)."""
    try:
        size = len(orjson.dumps(value))
    except TypeError:  # orjson writes 254 levels at most, and the reads write stored payloads with it
        raise ValueError("is nested too deeply: at most 254 levels of lists and objects") from None
    if size > PAYLOAD_MAX_BYTES:
        raise ValueError(f"{size} bytes of JSON; at most {PAYLOAD_MAX_BYTES} are allowed")
    return value


# A client JSON value: every number kept exactly (types.ExactJson), at most PAYLOAD_MAX_BYTES of it.
Payload = Annotated[ExactJson, AfterValidator(_bounded_json)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionFields(_Strict):
    """The Session fields a `session.started` or `session.updated` event may set (latest timestamp wins)."""

    channel_manager_type: ShortText | None = None
    conversation_id: ShortText | None = None
    agent_id: ShortText | None = None
    agent_name: ShortText | None = None
    agent_type: ShortText | None = None
    agent_timezone: Annotated[str, Field(max_length=64)] | None = None
    prompt_id: ShortText | None = None
    prompt_name: ShortText | None = None
    prompt_version: ShortText | None = None
    prompt_version_number: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None
    source: ShortText | None = None
    target: ShortText | None = None
    is_outbound: bool | None = None
    is_test: bool | None = None
    is_legacy: bool | None = None
    override_timestamp: Annotated[str, Field(max_length=64)] | None = None
    llm_provider: ShortText | None = None
    llm_model: ShortText | None = None
    llm_version: ShortText | None = None
    llm_temperature: Annotated[StrictFloat, Field(ge=0, le=10, allow_inf_nan=False)] | None = None
    llm_seed: Annotated[StrictInt, Field(ge=-(2**63), le=2**63 - 1)] | None = None


class SessionEndedData(_Strict):
    user_terminated: bool | None = None
    transfer_voicemail_detected: bool | None = None
    duration: Annotated[float, Field(ge=0, le=MAX_DURATION_SECONDS, allow_inf_nan=False)] | None = None


class TranscriptData(_Strict):
    source: Literal["user", "agent"]
    text: Annotated[str, Field(max_length=TURN_MAX_CHARS)]
    lang: Annotated[str, Field(max_length=35)] | None = None


class ToolCallData(_Strict):
    tool_call_id: PathId
    tool_name: Name
    tool_request: Payload = None
    tool_result: Payload = None
    tool_error: Payload = None
    duration_ms: DurationMs | None = None


class LatencyData(_Strict):
    category: Literal["stt", "tts", "llm", "tool", "http"]
    label: Name
    metadata: Annotated[list[ShortText], Field(max_length=METADATA_MAX_ITEMS)] | None = None
    # unit before value: value's range is checked in milliseconds
    unit: Literal["minutes", "seconds", "milliseconds", "microseconds", "nanoseconds"]
    value: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    measurement_start: UTCTimestamp | None = None

    @field_validator("value")
    @classmethod
    def _at_most_max_duration(cls, value: float, info: ValidationInfo) -> float:
        unit = info.data.get("unit")
        if unit is not None and value * MS_PER_UNIT[unit] > MAX_DURATION_MS:
            limit = MAX_DURATION_MS / MS_PER_UNIT[unit]
            raise ValueError(f"must be at most {limit:.10g} {unit} ({MAX_DURATION_MS:,} ms)")
        return value


class CustomData(_Strict):
    """A notable occurrence the producer reports itself (listed by GET /api/v1/events/)."""

    type: Name
    source: ShortText | None = None
    source_id: ShortText | None = None
    category: ShortText | None = None
    user_id: ShortText | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    attributes: Annotated[dict[str, ExactJson], AfterValidator(_bounded_json)] | None = None


class _EventBase(_Strict):
    event_id: Name
    timestamp: UTCTimestamp
    channel_manager_service: Service
    channel_manager_sid: PathId


class SessionStartedEvent(_EventBase):
    type: Literal["session.started"]
    data: SessionFields = Field(default_factory=SessionFields)


class SessionUpdatedEvent(_EventBase):
    type: Literal["session.updated"]
    data: SessionFields


class TranscriptEvent(_EventBase):
    type: Literal["transcript"]
    data: TranscriptData


class ToolCallEvent(_EventBase):
    type: Literal["tool_call"]
    data: ToolCallData


class LatencyEvent(_EventBase):
    type: Literal["latency"]
    data: LatencyData


class SessionEndedEvent(_EventBase):
    type: Literal["session.ended"]
    data: SessionEndedData = Field(default_factory=SessionEndedData)


class CustomEvent(_EventBase):
    type: Literal["custom"]
    data: CustomData


EventIn = Annotated[
    SessionStartedEvent
    | SessionUpdatedEvent
    | TranscriptEvent
    | ToolCallEvent
    | LatencyEvent
    | SessionEndedEvent
    | CustomEvent,
    Field(discriminator="type"),
]
