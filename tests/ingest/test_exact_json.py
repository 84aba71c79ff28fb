"""Fuzz (no server): a client's JSON value is accepted exactly when every number in it can be kept, and
what is accepted reads back equal through the database's JSON codec (orjson), integers as integers."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from sessionary.eventlog.schemas import CustomData, ToolCallData

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)


def _keepable(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_keepable(v) for v in value.values())
    if isinstance(value, list):
        return all(_keepable(v) for v in value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int):
        return -(2**63) <= value <= 2**63 - 1
    return math.isfinite(value)


def _same(read: Any, sent: Any) -> bool:
    if isinstance(sent, dict):
        return (
            isinstance(read, dict)
            and read.keys() == sent.keys()
            and all(_same(read[k], sent[k]) for k in sent)
        )
    if isinstance(sent, list):
        return isinstance(read, list) and len(read) == len(sent) and all(map(_same, read, sent))
    return type(read) is type(sent) and read == sent


@settings(max_examples=400, deadline=None)
@given(value=JSON)
def test_attributes_are_accepted_exactly_when_every_number_can_be_kept_and_read_back_equal(
    value: Any,
) -> None:
    adapter = TypeAdapter(CustomData)
    body = {"type": "x", "attributes": {"v": value}}
    if not _keepable(value):
        with pytest.raises(ValidationError) as caught:
            adapter.validate_python(body)
        assert caught.value.errors()[0]["loc"] == ("attributes", "v")
        return
    data = adapter.validate_python(body)
    stored = orjson.loads(data.model_dump_json(exclude_unset=True))  # as the database gives it back
    assert _same(stored["attributes"]["v"], value)


@settings(max_examples=200, deadline=None)
@given(value=JSON)
def test_tool_payloads_follow_the_same_rule(value: Any) -> None:
    if _keepable(value):
        ToolCallData(tool_call_id="t", tool_name="x", tool_request=value, tool_result=[value])
    else:
        with pytest.raises(ValidationError):
            ToolCallData(tool_call_id="t", tool_name="x", tool_request=value, tool_result=[value])


@pytest.mark.parametrize(
    ("value", "path"), [({"a": [1, {"b": 2**64}]}, "a[1].b"), ([0, [math.inf]], "[1][0]")]
)
def test_the_refusal_names_the_path_of_the_number_inside_the_field(value: Any, path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ToolCallData(tool_call_id="t", tool_name="x", tool_request=value)
    assert caught.value.errors()[0]["msg"].startswith(f"Value error, {path}: ")
