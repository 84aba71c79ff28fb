"""Reading Vapi's JSON: each value taken at its dotted path, absent (null) allowed, any other shape than
the SDK's `Refused` naming the path, so that no JSON makes the mapping raise anything else."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from sessionary.eventlog.schemas import PAYLOAD_MAX_BYTES
from sessionary.types import INT64_MAX, INT64_MIN
from sessionary.webhooks.mapping.common import Refused, text

_MAX_DOUBLE = 1.7976931348623157e308


def obj(value: Any, path: str) -> dict[str, Any]:
    """An object: {} when absent."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Refused(path, "must be an object")
    return value


def items(value: Any, path: str) -> list[Any]:
    """A list: [] when absent."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Refused(path, "must be a list")
    return value


def string(value: Any, path: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise Refused(path, "must be a string")


def name(value: Any, path: str) -> str | None:
    """A string that names something: None when absent or blank."""
    value = string(value, path)
    return value if value and value.strip() else None


def number(value: Any, path: str) -> int | float | None:
    """A JSON number that can be stored as it is (a 64-bit integer or a finite double)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refused(path, "must be a number")
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise Refused(path, "integers must lie within the signed 64-bit range")
    if isinstance(value, float) and not -_MAX_DOUBLE <= value <= _MAX_DOUBLE:  # NaN fails both
        raise Refused(path, "must be a finite number")
    return value


@dataclass
class Fields:
    """A session event's fields, each with the provider field it came from."""

    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)

    def put(self, name_: str, value: Any, origin: str) -> None:
        if value is not None:
            self.values[name_], self.origins[name_] = value, origin


def first_name(
    message: dict[str, Any], call: dict[str, Any], key: str, names: tuple[str, ...]
) -> tuple[str | None, str]:
    """The first of `names` set on the message's `key` object, else on the call's: (value, its path)."""
    for path, holder in ((f"message.{key}", message.get(key)), (f"message.call.{key}", call.get(key))):
        found = obj(holder, path)
        for item in names:
            value = name(found.get(item), f"{path}.{item}")
            if value:
                return value, f"{path}.{item}"
    return None, ""


def size(value: Any) -> int:
    """Bytes of `value` as JSON; 0 for what orjson cannot write (refused later, by the native model)."""
    try:
        return len(orjson.dumps(value))
    except TypeError:  # an integer past 64 bits: the native validation names it
        return 0


def bounded(value: Any, limit: int) -> Any:
    """`value`, or a note of its size when its JSON is over `limit` bytes."""
    n = size(value)
    return value if n <= limit else {"omitted": f"{n} bytes, over the {limit // 1024} KiB limit"}


def fit(attributes: dict[str, Any]) -> dict[str, Any]:
    """The report's attributes within the native limit of a custom event's attributes: the summary, the
    one part with no bound of its own, cut to fit (it stays whole in no other place, but the description
    keeps its start and the provider keeps the rest)."""
    for _ in range(3):  # each cut removes at least the excess: one is enough, two more for safety
        excess = size(attributes) - PAYLOAD_MAX_BYTES
        summary = attributes.get("summary")
        if excess <= 0 or not isinstance(summary, str):
            break
        attributes["summary"] = text(summary, max(len(summary) - excess - 4, 1))
    return attributes
