"""A real Pipecat voice bot, run offline, whose own tracing code produces the OpenTelemetry spans.

The pipeline is the usual one of a phone or WebRTC bot: STT -> user aggregator -> LLM -> TTS -> output
transport -> assistant aggregator, run by a `PipelineWorker` (what `PipelineTask` is now called) with
`enable_tracing=True` and turn tracking, so Pipecat's `TurnTraceObserver` makes the `conversation` and `turn`
spans and its `traced_stt` / `traced_llm` / `traced_tts` decorators make the `stt` / `llm` / `tts` spans.

The three services are Pipecat's own OpenAI classes (`OpenAISTTService`, `OpenAILLMService`,
`OpenAITTSService`) pointed at a scripted OpenAI-compatible server on loopback (`fake_openai`). Only the
ends of the call are stand-ins: the caller's side (speech frames a VAD would emit, with audio) is queued
into the pipeline, and the output transport writes the bot's audio nowhere, as fast as it comes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from loguru import logger
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.util.types import AttributeValue
from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
from pipecat.frames.frames import (
    BotStoppedSpeakingFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
    OutputAudioRawFrame,
    StartFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.llm_service import FunctionCallParams
from pipecat.services.openai.llm import OpenAILLMService
from pipecat.services.openai.stt import OpenAISTTService
from pipecat.services.openai.tts import OpenAITTSService
from pipecat.transports.base_output import BaseOutputTransport
from pipecat.transports.base_transport import TransportParams
from pipecat.turns.user_start import VADUserTurnStartStrategy
from pipecat.turns.user_stop import SpeechTimeoutUserTurnStopStrategy
from pipecat.turns.user_turn_strategies import UserTurnStrategies
from pipecat.workers.runner import WorkerRunner

from tests.otel.runtimes import fake_openai
from tests.otel.runtimes.script import (
    DEFAULT_TURNS,
    WEATHER_TOOL,
    ConversationRun,
    ScriptedTurn,
    ToolCallRecord,
    weather_for,
)
from tests.otel.runtimes.tracing import RootTraceRecorder, traced_run

SYSTEM_PROMPT = "You are a friendly weather assistant on a phone line. Keep answers short."
IN_RATE = 16000
VAD_START_SECS = 0.2
VAD_STOP_SECS = 0.2
TURN_TIMEOUT_SECS = 20.0


class SilentCallerOutput(BaseOutputTransport):
    """The output side of a call whose caller hears instantly: it takes every chunk of the bot's audio."""

    def __init__(self) -> None:
        super().__init__(TransportParams(audio_out_enabled=True, audio_out_end_silence_secs=0))
        self.audio_bytes = 0

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        await self.set_transport_ready(frame)

    async def write_audio_frame(self, frame: OutputAudioRawFrame) -> bool:
        self.audio_bytes += len(frame.audio)
        return True


class BotStoppedWatcher(BaseObserver):
    """Counts the times the bot stopped speaking (as the output transport announces it downstream)."""

    def __init__(self, output: SilentCallerOutput) -> None:
        super().__init__()
        self._output = output
        self.stopped: asyncio.Queue[None] = asyncio.Queue()

    async def on_push_frame(self, data: FramePushed) -> None:
        downstream = data.direction == FrameDirection.DOWNSTREAM
        if isinstance(data.frame, BotStoppedSpeakingFrame) and downstream and data.source is self._output:
            self.stopped.put_nowait(None)


def weather_tools() -> ToolsSchema:
    """The one tool the bot offers."""
    weather = FunctionSchema(
        name=WEATHER_TOOL,
        description="Current weather for a city.",
        properties={"city": {"type": "string", "description": "The city name."}},
        required=["city"],
    )
    return ToolsSchema(standard_tools=[weather])


def caller_utterance() -> list[Frame]:
    """What a transport with a VAD pushes while the caller says one sentence: speech start, audio, stop."""
    chunk = bytes(IN_RATE // 50 * 2)  # 20 ms of 16-bit mono
    audio = [InputAudioRawFrame(audio=chunk, sample_rate=IN_RATE, num_channels=1) for _ in range(10)]
    return [
        VADUserStartedSpeakingFrame(start_secs=VAD_START_SECS),
        *audio,
        VADUserStoppedSpeakingFrame(stop_secs=VAD_STOP_SECS),
    ]


class Bot:
    """The processors of one call and what they did."""

    def __init__(self, base_url: str) -> None:
        self.tool_calls: list[ToolCallRecord] = []
        self.output = SilentCallerOutput()
        self.stt = OpenAISTTService(api_key="offline", base_url=base_url)
        self.llm = OpenAILLMService(
            api_key="offline",
            base_url=base_url,
            settings=OpenAILLMService.Settings(model=fake_openai.MODEL, system_instruction=SYSTEM_PROMPT),
        )
        self.llm.register_function(WEATHER_TOOL, self._get_weather)
        self.tts = OpenAITTSService(api_key="offline", base_url=base_url)
        self.context = LLMContext(tools=weather_tools())
        strategies = UserTurnStrategies(
            start=[VADUserTurnStartStrategy()],
            stop=[SpeechTimeoutUserTurnStopStrategy(user_speech_timeout=0.1)],
        )
        self.aggregators = LLMContextAggregatorPair(
            self.context, user_params=LLMUserAggregatorParams(user_turn_strategies=strategies)
        )

    async def _get_weather(self, params: FunctionCallParams) -> None:
        result = weather_for(params.arguments)
        self.tool_calls.append(ToolCallRecord(WEATHER_TOOL, dict(params.arguments), result))
        await params.result_callback(result)

    def pipeline(self) -> Pipeline:
        user, assistant = self.aggregators.user(), self.aggregators.assistant()
        return Pipeline([self.stt, user, self.llm, self.tts, self.output, assistant])

    def said(self, role: str) -> list[str]:
        """The plain-text messages of `role` in the bot's context, in order."""
        messages: list[Any] = self.context.get_messages()
        return [
            str(m["content"]).strip()
            for m in messages
            if isinstance(m, dict) and m.get("role") == role and isinstance(m.get("content"), str)
        ]


async def _talk(worker: PipelineWorker, watcher: BotStoppedWatcher, turns: Sequence[ScriptedTurn]) -> None:
    """Say each scripted sentence once the bot has answered the one before, then hang up."""
    for _turn in turns:
        for frame in caller_utterance():
            await worker.queue_frame(frame)
        await asyncio.wait_for(watcher.stopped.get(), TURN_TIMEOUT_SECS)
    await worker.queue_frame(EndFrame())


async def _run(
    bot: Bot, *, conversation_id: str, turns: Sequence[ScriptedTurn], extra: dict[str, Any]
) -> None:
    watcher = BotStoppedWatcher(bot.output)
    worker = PipelineWorker(
        bot.pipeline(),
        params=PipelineParams(enable_metrics=True, enable_usage_metrics=True, audio_in_sample_rate=IN_RATE),
        enable_tracing=True,
        enable_turn_tracking=True,
        conversation_id=conversation_id,
        additional_span_attributes=extra,
        enable_rtvi=False,
        idle_timeout_secs=None,
        observers=[watcher],
    )
    started = asyncio.Event()

    @worker.event_handler("on_pipeline_started")
    async def _on_started(_worker: PipelineWorker, _frame: StartFrame) -> None:
        started.set()

    async def caller() -> None:
        await asyncio.wait_for(started.wait(), TURN_TIMEOUT_SECS)
        await _talk(worker, watcher, turns)

    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    await asyncio.gather(runner.run(), caller())


@contextmanager
def _pipecat_logs(enabled: bool) -> Iterator[None]:
    """Pipecat logs every frame hop at DEBUG through loguru; a test run keeps them off."""
    if enabled:
        yield
        return
    logger.disable("pipecat")
    try:
        yield
    finally:
        logger.enable("pipecat")


def run_pipecat_conversation(
    exporter: SpanExporter,
    *,
    conversation_id: str,
    turns: Sequence[ScriptedTurn] = DEFAULT_TURNS,
    service_name: str = "pipecat-weather-bot",
    extra: Mapping[str, AttributeValue] | None = None,
    verbose: bool = False,
) -> ConversationRun:
    """Run one scripted call through a real Pipecat pipeline; its spans go to `exporter` (shut down after).

    `service_name` is the `service.name` of the spans' resource; `extra` becomes Pipecat's
    `additional_span_attributes` (set on the `conversation` span); `verbose` keeps Pipecat's own logs on.
    """
    recorder = RootTraceRecorder("conversation")
    resource = {"service.name": service_name}
    with (
        _pipecat_logs(verbose),
        fake_openai.serve(turns) as base_url,
        traced_run(exporter, resource=resource, recorder=recorder),
    ):
        bot = Bot(base_url)
        asyncio.run(_run(bot, conversation_id=conversation_id, turns=turns, extra=dict(extra or {})))
    if recorder.trace_id is None:
        raise RuntimeError("Pipecat started no conversation span")
    return ConversationRun(
        conversation_id=conversation_id,
        trace_id=recorder.trace_id,
        user_texts=bot.said("user"),
        agent_texts=bot.said("assistant"),
        tool_calls=bot.tool_calls,
    )
