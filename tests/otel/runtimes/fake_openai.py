"""A tiny OpenAI-compatible server on a loopback port, answering from a script: the stand-in for the network
services a Pipecat bot calls (chat completions streamed as server-sent events, speech, transcriptions).

Every body it sends is built with the `openai` package's own response types, so the bot's real OpenAI
services parse what the real API would send.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from openai.types.audio import Transcription
from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import (
    Choice,
    ChoiceDelta,
    ChoiceDeltaToolCall,
    ChoiceDeltaToolCallFunction,
)
from openai.types.completion_usage import CompletionUsage

from tests.otel.runtimes.script import ScriptedTurn

MODEL = "gpt-4.1-mini"
SPEECH_SAMPLE_RATE = 24000


def _words(text: str) -> int:
    return len(text.split())


def _content_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def _chunk(call_id: str, delta: ChoiceDelta, finish: Any = None) -> ChatCompletionChunk:
    choice = Choice(index=0, delta=delta, finish_reason=finish)
    return ChatCompletionChunk(
        id=call_id, object="chat.completion.chunk", created=int(time.time()), model=MODEL, choices=[choice]
    )


def _usage_chunk(call_id: str, prompt: int, completion: int) -> ChatCompletionChunk:
    usage = CompletionUsage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )
    return ChatCompletionChunk(
        id=call_id,
        object="chat.completion.chunk",
        created=int(time.time()),
        model=MODEL,
        choices=[],
        usage=usage,
    )


def text_chunks(call_id: str, reply: str) -> list[ChatCompletionChunk]:
    """A streamed text answer, a few words per chunk."""
    words = reply.split(" ")
    pieces = [
        " ".join(words[i : i + 3]) + (" " if i + 3 < len(words) else "") for i in range(0, len(words), 3)
    ]
    chunks = [_chunk(call_id, ChoiceDelta(role="assistant", content=""))]
    chunks += [_chunk(call_id, ChoiceDelta(content=piece)) for piece in pieces]
    return [*chunks, _chunk(call_id, ChoiceDelta(), "stop")]


def tool_call_chunks(call_id: str, turn: ScriptedTurn) -> list[ChatCompletionChunk]:
    """A streamed tool call: the name first, then the arguments in two fragments."""
    assert turn.tool is not None
    arguments = json.dumps(dict(turn.tool.arguments))
    half = len(arguments) // 2
    first = ChoiceDeltaToolCall(
        index=0,
        id=f"call_{call_id}",
        type="function",
        function=ChoiceDeltaToolCallFunction(name=turn.tool.name, arguments=""),
    )
    fragments = [
        ChoiceDeltaToolCall(index=0, function=ChoiceDeltaToolCallFunction(arguments=part))
        for part in (arguments[:half], arguments[half:])
    ]
    chunks = [_chunk(call_id, ChoiceDelta(role="assistant", tool_calls=[first]))]
    chunks += [_chunk(call_id, ChoiceDelta(tool_calls=[fragment])) for fragment in fragments]
    return [*chunks, _chunk(call_id, ChoiceDelta(), "tool_calls")]


class Script:
    """The answers: the next transcript for each utterance, the reply (or tool call) for each user text."""

    def __init__(self, turns: Sequence[ScriptedTurn]) -> None:
        self.transcripts: deque[str] = deque(turn.user for turn in turns)
        self.by_user = {turn.user: turn for turn in turns}
        self.completions = 0

    def completion(self, messages: list[dict[str, Any]]) -> list[ChatCompletionChunk] | None:
        """The chunks answering this conversation so far, or None when its last user text is not scripted."""
        users = [_content_text(m) for m in messages if m.get("role") == "user"]
        turn = self.by_user.get(users[-1].strip()) if users else None
        if turn is None:
            return None
        self.completions += 1
        call_id = f"chatcmpl-{self.completions}"
        after_tool = messages[-1].get("role") == "tool"
        if turn.tool is not None and not after_tool:
            chunks, answer = tool_call_chunks(call_id, turn), json.dumps(dict(turn.tool.arguments))
        else:
            chunks, answer = text_chunks(call_id, turn.reply), turn.reply
        prompt = sum(_words(_content_text(m)) for m in messages)
        return [*chunks, _usage_chunk(call_id, prompt, _words(answer))]


def speech_pcm(text: str) -> bytes:
    """16-bit mono PCM at 24 kHz, 10 ms per character: a quiet square wave, never silence."""
    samples = SPEECH_SAMPLE_RATE // 100 * max(1, len(text))
    return b"".join(
        (400 if (i // 40) % 2 else -400).to_bytes(2, "little", signed=True) for i in range(samples)
    )


def create_app(script: Script) -> FastAPI:
    """The OpenAI-compatible routes the bot's services call."""
    app = FastAPI()

    @app.middleware("http")
    async def close_connections(request: Request, call_next: Any) -> Response:
        # Pipecat's OpenAI services never close their HTTP clients; closing each connection from this side
        # leaves no pooled socket behind when a run ends.
        response: Response = await call_next(request)
        response.headers["Connection"] = "close"
        return response

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        body = await request.json()
        chunks = script.completion(body.get("messages", []))
        if chunks is None:
            return JSONResponse({"error": {"message": "no scripted answer", "type": "invalid_request"}}, 400)
        events = [f"data: {chunk.model_dump_json(exclude_unset=True)}\n\n" for chunk in chunks]
        return StreamingResponse(iter([*events, "data: [DONE]\n\n"]), media_type="text/event-stream")

    @app.post("/v1/audio/speech")
    async def speech(request: Request) -> Response:
        body = await request.json()
        return Response(speech_pcm(str(body.get("input", ""))), media_type="audio/pcm")

    @app.post("/v1/audio/transcriptions")
    async def transcriptions(request: Request) -> Response:
        await request.body()
        text = script.transcripts.popleft() if script.transcripts else ""
        return Response(Transcription(text=text).model_dump_json(), media_type="application/json")

    return app


@contextmanager
def serve(turns: Sequence[ScriptedTurn]) -> Iterator[str]:
    """Run the fake API on a loopback port for the block; yields its base URL (ending in /v1)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(Script(turns)), log_level="warning", lifespan="off", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started and thread.is_alive():
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
