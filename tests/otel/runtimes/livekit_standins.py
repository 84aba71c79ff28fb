"""Offline stand-ins for the models and media of a LiveKit Agents session.

Each one subclasses LiveKit's own base class (``llm.LLM``, ``stt.STT``, ``tts.TTS``, ``io.AudioInput``,
``io.AudioOutput``), so the framework's real code paths, and its real tracing, run around them.
Nothing here touches the network or loads a model.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from livekit import rtc
from livekit.agents import llm, stt, tts, utils
from livekit.agents.language import LanguageCode
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents.voice import io

SAMPLE_RATE = 24000
SPOKEN_SECONDS = 0.02


@dataclass(frozen=True)
class ScriptedReply:
    """What the stand-in LLM answers to one user text: a reply, after one weather tool call if ``city``."""

    text: str
    city: str | None = None


class ScriptedLLM(llm.LLM[None]):
    """An ``llm.LLM`` that answers from a script keyed by the user's text, streaming like a provider."""

    def __init__(self, script: dict[str, ScriptedReply]) -> None:
        super().__init__()
        self.script = script
        self.call_ids: list[str] = []

    @property
    def model(self) -> str:
        return "scripted-llm"

    @property
    def provider(self) -> str:
        return "sessionary-tests"

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        return ScriptedLLMStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class ScriptedLLMStream(llm.LLMStream):
    """One streamed answer: a tool call when the script asks for one, else the reply text in chunks."""

    _llm: ScriptedLLM

    async def _run(self) -> None:
        items = self._chat_ctx.items
        last_user = next(i for i in reversed(items) if i.type == "message" and i.role == "user")
        reply = self._llm.script[last_user.text_content or ""]
        answered_tool = items[-1].type == "function_call_output"
        if reply.city is not None and not answered_tool:
            self._send_tool_call(reply.city)
        else:
            self._send_text(reply.text)
        usage = llm.CompletionUsage(completion_tokens=7, prompt_tokens=42, total_tokens=49)
        self._event_ch.send_nowait(llm.ChatChunk(id=self._chunk_id(), usage=usage))

    def _chunk_id(self) -> str:
        return f"chatcmpl-{id(self):x}"

    def _send_tool_call(self, city: str) -> None:
        call_id = f"call_weather_{len(self._llm.call_ids) + 1}"
        self._llm.call_ids.append(call_id)
        call = llm.FunctionToolCall(name="get_weather", arguments=json.dumps({"city": city}), call_id=call_id)
        delta = llm.ChoiceDelta(role="assistant", tool_calls=[call])
        self._event_ch.send_nowait(llm.ChatChunk(id=self._chunk_id(), delta=delta))

    def _send_text(self, text: str) -> None:
        words = text.split(" ")
        for index, word in enumerate(words):
            piece = word if index == len(words) - 1 else f"{word} "
            delta = llm.ChoiceDelta(role="assistant", content=piece)
            self._event_ch.send_nowait(llm.ChatChunk(id=self._chunk_id(), delta=delta))


class ScriptedSTT(stt.STT[None]):
    """A streaming ``stt.STT`` whose open stream says what the test tells it to, as final transcripts."""

    def __init__(self) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=True, interim_results=False))
        self._stream: ScriptedRecognizeStream | None = None
        self._stream_opened = asyncio.Event()

    @property
    def model(self) -> str:
        return "scripted-stt"

    @property
    def provider(self) -> str:
        return "sessionary-tests"

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        raise NotImplementedError("the scripted STT only streams")

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> ScriptedRecognizeStream:
        self._stream = ScriptedRecognizeStream(stt=self, conn_options=conn_options)
        self._stream_opened.set()
        return self._stream

    async def say(self, text: str) -> None:
        """Emit one user utterance (start of speech, final transcript, end of speech) on the open stream."""
        await self._stream_opened.wait()
        assert self._stream is not None
        self._stream.utter(text)


class ScriptedRecognizeStream(stt.RecognizeStream):
    """Consumes the session's audio and emits the events ``ScriptedSTT.say`` asks for."""

    async def _run(self) -> None:
        async for _ in self._input_ch:
            pass

    def utter(self, text: str) -> None:
        alternative = stt.SpeechData(language=LanguageCode("en"), text=text, confidence=0.97)
        for kind in (stt.SpeechEventType.START_OF_SPEECH, stt.SpeechEventType.FINAL_TRANSCRIPT):
            alternatives = [alternative] if kind == stt.SpeechEventType.FINAL_TRANSCRIPT else []
            self._event_ch.send_nowait(stt.SpeechEvent(type=kind, alternatives=alternatives))
        self._event_ch.send_nowait(stt.SpeechEvent(type=stt.SpeechEventType.END_OF_SPEECH))


class SilentTTS(tts.TTS[None]):
    """A non-streaming ``tts.TTS`` that renders any text as a short stretch of silence."""

    def __init__(self) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False), sample_rate=SAMPLE_RATE, num_channels=1
        )

    @property
    def model(self) -> str:
        return "silent-tts"

    @property
    def provider(self) -> str:
        return "sessionary-tests"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return SilentChunkedStream(tts=self, input_text=text, conn_options=conn_options)


class SilentChunkedStream(tts.ChunkedStream):
    """One synthesis request answered with ``SPOKEN_SECONDS`` of 16-bit silence."""

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=utils.shortuuid("silent_"),
            sample_rate=SAMPLE_RATE,
            num_channels=1,
            mime_type="audio/pcm",
        )
        output_emitter.push(b"\x00\x00" * int(SAMPLE_RATE * SPOKEN_SECONDS))
        output_emitter.flush()


class SilentAudioInput(io.AudioInput):
    """The user's microphone: one short silent frame, then nothing (the STT stand-in speaks for the user)."""

    def __init__(self) -> None:
        super().__init__(label="silent-input")
        self._frames = utils.aio.Chan[rtc.AudioFrame]()
        samples = SAMPLE_RATE // 100
        self._frames.send_nowait(
            rtc.AudioFrame(
                data=b"\x00\x00" * samples,
                sample_rate=SAMPLE_RATE,
                num_channels=1,
                samples_per_channel=samples,
            )
        )

    async def __anext__(self) -> rtc.AudioFrame:
        return await self._frames.__anext__()


class InstantAudioOutput(io.AudioOutput):
    """A speaker that "plays" each segment the moment it is flushed, so turns take no wall-clock time."""

    def __init__(self) -> None:
        super().__init__(label="instant-output", capabilities=io.AudioOutputCapabilities(pause=False))
        self._pushed = 0.0

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if not self._pushed:
            self.on_playback_started(created_at=time.time())
        self._pushed += frame.duration

    def flush(self) -> None:
        super().flush()
        self._finish(interrupted=False)

    def clear_buffer(self) -> None:
        self._finish(interrupted=True)

    def _finish(self, *, interrupted: bool) -> None:
        if self._pushed:
            self.on_playback_finished(playback_position=self._pushed, interrupted=interrupted)
            self._pushed = 0.0
