"""Run a real LiveKit Agents voice session offline and let LiveKit's own tracing export its spans.

``run_livekit_session(exporter, turns=...)`` builds an ``AgentSession`` with an ``Agent`` that has a
``get_weather`` ``@function_tool``, wires the stand-ins of ``livekit_standins`` (scripted STT and LLM,
silent TTS, instant speaker) into it inside ``livekit.agents.testing.fake_job_context``, and configures
tracing the way LiveKit documents for third-party backends:
``livekit.agents.telemetry.set_tracer_provider(provider, metadata=...)``. That call swaps the provider
behind LiveKit's own ``_DynamicTracer`` without touching OpenTelemetry's process-global provider, so each
run gets a fresh ``TracerProvider`` and its own exporter, any number of times in one process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from livekit import rtc
from livekit.agents import Agent, AgentSession, RunContext, function_tool, telemetry
from livekit.agents.testing import fake_job_context
from livekit.agents.voice import events
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.util.types import AttributeValue

from tests.otel.runtimes.livekit_standins import (
    InstantAudioOutput,
    ScriptedLLM,
    ScriptedReply,
    ScriptedSTT,
    SilentAudioInput,
    SilentTTS,
)

WEATHER = {"Paris": "sunny, 21 degrees", "Oslo": "rain, 9 degrees"}


@dataclass(frozen=True)
class LiveKitTurn:
    """One exchange: what the user says, what the agent answers, and the city it looks up first, if any."""

    user: str
    reply: str
    weather_city: str | None = None


@dataclass(frozen=True)
class ToolCall:
    call_id: str
    name: str
    arguments: str
    output: str


@dataclass
class LiveKitConversation:
    """What was said in a run, as the session recorded it."""

    job_id: str
    room_name: str
    user_texts: list[str] = field(default_factory=list)
    agent_texts: list[str] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)


DEFAULT_TURNS = (
    LiveKitTurn(user="Hello there", reply="Hi! How can I help you today?"),
    LiveKitTurn(
        user="What's the weather in Paris?",
        reply="It is sunny and 21 degrees in Paris.",
        weather_city="Paris",
    ),
    LiveKitTurn(user="Thanks, bye", reply="You're welcome, goodbye!"),
)


class WeatherAgent(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="You are a concise voice assistant that can look up the weather.")

    @function_tool
    async def get_weather(self, context: RunContext[None], city: str) -> str:
        """Look up the current weather in a city.

        Args:
            city: The city to look up.
        """
        return WEATHER.get(city, "unknown")


class OfflineRoom(rtc.Room):
    """A never-connected ``rtc.Room`` that reports the room name a connected one would."""

    def __init__(self, room_name: str) -> None:
        super().__init__()
        self._room_name = room_name

    @property
    def name(self) -> str:
        return self._room_name


def run_livekit_session(
    exporter: SpanExporter,
    *,
    turns: Sequence[LiveKitTurn] = DEFAULT_TURNS,
    room_name: str = "sessionary-room",
    job_id: str = "AJ_sessionary_1",
    metadata: dict[str, AttributeValue] | None = None,
) -> LiveKitConversation:
    """Run one offline voice session; its spans go to ``exporter`` (and nowhere else)."""
    provider = TracerProvider(resource=Resource.create({"service.name": "livekit-agents"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.set_tracer_provider(provider, metadata=metadata or {"langfuse.session.id": room_name})
    try:
        return asyncio.run(_run(turns, room_name=room_name, job_id=job_id))
    finally:
        provider.shutdown()


async def _run(turns: Sequence[LiveKitTurn], *, room_name: str, job_id: str) -> LiveKitConversation:
    conversation = LiveKitConversation(job_id=job_id, room_name=room_name)
    stt = ScriptedSTT()
    script = {turn.user: ScriptedReply(text=turn.reply, city=turn.weather_city) for turn in turns}
    session = _make_session(stt, ScriptedLLM(script))
    recorder = _Recorder(session, conversation)
    with fake_job_context(room=OfflineRoom(room_name), job_id=job_id) as job_ctx:
        try:
            await session.start(WeatherAgent(), record=False)
            for turn in turns:
                await recorder.exchange(stt, turn.user)
            await session.drain()
            await session.aclose()
        finally:
            # the job runner removes a job's temp directory at its end; a fake job has no runner
            job_ctx._tempdir.cleanup()
    return conversation


def _make_session(stt: ScriptedSTT, llm: ScriptedLLM) -> AgentSession[None]:
    session: AgentSession[None] = AgentSession(
        stt=stt,
        llm=llm,
        tts=SilentTTS(),
        turn_handling={
            "turn_detection": "stt",
            "endpointing": {"min_delay": 0.0, "max_delay": 1.0},
            "interruption": {"enabled": False, "resume_false_interruption": False},
            "preemptive_generation": {"enabled": False},
        },
    )
    session.input.audio = SilentAudioInput()
    session.output.audio = InstantAudioOutput()
    return session


class _Recorder:
    """Follows the session's events: records what was said, and tells when the agent has answered a turn."""

    def __init__(self, session: AgentSession[None], conversation: LiveKitConversation) -> None:
        self._conversation = conversation
        self._state = "initializing"
        self._state_changed = asyncio.Event()
        self._answered = asyncio.Event()
        session.on("conversation_item_added", self._on_item)
        session.on("function_tools_executed", self._on_tools)
        session.on("agent_state_changed", self._on_state)

    async def exchange(self, stt: ScriptedSTT, text: str) -> None:
        self._answered.clear()
        await stt.say(text)
        await self._answered.wait()
        while self._state != "listening":
            self._state_changed.clear()
            await self._state_changed.wait()

    def _on_item(self, event: events.ConversationItemAddedEvent) -> None:
        item = event.item
        if item.type != "message" or not item.text_content:
            return
        if item.role == "user":
            self._conversation.user_texts.append(item.text_content)
        elif item.role == "assistant":
            self._conversation.agent_texts.append(item.text_content)
            self._answered.set()

    def _on_tools(self, event: events.FunctionToolsExecutedEvent) -> None:
        for call, output in event.zipped():
            result = output.output if output is not None else ""
            self._conversation.tool_calls.append(ToolCall(call.call_id, call.name, call.arguments, result))

    def _on_state(self, event: events.AgentStateChangedEvent) -> None:
        self._state = event.new_state
        self._state_changed.set()


def run_livekit_text_session(
    exporter: SpanExporter, *, turns: Sequence[LiveKitTurn] = DEFAULT_TURNS, session_id: str
) -> list[str]:
    """Run the agent in LiveKit's text mode (`AgentSession.run(user_input=...)`, no STT, no room), its spans
    to ``exporter`` with ``session.id`` metadata; returns the agent's replies in order."""
    provider = TracerProvider(resource=Resource.create({"service.name": "livekit-agents"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.set_tracer_provider(provider, metadata={"session.id": session_id})
    try:
        return asyncio.run(_run_text(turns))
    finally:
        provider.shutdown()


async def _run_text(turns: Sequence[LiveKitTurn]) -> list[str]:
    script = {turn.user: ScriptedReply(text=turn.reply, city=turn.weather_city) for turn in turns}
    replies: list[str] = []
    async with AgentSession[None](llm=ScriptedLLM(script)) as session:
        await session.start(WeatherAgent())
        for turn in turns:
            result = await session.run(user_input=turn.user)
            replies += [
                event.item.text_content or ""
                for event in result.events
                if event.type == "message" and event.item.role == "assistant"
            ]
    return replies
