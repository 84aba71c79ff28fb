"""What every provider's mapping shares: a delivery's native events (each knowing the provider field it
came from), their validation by the native event model, and what a delivery yields besides events
(the provider's verdict as a label, recordings to fetch).

Event ids are `{provider}:{call id}:{kind}`, made from the provider's own ids, so the same delivery twice,
or two deliveries reporting the same thing, store each event once (the ingest is idempotent by id).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from sessionary.api.bodies import nul_path
from sessionary.eventlog.schemas import EventIn, PathId
from sessionary.labels.schemas import LabelCode

_EVENT: TypeAdapter[EventIn] = TypeAdapter(EventIn)
_SID = TypeAdapter(PathId)
_NUL = b"\\u0000"  # how orjson writes U+0000
# Verdict labels: `auto-rating` labels whose user_email names the provider (README "Connect a voice
# platform"): the Syllable label contract allows only the auto-rating and human-rating types.
VERDICT_EMAIL = "{provider}@providers.sessionary"


class Refused(Exception):
    """A delivery that cannot be stored as it is: 422 naming the provider's field at fault."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field_name, self.reason = field_name, reason


@dataclass(frozen=True)
class Verdict:
    """What the provider concluded about the call, stored as a label of the session (once per content)."""

    code: LabelCode
    comments: str | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordingRef:
    """A recording the provider reported by URL, to be fetched by the recordings worker.

    `source_key` names it among the session's recordings (the provider's recording id, or its kind), so
    the same recording reported twice is fetched once; `auth_user` is the HTTP basic-auth user (Twilio's
    AccountSid), whose password is the integration's secret.
    """

    source_key: str
    url: str
    filename: str | None = None
    content_type: str | None = None
    auth_user: str | None = None
    origin: str = "recording_url"  # the provider's field holding the URL, named if it is refused


@dataclass
class Mapped:
    """One delivery, mapped: native events of one session, and what goes with them."""

    provider: str
    service: str  # channel_manager_service of the session
    sid: str  # channel_manager_sid: the provider's call id
    events: list[EventIn] = field(default_factory=list)
    verdict: Verdict | None = None
    recordings: list[RecordingRef] = field(default_factory=list)


class Builder:
    """Collects a delivery's events for one session, validating each (Refused names the field)."""

    def __init__(self, provider: str, service: str, sid: Any, sid_field: str) -> None:
        if not isinstance(sid, str):
            raise Refused(sid_field, "is required and must be a string")
        try:
            _SID.validate_python(sid)
        except ValidationError as exc:
            raise Refused(sid_field, exc.errors()[0]["msg"]) from None
        self.mapped = Mapped(provider=provider, service=service, sid=sid)

    def event_id(self, kind: str) -> str:
        """`{provider}:{call id}:{kind}`, at most 200 characters (a long call id is hashed)."""
        sid = self.mapped.sid
        if len(sid) > 100:
            sid = hashlib.sha256(sid.encode()).hexdigest()[:40]
        return f"{self.mapped.provider}:{sid}:{kind}"[:200]

    def add(
        self,
        kind: str,
        type_: str,
        at: datetime,
        data: dict[str, Any],
        origin: str,
        origins: Mapping[str, str] | None = None,
    ) -> None:
        """Add the event `kind` (unique in the delivery) of `type_`; `origin` is the provider field its
        values come from, named when they are refused, and `origins` names it per data field where the
        fields come from different places (a session's fields: the assistant, the customer, the call)."""
        event = {
            "event_id": self.event_id(kind),
            "timestamp": at,
            "channel_manager_service": self.mapped.service,
            "channel_manager_sid": self.mapped.sid,
            "type": type_,
            "data": data,
        }
        named = origins or {}
        try:
            checked = _EVENT.validate_python(event)
        except ValidationError as exc:
            error = exc.errors()[0]
            loc = error["loc"][2:]  # past the union tag and `data`
            where = text(".".join(str(part) for part in loc), 200) or ""  # a deep nesting's path is long
            field_name = named.get(str(loc[0]), origin) if loc else origin
            raise Refused(field_name, f"{where + ': ' if where else ''}{error['msg']}") from None
        # PostgreSQL cannot store U+0000 in text or JSONB. The fast check also meets the six characters
        # `\u0000` written out in a text (escaped as `\\u0000`), hence the look for the real one.
        try:
            maybe = _NUL in orjson.dumps(data, default=str)
        except TypeError:  # nested past orjson's 254 levels (the native model allows about as many)
            maybe = True
        if maybe and (path := nul_path(data, ())) is not None:
            field_name = named.get(str(path[0]), origin) if path else origin
            where = ".".join(str(part) for part in path)
            raise Refused(field_name, f"{where}: must not contain the NUL character (\\u0000)")
        self.mapped.events.append(checked)


def from_epoch_ms(value: Any, field_name: str) -> datetime:
    """A provider's epoch-milliseconds timestamp as a UTC datetime (Refused when it is not one)."""
    # Up to the year 9000: a mapping adds offsets (a turn's seconds from the start) without leaving 9999.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 221_845_392_000_000:
        raise Refused(field_name, "must be epoch milliseconds between 1970 and 9000")
    return datetime.fromtimestamp(value / 1000, UTC)


def from_iso(value: Any, field_name: str) -> datetime:
    """A provider's ISO 8601 timestamp as a UTC datetime (a naive one is taken as UTC)."""
    if not isinstance(value, str) or len(value) > 64:
        raise Refused(field_name, "must be an ISO 8601 date-time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: an offset that moves year 1 or 9999 out of range
        raise Refused(field_name, "must be an ISO 8601 date-time") from None


def text(value: Any, limit: int) -> str | None:
    """A string value cut to `limit` characters with an ellipsis (for previews, never for stored turns)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value if len(value) <= limit else value[: limit - 1] + "…"


# A provider value kept as an attribute of its report (custom analysis data, metadata) past this many bytes
# of JSON is replaced by a note: the report as a whole must stay under the native 64 KiB.
ATTRIBUTE_MAX_BYTES = 16_384
DESCRIPTION_MAX_CHARS = 2000
_AUDIO = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".m4a": "audio/mp4"}


def bounded(value: Any) -> Any:
    """`value`, or a note of its size when its JSON is over ATTRIBUTE_MAX_BYTES."""
    if value is None:
        return None
    size = len(orjson.dumps(value, default=str))
    if size > ATTRIBUTE_MAX_BYTES:
        return {"omitted": f"{size} bytes, over the {ATTRIBUTE_MAX_BYTES // 1024} KiB limit"}
    return value


def short(identifier: str) -> str:
    """An id part of at most 64 characters (longer ones hashed), for event ids."""
    return identifier if len(identifier) <= 64 else hashlib.sha256(identifier.encode()).hexdigest()[:32]


def audio_type(url: str) -> str | None:
    """The content type a recording URL's extension names (None when it names none we know)."""
    path = url.split("?", 1)[0].lower()
    return next((kind for ext, kind in _AUDIO.items() if path.endswith(ext)), None)


def report(
    builder: Builder, at: datetime, attributes: dict[str, Any], *, description: Any, field: str
) -> None:
    """The provider's conclusions as one `provider.report` custom event (its empty values dropped).

    Its id holds a hash of its content: a replay is one event, and a later delivery that knows more (Retell's
    call_analyzed after call_ended) adds a report; readers merge a session's reports in time order.
    """
    kept = {name: value for name, value in attributes.items() if value is not None}
    if not kept:
        return
    digest = hashlib.sha256(orjson.dumps(kept, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()[:16]
    data = {
        "type": "provider.report",
        "source": builder.mapped.provider,
        "source_id": builder.mapped.sid[:200],
        "category": "provider",
        "description": text(description, DESCRIPTION_MAX_CHARS),
        "attributes": kept,
    }
    builder.add(f"report:{digest}", "custom", at, data, field)
