"""Pydantic types shared by the API faces: timestamps read as UTC at the edge."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer


def as_utc(value: datetime) -> datetime:
    """A naive datetime from a client is UTC; an aware one is converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if value.tzinfo is UTC:
        return value
    return value.astimezone(UTC)


def iso_z(value: datetime) -> str:
    """ISO 8601 with a `Z` suffix, as the Syllable API emits it."""
    return as_utc(value).isoformat().replace("+00:00", "Z")


# An ISO 8601 timestamp from a client; naive means UTC.
UTCTimestamp = Annotated[datetime, AfterValidator(as_utc)]
# A timestamp on the wire: always UTC, always with `Z`.
ZTimestamp = Annotated[datetime, PlainSerializer(iso_z, return_type=str, when_used="json")]
