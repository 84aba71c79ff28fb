"""Units of the span mapping: the fast event construction equals pydantic's own, and tool calls and turns
are read alike from the three message layouts LLM spans carry."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sessionary.eventlog import schemas
from sessionary.otel.mapping import messages
from sessionary.otel.mapping.common import construct

WHEN = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
DATA = [
    (schemas.TranscriptEvent, schemas.TranscriptData(source="user", text="hi")),
    (schemas.SessionUpdatedEvent, schemas.SessionFields(llm_model="m", conversation_id="c")),
    (schemas.ToolCallEvent, schemas.ToolCallData(tool_call_id="t", tool_name="f", tool_request={"a": 1})),
    (schemas.SessionEndedEvent, schemas.SessionEndedData()),
]


@pytest.mark.parametrize(("model", "data"), DATA)
def test_construct_builds_the_same_event_as_pydantics_model_construct(model: type, data: object) -> None:
    type_ = model.model_fields["type"].annotation.__args__[0]
    values = {
        "event_id": "e1",
        "timestamp": WHEN,
        "channel_manager_service": "svc",
        "channel_manager_sid": "sid",
        "type": type_,
        "data": data,
    }
    ours, theirs = construct(model, dict(values)), model.model_construct(**values)
    assert type(ours) is model
    assert ours == theirs
    assert ours.model_fields_set == theirs.model_fields_set
    assert ours.model_dump_json(exclude_unset=True) == theirs.model_dump_json(exclude_unset=True)
    assert ours.data.model_fields_set == data.model_fields_set  # type: ignore[attr-defined]


OPENAI = [
    {"role": "user", "content": "order A1?"},
    {
        "role": "assistant",
        "tool_calls": [{"id": "c1", "function": {"name": "get_order", "arguments": '{"id": 1}'}}],
    },
    {"role": "tool", "tool_call_id": "c1", "content": '{"ok": true}'},
]
ANTHROPIC = [
    {"role": "user", "content": [{"type": "text", "text": "order A1?"}]},
    {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": "c1", "name": "get_order", "input": {"id": 1}}],
    },
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "c1", "content": '{"ok": true}'}]},
]
GENAI = [
    {"role": "user", "parts": [{"type": "text", "content": "order A1?"}]},
    {
        "role": "assistant",
        "parts": [{"type": "tool_call", "id": "c1", "name": "get_order", "arguments": {"id": 1}}],
    },
    {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": '{"ok": true}'}]},
]


@pytest.mark.parametrize("layout", [OPENAI, ANTHROPIC, GENAI], ids=["openai", "anthropic", "genai"])
def test_the_tool_call_an_input_answers_is_read_in_every_layout(layout: list[dict]) -> None:
    items = messages.parse(json.dumps(layout), only_with_tools=True)
    [(call, result)] = messages.answered_calls(items)
    assert (call.id, call.name, result) == ("c1", "get_order", '{"ok": true}')
    assert messages.last_user_text(items) is None  # the input ends with the tool's result, not the user
    assert messages.last_user_text(messages.parse(json.dumps(layout[:1]))) == "order A1?"


def test_an_input_whose_last_call_was_answered_earlier_answers_nothing_new() -> None:
    later = [*OPENAI, {"role": "assistant", "content": "It shipped."}, {"role": "user", "content": "thanks"}]
    assert messages.answered_calls(messages.parse(json.dumps(later))) == []


def test_a_chained_call_reports_only_the_newest_call() -> None:
    second = {
        "role": "assistant",
        "tool_calls": [{"id": "c2", "function": {"name": "track", "arguments": "{}"}}],
    }
    chained = [*OPENAI, second, {"role": "tool", "tool_call_id": "c2", "content": "on its way"}]
    assert [(c.id, r) for c, r in messages.answered_calls(messages.parse(json.dumps(chained)))] == [
        ("c2", "on its way")
    ]
