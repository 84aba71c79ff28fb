"""Checks an /api/v2 response body against the official Genesys client's models (models.json, written by
generate.py): every key declared, every required key present, each value of its declared type, each enum
value one of the declared ones; nested models, lists and maps are walked all the way down."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

MODELS = Path(__file__).with_name("models.json")
# How Genesys writes a date, and so does sessionary (README: `2024-05-01T10:00:00.000Z`).
_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@cache
def catalog() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(MODELS.read_text())
    return loaded


def root_model(operation: str) -> str:
    """The model an operation answers with (`getJourneySession` -> `Session`; `error` -> `ErrorBody`)."""
    name: str = catalog()["roots"][operation]
    return name


def violations(model: str, body: Any, where: str = "$") -> list[str]:
    """What in `body` does not conform to `model`, one line per defect with its JSON path."""
    if not isinstance(body, dict):
        return [f"{where}: {model} expected, got {type(body).__name__}"]
    declared = catalog()["models"][model]
    found = [f"{where}.{key}: not declared in {model}" for key in body if key not in declared["fields"]]
    found += [
        f"{where}.{key}: required by {model}, missing" for key in declared["required"] if key not in body
    ]
    for key, value in body.items():
        if key in declared["fields"]:
            found += _check(declared["fields"][key], value, f"{where}.{key}")
    return found


def _check(kind: dict[str, Any], value: Any, where: str) -> list[str]:
    name = kind["kind"]
    if value is None:
        return [f"{where}: null (sessionary drops null keys; an enum null breaks the Python client)"]
    if name == "model":
        return violations(kind["name"], value, where)
    if name == "list":
        if not isinstance(value, list):
            return [f"{where}: list expected, got {type(value).__name__}"]
        return [line for i, item in enumerate(value) for line in _check(kind["of"], item, f"{where}[{i}]")]
    if name == "map":
        if not isinstance(value, dict):
            return [f"{where}: map expected, got {type(value).__name__}"]
        return [line for k, item in value.items() for line in _check(kind["of"], item, f"{where}[{k!r}]")]
    return [] if _primitive_ok(kind, value) else [f"{where}: {_describe(kind)} expected, got {value!r}"]


def _primitive_ok(kind: dict[str, Any], value: Any) -> bool:
    name = kind["kind"]
    if name == "enum":
        return value in kind["values"]
    if name == "datetime":
        return isinstance(value, str) and _DATE.match(value) is not None
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return name == "object"


def _describe(kind: dict[str, Any]) -> str:
    if kind["kind"] == "enum":
        return f"one of {kind['values']}"
    return str(kind["kind"])
