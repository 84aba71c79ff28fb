"""The sessions page's state, read from (and written back to) its URL so that a view can be shared."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import urlencode

from sessionary.errors import InvalidRequest
from sessionary.listing import MAX_PAGE, parse_datetime
from sessionary.sessions.filters import Direction, LabelCodeFilter, SessionFilter

E = TypeVar("E", Direction, LabelCodeFilter)
PRESETS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
SORTS = ("timestamp", "duration", "agent_name", "prompt_name", "channel_manager_type", "session_id")
LIMITS = (25, 50, 100)
# Every URL parameter of the page, in the order links write them.
PARAMS = (
    "range", "start", "end", "channel", "type", "agent", "prompt", "direction", "test", "label",
    "min_duration", "max_duration", "conversation_id", "q", "sort", "dir", "page", "limit",
)  # fmt: skip


@dataclass(frozen=True)
class ListQuery:
    """What the sessions page shows: the filter, the search text, order and page, and any input errors."""

    filter: SessionFilter
    values: dict[str, str]  # the URL parameters as given (kept for the form and for links)
    q: str = ""
    sort: str = "timestamp"
    descending: bool = True
    page: int = 0
    limit: int = 25
    errors: list[str] = field(default_factory=list)

    def url(self, path: str = "/sessions", **changes: str | int | None) -> str:
        """`path` with this query's parameters, some changed (None removes one)."""
        values = {**self.values, **{k: None if v is None else str(v) for k, v in changes.items()}}
        names = [*PARAMS, *(name for name in changes if name not in PARAMS)]
        pairs = [(name, values[name]) for name in names if values.get(name)]
        return f"{path}?{urlencode(pairs)}" if pairs else path


def parse(params: Mapping[str, str], *, now: datetime) -> ListQuery:
    """The page's state from its URL parameters; a bad value is reported and ignored, never a 500."""
    values = {name: params.get(name, "").strip() for name in PARAMS if params.get(name, "").strip()}
    errors: list[str] = []
    start, end = _range(values, now, errors)
    f = SessionFilter(
        start=start,
        end=end,
        channel_type=values.get("channel"),
        session_type=values.get("type"),
        agent=values.get("agent"),
        prompt=values.get("prompt"),
        direction=_choice(Direction, values.get("direction"), "direction", errors),
        is_test={"exclude": False, "only": True}.get(values.get("test", "")),
        label_code=_choice(LabelCodeFilter, values.get("label"), "label", errors),
        min_duration=_seconds(values.get("min_duration"), "minimum duration", errors),
        max_duration=_seconds(values.get("max_duration"), "maximum duration", errors),
        conversation_id=values.get("conversation_id"),
    )
    sort = values.get("sort", "timestamp")
    if sort not in SORTS:
        errors.append(f"cannot sort by '{sort}'")
        sort = "timestamp"
    limit = _int(values.get("limit"), 25)
    return ListQuery(
        filter=f,
        values=values,
        q=values.get("q", ""),
        sort=sort,
        descending=values.get("dir", "desc") != "asc",
        page=min(MAX_PAGE, max(0, _int(values.get("page"), 1) - 1)),
        limit=limit if limit in LIMITS else 25,
        errors=errors,
    )


def _range(
    values: dict[str, str], now: datetime, errors: list[str]
) -> tuple[datetime | None, datetime | None]:
    preset = values.get("range", "")
    if preset in PRESETS:
        return now - PRESETS[preset], None
    if preset != "custom":
        return None, None
    start = _datetime(values.get("start"), "from", errors)
    end = _datetime(values.get("end"), "to", errors)
    if start and end and end <= start:
        errors.append("the end of the time range must be after its start")
    return start, end


def _datetime(text: str | None, name: str, errors: list[str]) -> datetime | None:
    if not text:
        return None
    try:
        return parse_datetime(name, text)
    except InvalidRequest as exc:
        errors.append(exc.detail)
        return None


def _choice(kind: type[E], text: str | None, name: str, errors: list[str]) -> E | None:
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        errors.append(f"{name}: '{text}' is not one of {', '.join(e.value for e in kind)}")
        return None


def _seconds(text: str | None, name: str, errors: list[str]) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1e9:
        errors.append(f"{name}: '{text}' is not a number of seconds")
        return None
    return value


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default
