"""Pydantic types shared by the API faces: timestamps read as UTC at the edge."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer

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
