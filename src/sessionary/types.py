"""Pydantic types shared by the API faces: timestamps read as UTC at the edge, numbers kept exactly."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field, JsonValue, PlainSerializer

MIN_YEAR, MAX_YEAR = 1000, 9999


def as_utc(value: datetime) -> datetime:
    """A naive datetime from a client is UTC; an aware one is converted to UTC. Years 1000-9999 only."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    elif value.tzinfo is not UTC:
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            raise ValueError("timestamp is out of range once converted to UTC") from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"timestamp must be between the years {MIN_YEAR} and {MAX_YEAR} (UTC)")
    return value


def iso_z(value: datetime) -> str:
    """ISO 8601 with a `Z` suffix, as the Syllable API emits it."""
    return as_utc(value).isoformat().replace("+00:00", "Z")


# An ISO 8601 timestamp from a client; naive means UTC.
UTCTimestamp = Annotated[datetime, AfterValidator(as_utc)]
# A timestamp on the wire: always UTC, always with `Z`.
ZTimestamp = Annotated[datetime, PlainSerializer(iso_z, return_type=str, when_used="json")]


# Numbers a client may send (README "Limits"). Durations are at most 10^7 s (about 115 days) whatever the
# unit; JSON integers are kept exactly within the signed 64-bit range (what SQLite, PostgreSQL's bigint
# and orjson all hold), other numbers as IEEE 754 doubles (RFC 8259 §6); anything else is refused.
MAX_DURATION_SECONDS = 10**7
MAX_DURATION_MS = MAX_DURATION_SECONDS * 1000
MS_PER_UNIT = {  # the units a latency event may give its durations in, as milliseconds
    "minutes": 60_000.0,
    "seconds": 1_000.0,
    "milliseconds": 1.0,
    "microseconds": 1e-3,
    "nanoseconds": 1e-6,
}
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def exact_json(value: JsonValue) -> JsonValue:
    """`value` unchanged if every number in it can be stored and read back as sent; else ValueError naming
    the first one that cannot (by its path inside the value)."""
    if not _exact(value):
        raise ValueError(_inexact(value, ""))
    return value


def _exact(value: JsonValue) -> bool:
    """The fast check (ingest's hot path): no paths built, no generators."""
    if isinstance(value, dict):
        for item in value.values():
            if not _exact(item):
                return False
    elif isinstance(value, list):
        for item in value:
            if not _exact(item):
                return False
    elif isinstance(value, float):
        return math.isfinite(value)
    elif isinstance(value, int):  # bool too: always within range
        return INT64_MIN <= value <= INT64_MAX
    return True


def _inexact(value: JsonValue, path: str) -> str | None:
    """Why the first number that cannot be kept cannot, naming its path; None when there is none."""
    if isinstance(value, dict):
        items = ((f"{path}.{k}" if path else k, v) for k, v in value.items())
        return next((f for p, v in items if (f := _inexact(v, p)) is not None), None)
    if isinstance(value, list):
        return next((f for i, v in enumerate(value) if (f := _inexact(v, f"{path}[{i}]")) is not None), None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    at = f"{path}: " if path else ""
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        return f"{at}integers must lie within the signed 64-bit range (-2^63 to 2^63-1)"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{at}numbers must be finite and within the IEEE 754 double range (about ±1.8e308)"
    return None


# A JSON value from a client (tool payloads, custom attributes) whose numbers are all kept exactly.
ExactJson = Annotated[JsonValue, AfterValidator(exact_json)]
# A duration in milliseconds: finite, 0 to MAX_DURATION_MS.
DurationMs = Annotated[float, Field(ge=0, le=MAX_DURATION_MS, allow_inf_nan=False)]
