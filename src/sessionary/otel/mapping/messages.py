"""Chat messages as runtimes record them on LLM spans, read into one shape.

Three layouts: OpenAI's (`tool_calls` on assistant messages, `tool` messages with `tool_call_id`; Pipecat's
OpenAI-compatible services and realtime spans), Anthropic's (`tool_use` / `tool_result` content blocks) and
the OpenTelemetry GenAI convention's `gen_ai.input.messages` (`parts` of type `text`, `tool_call`,
`tool_call_response`).

An LLM call's input repeats the whole conversation so far, so each span reports only what is new to it:
the tool calls whose results it sends back (the last assistant message's calls, followed only by their
results) and, for the GenAI convention, the user's message when the input ends with one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass(slots=True)
class Call:
    id: str
    name: str
    arguments: Any


@dataclass(slots=True)
class Message:
    role: str  # user | assistant | tool | system
    texts: list[str] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)  # tool call id -> result


Raw = list[dict[str, Any]]


# Text that a message list holding a tool's result has, in each layout (a list without it answers no call).
_RESULT_MARKS = ('"tool_call_id"', '"tool_result"', '"tool_call_response"')


def parse(value: Any, *, only_with_tools: bool = False) -> Raw:
    """The message objects of a JSON-text (or already decoded) list; [] when it is not one (or, with
    `only_with_tools`, when the text holds no tool result). They are read into `Message`s only as needed:
    an LLM call's input holds the whole conversation, only its end is new."""
    if isinstance(value, str):
        if only_with_tools and not any(mark in value for mark in _RESULT_MARKS):
            return []  # the whole context need not be read to find no tool call in it
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return []
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def answered_calls(items: Raw) -> list[tuple[Call, Any]]:
    """The tool calls this input answers: the last assistant message's, with the results after it."""
    results: dict[str, Any] = {}
    for message in map(_message, reversed(items)):
        if message.role == "tool" or (message.results and not message.texts and not message.calls):
            results.update(message.results)
            continue
        if message.role == "assistant" and message.calls and results:
            return [(call, results.get(call.id)) for call in message.calls]
        return []
    return []


def last_user_text(items: Raw) -> str | None:
    """The user's words when the input ends with a user message (the turn this call answers)."""
    last = _message(items[-1]) if items else None
    if last is not None and last.role == "user" and last.texts and not last.results:
        return "\n".join(last.texts)
    return None


def assistant_text(items: Raw) -> str | None:
    texts = [
        text for message in map(_message, items) if message.role == "assistant" for text in message.texts
    ]
    return "\n".join(texts) if texts else None


def _message(item: dict[str, Any]) -> Message:
    role = str(item.get("role") or "")
    message = Message(role="assistant" if role == "model" else role)
    _content(message, item.get("content"))
    _content(message, item.get("parts"))
    calls = item.get("tool_calls")
    for call in calls if isinstance(calls, list) else []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            message.calls.append(
                Call(str(call.get("id", "")), str(function.get("name", "")), function.get("arguments"))
            )
    if role == "tool" and "tool_call_id" in item:
        message.results[str(item["tool_call_id"])] = item.get("content")
    return message


def _content(message: Message, content: Any) -> None:
    if isinstance(content, str):
        if message.role != "tool":
            message.texts.append(content)
        return
    if not isinstance(content, list):
        return
    for block in content:
        if isinstance(block, dict):
            _block(message, block)


def _block(message: Message, block: dict[str, Any]) -> None:
    kind = block.get("type")
    if kind == "text":
        text = block.get("text", block.get("content"))
        if isinstance(text, str):
            message.texts.append(text)
    elif kind in ("tool_use", "tool_call"):
        arguments = block.get("input", block.get("arguments"))
        message.calls.append(Call(str(block.get("id", "")), str(block.get("name", "")), arguments))
    elif kind == "tool_result":
        message.results[str(block.get("tool_use_id", ""))] = block.get("content")
    elif kind == "tool_call_response":
        message.results[str(block.get("id", ""))] = block.get("response", block.get("result"))
