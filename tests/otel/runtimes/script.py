"""The scripted conversation a stand-in call plays: what the caller says, what the agent answers, and the
tool the agent calls on the way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolCall:
    """A tool the agent calls before it answers: the LLM asks for it, the bot's handler runs it."""

    name: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True)
class ScriptedTurn:
    """One exchange: the caller's words (the transcript the STT returns), then the agent's reply."""

    user: str
    reply: str
    tool: ToolCall | None = None


@dataclass(frozen=True)
class ToolCallRecord:
    """A tool call as the bot ran it."""

    name: str
    arguments: Mapping[str, Any]
    result: Mapping[str, Any]


@dataclass
class ConversationRun:
    """What the bot heard and said in one run, and where its trace went."""

    conversation_id: str
    trace_id: str
    user_texts: list[str] = field(default_factory=list)
    agent_texts: list[str] = field(default_factory=list)
    tool_calls: list[ToolCallRecord] = field(default_factory=list)


def weather_for(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The `get_weather` tool's deterministic answer."""
    return {"city": str(arguments.get("city", "")), "forecast": "sunny", "temperature_c": 21}


WEATHER_TOOL = "get_weather"

DEFAULT_TURNS: tuple[ScriptedTurn, ...] = (
    ScriptedTurn(user="Hi, I need the weather please.", reply="Sure. Which city are you in?"),
    ScriptedTurn(
        user="I am in Paris.",
        reply="It is sunny in Paris, 21 degrees.",
        tool=ToolCall(name=WEATHER_TOOL, arguments={"city": "Paris"}),
    ),
    ScriptedTurn(user="Thanks, goodbye.", reply="You are welcome. Goodbye!"),
)
