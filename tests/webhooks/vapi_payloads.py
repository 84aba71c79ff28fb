"""Vapi server messages built from the Vapi server SDK's own models (`vapi_server_sdk`, `vapi.types`) and
serialized as Vapi sends them: the SDK's `.json()` (camelCase aliases, unset fields left out, ISO 8601
dates), wrapped in `{"message": ...}`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from vapi.core.unchecked_base_model import UncheckedBaseModel
from vapi.types import (
    Analysis,
    Artifact,
    ArtifactMessagesItem,
    BotMessage,
    Call,
    CreateAssistantDto,
    CreateCustomerDto,
    PerformanceMetrics,
    ServerMessageEndOfCallReport,
    ServerMessageStatusUpdate,
    SystemMessage,
    ToolCall,
    ToolCallFunction,
    ToolCallMessage,
    ToolCallResultMessage,
    TurnLatency,
    UserMessage,
)
from vapi.types.create_assistant_dto_model import CreateAssistantDtoModel_Openai
from vapi.types.server_message_end_of_call_report_phone_number import (
    ServerMessageEndOfCallReportPhoneNumber_Twilio,
)
from vapi.types.server_message_status_update_phone_number import ServerMessageStatusUpdatePhoneNumber_Twilio

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CUSTOMER, OUR_NUMBER = "+15550001111", "+15552223333"
ASSISTANT_ID, ASSISTANT_NAME = "asst-front-desk", "Front desk"
MONO_URL = "https://storage.vapi.ai/call-1-mono.wav"
STEREO_URL = "https://storage.vapi.ai/call-1-stereo.mp3"
SUMMARY = "The caller asked for the weather in Paris and booked a table for two."


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def ms(seconds: float) -> float:
    """Epoch milliseconds, as the SDK's message `time` and `timestamp` are."""
    return at(seconds).timestamp() * 1000


def wire(message: UncheckedBaseModel) -> dict[str, Any]:
    """The body Vapi posts: the message as the SDK serializes it, under `message`."""
    return {"message": json.loads(message.json())}


@dataclass(frozen=True)
class Tool:
    call_id: str
    name: str
    arguments: dict[str, Any]
    result: Any


TOOLS = (
    Tool("call_weather", "get_weather", {"city": "Paris"}, {"temp_c": 18, "sky": "clear"}),
    Tool("call_book", "book_table", {"people": 2, "time": "19:00"}, "booked for 19:00"),
)
# (role, text, seconds from the start): the spoken turns of `conversation()`, in order
TURNS = (
    ("agent", "Hello, this is the front desk. How can I help?", 1.0),
    ("user", "What is the weather in Paris? And can I book a table for two?", 3.0),
    ("agent", "It is clear and 18 degrees. Your table for two is booked for seven.", 8.0),
    ("user", "Thanks!", 8.0),  # the same time as the turn before: kept after it
    ("agent", "Goodbye.", 10.0),
)


def conversation() -> list[ArtifactMessagesItem]:
    """The system prompt, the spoken turns, and the two tool calls (requested together, each answered)."""
    items: list[ArtifactMessagesItem] = [
        SystemMessage(role="system", message="You are the front desk.", time=ms(0), seconds_from_start=0)
    ]
    for role, said, seconds in TURNS[:2]:
        items.append(_turn(role, said, seconds))
    calls = [
        ToolCall(
            id=t.call_id,
            type="function",
            function=ToolCallFunction(name=t.name, arguments=json.dumps(t.arguments)),
        ).dict()
        for t in TOOLS
    ]
    items.append(
        ToolCallMessage(role="tool_calls", tool_calls=calls, message="", time=ms(5), seconds_from_start=5)
    )
    for offset, tool in enumerate(TOOLS):
        result = tool.result if isinstance(tool.result, str) else json.dumps(tool.result)
        items.append(
            ToolCallResultMessage(
                role="tool_call_result",
                tool_call_id=tool.call_id,
                name=tool.name,
                result=result,
                time=ms(6 + offset),
                seconds_from_start=6 + offset,
            )
        )
    items += [_turn(role, said, seconds) for role, said, seconds in TURNS[2:]]
    return items


def _turn(role: str, said: str, seconds: float) -> ArtifactMessagesItem:
    if role == "user":
        return UserMessage(
            role="user", message=said, time=ms(seconds), end_time=ms(seconds + 1), seconds_from_start=seconds
        )
    return BotMessage(
        role="bot", message=said, time=ms(seconds), end_time=ms(seconds + 1), seconds_from_start=seconds
    )


LATENCIES = (
    TurnLatency(
        model_latency=420.0,
        voice_latency=180.5,
        transcriber_latency=95.0,
        endpointing_latency=300.0,
        turn_latency=1010.0,
    ),
    TurnLatency(model_latency=380.0, voice_latency=170.0, turn_latency=900.0),
)


def call(call_id: str = "call-1", call_type: str = "inboundPhoneCall", **extra: Any) -> Call:
    return Call(
        id=call_id,
        org_id="org-vapi",
        created_at=at(-5),
        updated_at=at(60),
        type=call_type,
        assistant_id=ASSISTANT_ID,
        customer=CreateCustomerDto(number=CUSTOMER),
        **extra,
    )


def assistant() -> CreateAssistantDto:
    return CreateAssistantDto(
        name=ASSISTANT_NAME, model=CreateAssistantDtoModel_Openai(model="gpt-4o", temperature=0.3)
    )


def report(
    call_id: str = "call-1",
    *,
    call_type: str = "inboundPhoneCall",
    messages: list[ArtifactMessagesItem] | None = None,
    success_evaluation: str | None = "8",
    summary: str = SUMMARY,
    structured_data: dict[str, Any] | None = None,
    ended_reason: str = "customer-ended-call",
    **extra: Any,
) -> dict[str, Any]:
    """An end-of-call report of a one-minute call: turns, two tool calls, analysis, recordings, latency."""
    message = ServerMessageEndOfCallReport(
        type="end-of-call-report",
        ended_reason=ended_reason,
        cost=0.42,
        timestamp=ms(65),
        artifact=Artifact(
            messages=conversation() if messages is None else messages,
            recording_url=MONO_URL,
            stereo_recording_url=STEREO_URL,
            performance_metrics=PerformanceMetrics(
                turn_latencies=list(LATENCIES), turn_latency_average=955.0
            ),
        ),
        analysis=Analysis(
            summary=summary,
            structured_data={"booked": True, "people": 2} if structured_data is None else structured_data,
            success_evaluation=success_evaluation,
        ),
        assistant=assistant(),
        customer=CreateCustomerDto(number=CUSTOMER),
        phone_number=ServerMessageEndOfCallReportPhoneNumber_Twilio(
            number=OUR_NUMBER, twilio_account_sid="AC1"
        ),
        call=call(call_id, call_type),
        started_at=START,
        ended_at=at(60),
        **extra,
    )
    return wire(message)


def status(call_id: str, state: str, seconds: float, **extra: Any) -> dict[str, Any]:
    """A status-update of the same call at `seconds` from its start."""
    message = ServerMessageStatusUpdate(
        type="status-update",
        status=state,
        timestamp=ms(seconds),
        assistant=assistant(),
        customer=CreateCustomerDto(number=CUSTOMER),
        phone_number=ServerMessageStatusUpdatePhoneNumber_Twilio(number=OUR_NUMBER, twilio_account_sid="AC1"),
        call=call(call_id),
        **extra,
    )
    return wire(message)


def status_flow(call_id: str) -> list[dict[str, Any]]:
    """ringing -> in-progress -> ended (the customer hung up), as Vapi reports a call's progress."""
    return [
        status(call_id, "ringing", -3),
        status(call_id, "in-progress", 0),
        status(call_id, "ended", 60.5, ended_reason="customer-ended-call"),
    ]
