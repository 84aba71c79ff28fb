"""GET /api/v1/metrics: the overview figures for a range of UTC days."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from sessionary.types import ZTimestamp


class DayChannel(BaseModel):
    day: date
    channel_manager_type: str = Field(description="'' when the session has none")
    sessions: int


class DurationBucket(BaseModel):
    bucket: str = Field(description="e.g. '1-2 min'; 'open' for sessions without a duration yet")
    min_seconds: float | None = None
    max_seconds: float | None = None
    sessions: int


class DayLabel(BaseModel):
    day: date
    code: str = Field(description="The newest label's code, or 'none'")
    sessions: int


class LatencyFigure(BaseModel):
    category: str
    count: int
    average_ms: float
    p50_ms: float = Field(description="From logarithmic bins: within about 4.5 %")
    p95_ms: float = Field(description="From logarithmic bins: within about 4.5 %")


class ToolFigure(BaseModel):
    tool_name: str
    calls: int
    errors: int
    error_rate: float
    average_ms: float


class IssueFigure(BaseModel):
    category: str
    sessions: int


class NamedCount(BaseModel):
    name: str
    sessions: int


class JourneyFigures(BaseModel):
    """Web and app (journey) sessions started in the range: their count, page views, and the most common
    referrer media and campaign names (sessions each)."""

    sessions: int = 0
    pageviews: int = 0
    top_referrer_media: list[NamedCount] = Field(default_factory=list)
    top_campaigns: list[NamedCount] = Field(default_factory=list)


class MetricsTotals(BaseModel):
    sessions: int
    average_duration_seconds: float | None = None
    tool_calls: int
    tool_error_rate: float | None = None


class MetricsRead(BaseModel):
    """The overview of the sessions that match the filters, started within [start_datetime, end_datetime)."""

    start_datetime: ZTimestamp = Field(description="Midnight UTC of the first day counted")
    end_datetime: ZTimestamp = Field(description="Midnight UTC after the last day counted")
    source: str = Field(description="'rollup' (pre-aggregated) or 'sessions' (computed from the sessions)")
    totals: MetricsTotals
    sessions_per_day: list[DayChannel]
    duration_distribution: list[DurationBucket]
    labels_per_day: list[DayLabel]
    latency: list[LatencyFigure]
    top_tools: list[ToolFigure]
    top_issue_categories: list[IssueFigure]
    journey: JourneyFigures
