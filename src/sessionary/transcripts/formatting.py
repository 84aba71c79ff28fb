"""How durations and payloads are written in the transcript, timeline and latency responses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson

from sessionary.types import MAX_DURATION_MS, MS_PER_UNIT


def usable_ms(value: object, unit: object = "milliseconds") -> float | None:
    """A stored duration in milliseconds, or None when no reader can use it.

    Ingest refuses durations that are not finite or exceed MAX_DURATION_MS once in milliseconds, but
    events stored before that rule may hold null (a non-finite number was written as null), 1e308 or a
    value that overflows once converted. Every reader (latency, timeline, metrics, auto-rating, console)
    goes through here and leaves such a value out, as if it had not been measured: events are never
    changed, so this is the rule for them.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not isinstance(unit, str) or unit not in MS_PER_UNIT:
        return None
    try:
        ms = float(value) * MS_PER_UNIT[unit]
    except OverflowError:  # an integer beyond the float range
        return None
    return ms if 0 <= ms <= MAX_DURATION_MS else None


def offset(delta: timedelta) -> str:
    """Time since session start as MM:SS, or HH:MM:SS from one hour on (never negative)."""
    seconds = max(0, int(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def precise_offset(delta: timedelta) -> str:
    """Time since session start with milliseconds: MM:SS.mmm (HH:MM:SS.mmm from one hour on)."""
    millis = max(0, round(delta.total_seconds() * 1000))
    return f"{offset(timedelta(milliseconds=millis))}.{millis % 1000:03d}"


def human_ms(ms: float) -> str:
    """A duration for people: `850 ms`, `1.25 s`, `2 min 5.0 s`."""
    if ms < 1:
        return f"{ms * 1000:.0f} µs"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f} s"
    minutes, rest = divmod(ms / 1000, 60)
    return f"{minutes:.0f} min {rest:.1f} s"


def payload(value: Any) -> str | None:
    """A tool payload as the API carries it: a string as sent, anything else JSON-encoded."""
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()
