"""Distinct finished calls as each voice platform delivers them, for bench/webhooks.py, built from the
providers' own SDK models and serialized as they send them (as tests/webhooks/*_payloads.py do):

- Retell: one `call_analyzed` per call (retell-sdk `PhoneCallResponse`, `to_dict(mode="json")`, compact
  JSON): ~10 turns with word timings (`transcript_object` and `transcript_with_tool_calls`), one or two tool
  calls with their results, e2e/llm/tts/asr latency values per agent turn, analysis, cost.
- Vapi: one `end-of-call-report` per call (vapi_server_sdk `ServerMessageEndOfCallReport`, `.json()`): the
  same conversation as artifact messages and transcript, per-turn latency, analysis, cost.
- Twilio: four status callbacks per call (initiated, ringing, in-progress, completed), form parameters as
  Twilio documents them.

No recording URLs anywhere: the recordings fetch worker is not what the bench measures. Calls start 6 s
apart; their texts come from bench/ingest.py's lines, chosen by a seeded random generator.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

import typing_extensions
from retell.types import phone_call_response as r
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

from ingest import AGENT_LINES, TOOLS, USER_LINES

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CALL_GAP_S = 6  # a call starts every 6 s
TURNS = 10  # spoken turns per Retell / Vapi call, agent first
OUR_NUMBER = "+14155550199"


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery: the body as posted, and for Twilio the form parameters its signature covers."""

    body: bytes
    form: dict[str, str] | None = None


CallDeliveries = list[Delivery]  # one call's deliveries, in the order the provider sends them


@dataclass(frozen=True)
class Said:
    """A spoken turn or a tool call of a generated conversation, at `at` seconds from the call's start."""

    role: str  # "agent" | "user" | "tool"
    at: float
    text: str = ""
    tool: tuple[str, dict[str, Any], Any] | None = None  # (name, arguments, result)


def conversation(rng: random.Random) -> list[Said]:
    """TURNS turns, agent first, 2-5 s each; a tool call after the second user turn, and in a third of
    the calls a second one after the fourth."""
    out: list[Said] = []
    clock = 0.5
    for index in range(TURNS):
        role = "agent" if index % 2 == 0 else "user"
        lines = AGENT_LINES if role == "agent" else USER_LINES
        out.append(Said(role, clock, rng.choice(lines)))
        clock += rng.uniform(2.0, 5.0)
        if index == 3 or (index == 7 and rng.random() < 1 / 3):
            out.append(Said("tool", clock, tool=TOOLS[rng.randrange(len(TOOLS))]))
            clock += rng.uniform(0.3, 1.2)
    return out


def _caller(number: int) -> str:
    return f"+1415{number % 10_000_000:07d}"


# --- Retell -------------------------------------------------------------------------------------------


def _words(said: Said) -> list[dict[str, Any]]:
    return [
        {"word": word, "start": round(said.at + 0.3 * i, 3), "end": round(said.at + 0.3 * i + 0.25, 3)}
        for i, word in enumerate(said.text.split())
    ]


def _retell_items(talk: list[Said], number: int) -> tuple[list[Any], list[Any]]:
    """(transcript_object, transcript_with_tool_calls) of the conversation."""
    plain: list[Any] = []
    with_tools: list[Any] = []
    for index, said in enumerate(talk):
        if said.tool is None:
            words = _words(said)
            plain.append(
                r.TranscriptObject(
                    role=said.role, content=said.text, words=[r.TranscriptObjectWord(**w) for w in words]
                )
            )
            with_tools.append(
                r.TranscriptWithToolCallUtterance(
                    role=said.role,
                    content=said.text,
                    words=[r.TranscriptWithToolCallUtteranceWord(**w) for w in words],
                )
            )
            continue
        name, arguments, result = said.tool
        tool_id = f"tc_{number}_{index}"
        with_tools += [
            r.TranscriptWithToolCallToolCallInvocationUtterance(
                role="tool_call_invocation", tool_call_id=tool_id, name=name, arguments=json.dumps(arguments)
            ),
            r.TranscriptWithToolCallToolCallResultUtterance(
                role="tool_call_result", tool_call_id=tool_id, content=json.dumps(result), successful=True
            ),
        ]
    return plain, with_tools


def _retell_latency(rng: random.Random, replies: int) -> r.Latency:
    def values(low: float, high: float) -> dict[str, Any]:
        got = sorted(round(rng.uniform(low, high), 1) for _ in range(replies))
        return {"values": got, "p50": got[len(got) // 2], "min": got[0], "max": got[-1], "num": len(got)}

    return r.Latency(
        e2e=r.LatencyE2E(**values(600, 1800)),
        llm=r.LatencyLlm(**values(250, 1200)),
        tts=r.LatencyTts(**values(90, 400)),
        asr=r.LatencyAsr(**values(60, 250)),
    )


def retell_call(number: int, rng: random.Random) -> CallDeliveries:
    talk = conversation(rng)
    start_ms = int(START.timestamp() * 1000) + number * CALL_GAP_S * 1000
    duration_ms = int((talk[-1].at + 3) * 1000)
    plain, with_tools = _retell_items(talk, number)
    successful = rng.random() < 0.8
    call = r.PhoneCallResponse(
        agent_id=f"agent_{number % 7}",
        agent_version=3,
        agent_name="Front desk",
        call_id=f"call_{number:08d}{rng.getrandbits(32):08x}",
        call_status="ended",
        call_type="phone_call",
        direction="inbound",
        from_number=_caller(number),
        to_number=OUR_NUMBER,
        start_timestamp=start_ms,
        end_timestamp=start_ms + duration_ms,
        duration_ms=duration_ms,
        disconnection_reason=rng.choice(("user_hangup", "agent_hangup")),
        transcript="\n".join(f"{s.role.title()}: {s.text}" for s in talk if s.tool is None),
        transcript_object=plain,
        transcript_with_tool_calls=with_tools,
        latency=_retell_latency(rng, sum(1 for s in talk if s.role == "agent")),
        call_analysis=r.CallAnalysis(
            call_summary=f"The caller ({number}) asked about a refill and was helped.",
            call_successful=successful,
            user_sentiment="Positive" if successful else "Negative",
            in_voicemail=False,
            custom_analysis_data={"refill_requested": True, "call_number": number},
        ),
        call_cost=r.CallCost(
            combined_cost=round(duration_ms / 1000 * 0.12, 2),
            product_costs=[r.CallCostProductCost(cost=1.0, product="retell_platform")],
            total_duration_seconds=duration_ms // 1000,
            total_duration_unit_price=0.12,
        ),
        metadata={"crm_id": str(number)},
    )
    payload = {"event": "call_analyzed", "call": call.to_dict(mode="json")}
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)  # as Retell sends it
    return [Delivery(body.encode())]


# --- Vapi ---------------------------------------------------------------------------------------------


def _vapi_messages(talk: list[Said], start: datetime, number: int) -> list[ArtifactMessagesItem]:
    def ms(seconds: float) -> float:
        return (start + timedelta(seconds=seconds)).timestamp() * 1000

    items: list[ArtifactMessagesItem] = [
        SystemMessage(role="system", message="You are the front desk.", time=ms(0), seconds_from_start=0)
    ]
    for index, said in enumerate(talk):
        if said.tool is None:
            kind = UserMessage if said.role == "user" else BotMessage
            role = "user" if said.role == "user" else "bot"
            items.append(
                kind(
                    role=role,
                    message=said.text,
                    time=ms(said.at),
                    end_time=ms(said.at + 1.5),
                    seconds_from_start=said.at,
                )
            )
            continue
        name, arguments, result = said.tool
        tool_id = f"call_{number}_{index}"
        function = ToolCallFunction(name=name, arguments=json.dumps(arguments))
        request = ToolCall(id=tool_id, type="function", function=function).dict()
        items.append(
            ToolCallMessage(
                role="tool_calls",
                tool_calls=[request],
                message="",
                time=ms(said.at),
                seconds_from_start=said.at,
            )
        )
        items.append(
            ToolCallResultMessage(
                role="tool_call_result",
                tool_call_id=tool_id,
                name=name,
                result=json.dumps(result),
                time=ms(said.at + 0.3),
                seconds_from_start=said.at + 0.3,
            )
        )
    return items


def _vapi_latencies(rng: random.Random, replies: int) -> list[TurnLatency]:
    return [
        TurnLatency(
            model_latency=round(rng.uniform(250, 1200), 1),
            voice_latency=round(rng.uniform(90, 400), 1),
            transcriber_latency=round(rng.uniform(60, 250), 1),
            endpointing_latency=round(rng.uniform(100, 500), 1),
            turn_latency=round(rng.uniform(600, 1800), 1),
        )
        for _ in range(replies)
    ]


def vapi_call(number: int, rng: random.Random) -> CallDeliveries:
    talk = conversation(rng)
    start = START + timedelta(seconds=number * CALL_GAP_S)
    ended = start + timedelta(seconds=talk[-1].at + 3)
    call_id = f"{number:08x}-{rng.getrandbits(16):04x}-4000-8000-{rng.getrandbits(48):012x}"
    customer = CreateCustomerDto(number=_caller(number))
    replies = sum(1 for s in talk if s.role == "agent") - 1  # the greeting answers no one
    latencies = _vapi_latencies(rng, replies)
    message = ServerMessageEndOfCallReport(
        type="end-of-call-report",
        ended_reason=rng.choice(("customer-ended-call", "assistant-ended-call")),
        cost=round((ended - start).total_seconds() * 0.0012, 4),
        timestamp=ended.timestamp() * 1000 + 500,
        artifact=Artifact(
            messages=_vapi_messages(talk, start, number),
            transcript="\n".join(
                f"{'User' if s.role == 'user' else 'AI'}: {s.text}" for s in talk if s.tool is None
            ),
            performance_metrics=PerformanceMetrics(
                turn_latencies=latencies,
                turn_latency_average=round(sum(t.turn_latency or 0 for t in latencies) / len(latencies), 1),
            ),
        ),
        analysis=Analysis(
            summary=f"The caller ({number}) asked about a refill and was helped.",
            structured_data={"refill_requested": True, "call_number": number},
            success_evaluation=rng.choice(("true", "true", "true", "false")),
        ),
        assistant=CreateAssistantDto(
            name="Front desk", model=CreateAssistantDtoModel_Openai(model="gpt-4o", temperature=0.3)
        ),
        customer=customer,
        phone_number=ServerMessageEndOfCallReportPhoneNumber_Twilio(
            number=OUR_NUMBER, twilio_account_sid="AC1"
        ),
        call=Call(
            id=call_id,
            org_id="org-bench",
            created_at=start - timedelta(seconds=2),
            updated_at=ended,
            type="inboundPhoneCall",
            assistant_id="asst-front-desk",
            customer=customer,
        ),
        started_at=start,
        ended_at=ended,
    )
    return [Delivery(json.dumps({"message": json.loads(message.json())}).encode())]


# --- Twilio -------------------------------------------------------------------------------------------

TWILIO_ACCOUNT = "AC" + "3f" * 16


def twilio_call(number: int, rng: random.Random) -> CallDeliveries:
    """initiated, ringing, in-progress, completed: an answered inbound call of 20 s to 3 min."""
    sid = f"CA{number:016x}{rng.getrandbits(64):016x}"
    start = START + timedelta(seconds=number * CALL_GAP_S)
    answered = rng.randint(2, 9)
    duration = rng.randint(20, 180)
    steps = (("initiated", 0), ("ringing", 1), ("in-progress", answered), ("completed", answered + duration))
    deliveries = []
    for sequence, (state, seconds) in enumerate(steps):
        form = {
            "AccountSid": TWILIO_ACCOUNT,
            "ApiVersion": "2010-04-01",
            "CallSid": sid,
            "CallStatus": state,
            "CallbackSource": "call-progress-events",
            "Called": OUR_NUMBER,
            "Caller": _caller(number),
            "Direction": "inbound",
            "From": _caller(number),
            "To": OUR_NUMBER,
            "SequenceNumber": str(sequence),
            "Timestamp": format_datetime(start + timedelta(seconds=seconds)),
        }
        if state == "completed":
            form |= {"CallDuration": str(duration), "Duration": str((duration + 59) // 60)}
        deliveries.append(Delivery(urlencode(form).encode(), form))
    return deliveries


BUILDERS: dict[str, Callable[[int, random.Random], CallDeliveries]] = {
    "retell": retell_call,
    "vapi": vapi_call,
    "twilio": twilio_call,
}


def calls(provider: str, count: int, seed: int) -> list[CallDeliveries]:
    """`count` distinct calls of the provider, the same for the same seed."""
    rng = random.Random(f"{provider}-{seed}")
    with _type_hints_cached():
        return [BUILDERS[provider](number, rng) for number in range(count)]


@contextmanager
def _type_hints_cached() -> Iterator[None]:
    """The Vapi SDK's `.json()` resolves every model's type hints again for each model it serializes
    (vapi.core.serialization): ~25 ms a report, a minute for 2,000. Cached while generating, the same bytes
    come out in a seventh of the time; the library's own function is put back after."""
    original = typing_extensions.get_type_hints
    cached = functools.cache(original)

    def get_type_hints(
        obj: Any, globalns: Any = None, localns: Any = None, include_extras: bool = False
    ) -> Any:
        return cached(obj, globalns, localns, include_extras)

    typing_extensions.get_type_hints = get_type_hints
    try:
        yield
    finally:
        typing_extensions.get_type_hints = original
