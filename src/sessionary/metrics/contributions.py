"""What one session adds to the rollups: pure functions of the session, its newest label and its events.

Keys per metric:
  sessions  channel_manager_type ('' when unknown): count 1, total = duration (s)
  duration  the duration bucket (DURATION_BUCKETS, or 'open' while the session has no duration)
  label     the newest label's code, or 'none'
  issue     each issue category of the newest label
  latency   '<category>|<bin>': one per measurement, total = ms. Bins are logarithmic, 8 per doubling
            (a bin's upper edge is 9 % above its lower), so percentiles read from them are within ~4.5 %.
            The `tool` category is the tool calls' duration_ms; `tool` latency events are left out, so a
            call is never counted twice.
  tool      the tool name: count = calls, errors = calls with a tool_error, total = duration_ms
  journey          '' for a journey (web/app) session: count 1, total = its page views
  referrer_medium  a journey session's referrer medium (none when it has none)
  campaign         a journey session's campaign name (none when it has none)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sessionary.transcripts.formatting import usable_ms
from sessionary.types import MAX_DURATION_MS

BINS_PER_DOUBLING = 8
# (label, lower bound in seconds); a bucket runs to the next one's bound.
DURATION_BUCKETS = (
    ("0-15 s", 0.0),
    ("15-30 s", 15.0),
    ("30-60 s", 30.0),
    ("1-2 min", 60.0),
    ("2-5 min", 120.0),
    ("5-10 min", 300.0),
    ("10-20 min", 600.0),
    ("20+ min", 1200.0),
)
OPEN = "open"
NO_LABEL = "none"
EVENT_TYPES = ("latency", "tool_call")


@dataclass
class Tally:
    count: int = 0
    errors: int = 0
    total: float = 0.0

    def add(self, other: Tally, sign: int = 1) -> None:
        self.count += sign * other.count
        self.errors += sign * other.errors
        self.total += sign * other.total


Key = tuple[str, str]  # (metric, key)
Contribution = dict[Key, Tally]


@dataclass(frozen=True)
class LabelFacts:
    code: str
    issue_categories: tuple[str, ...]


@dataclass(frozen=True)
class JourneyFacts:
    """What a journey session is counted as: journey_session's pageview_count, referrer_medium and
    campaign_name."""

    pageviews: int
    medium: str | None
    campaign: str | None


def duration_bucket(seconds: float | None) -> str:
    """The label of the bucket `seconds` falls in ('open' for None)."""
    if seconds is None:
        return OPEN
    name = DURATION_BUCKETS[0][0]
    for label, lower in DURATION_BUCKETS:
        if seconds >= lower:
            name = label
    return name


def latency_bin(ms: float) -> int:
    """The logarithmic bin of a latency in ms (0.001 ms and below share the lowest bin)."""
    return math.floor(BINS_PER_DOUBLING * math.log2(max(ms, 0.001)))


# The highest bin a measurement accepted at ingest can fall in (a rollup row beyond it is left unread).
MAX_BIN = latency_bin(MAX_DURATION_MS)


def bin_value(index: int) -> float:
    """A bin's representative value in ms: its geometric middle."""
    return float(2 ** ((index + 0.5) / BINS_PER_DOUBLING))


def _add(
    out: Contribution, metric: str, key: str, count: int = 1, errors: int = 0, total: float = 0.0
) -> None:
    tally = out.setdefault((metric, key[:250]), Tally())
    tally.add(Tally(count, errors, total))


def session_part(
    channel_type: str | None,
    duration: float | None,
    label: LabelFacts | None,
    journey: JourneyFacts | None = None,
) -> Contribution:
    """What a session adds by itself: one session of its channel, its duration bucket, its label and, for
    a journey session, its journey figures."""
    out: Contribution = {}
    _add(out, "sessions", channel_type or "", total=duration or 0.0)
    _add(out, "duration", duration_bucket(duration), total=duration or 0.0)
    _add(out, "label", label.code if label else NO_LABEL)
    for category in dict.fromkeys(label.issue_categories if label else ()):
        _add(out, "issue", category)
    if journey is not None:
        _journey_part(out, journey)
    return out


def _journey_part(out: Contribution, journey: JourneyFacts) -> None:
    """One journey with its page views, its referrer medium and its campaign."""
    _add(out, "journey", "", total=float(journey.pageviews))
    if journey.medium is not None:
        _add(out, "referrer_medium", journey.medium)
    if journey.campaign is not None:
        _add(out, "campaign", journey.campaign)


def events_part(events: Iterable[tuple[str, Mapping[str, Any]]]) -> Contribution:
    """What a session's latency and tool_call events add, given as (type, data)."""
    out: Contribution = {}
    for kind, data in events:
        if kind == "latency" and data.get("category") != "tool":
            ms = usable_ms(data.get("value"), data.get("unit"))
            if ms is not None:  # a value stored before ingest refused it is left out
                _add(out, "latency", f"{data['category']}|{latency_bin(ms)}", total=ms)
        elif kind == "tool_call":
            duration = usable_ms(data.get("duration_ms"))
            failed = 1 if data.get("tool_error") is not None else 0
            _add(out, "tool", str(data.get("tool_name", "")), errors=failed, total=duration or 0.0)
            if duration is not None:
                _add(out, "latency", f"tool|{latency_bin(duration)}", total=duration)
    return out
