"""The overview page: each figure of GET /api/v1/metrics as a chart and the table behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from markupsafe import Markup

from sessionary.console import charts
from sessionary.console.charts import LABEL_COLORS, PALETTE, Series
from sessionary.metrics.schemas import MetricsRead

LATENCY_COLORS = {"p50": "var(--chart-1)", "p95": "var(--chart-2)"}
# A chart draws each day of its span up to this many days; past it, only the days with data.
MAX_DENSE_DAYS = 732


@dataclass(frozen=True)
class Chart:
    """One figure: its id, title, the SVG, and the table (header row and body rows) with the same data."""

    id: str
    title: str
    svg: Markup | None
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)


def _days(m: MetricsRead) -> list[str]:
    """A chart's columns: every day of the range; for a range over MAX_DENSE_DAYS, every day from the
    first to the last day with data, or only the days with data when those are further apart. So the
    page costs what the figures cost (as GET /api/v1/metrics, which lists only days with data), never
    what the width of the range asked for would."""
    first, last = m.start_datetime.date(), m.end_datetime.date() - timedelta(days=1)
    if (last - first).days >= MAX_DENSE_DAYS:
        seen = sorted({r.day for r in m.sessions_per_day} | {r.day for r in m.labels_per_day})
        if not seen or (seen[-1] - seen[0]).days >= MAX_DENSE_DAYS:
            return [day.isoformat() for day in seen]
        first, last = seen[0], seen[-1]
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def charts_for(m: MetricsRead) -> list[Chart]:
    """Every overview chart, in page order."""
    return [_per_day(m), _durations(m), _labels(m), _latency(m), _tools(m), _issues(m)]


def _pivot(days: list[str], cells: dict[tuple[str, str], int], keys: list[str]) -> list[Series]:
    colors = {k: LABEL_COLORS.get(k, PALETTE[i % len(PALETTE)]) for i, k in enumerate(keys)}
    return [Series(k or "(none)", colors[k], [float(cells.get((d, k), 0)) for d in days]) for k in keys]


def _per_day(m: MetricsRead) -> Chart:
    days = _days(m)
    cells = {(r.day.isoformat(), r.channel_manager_type): r.sessions for r in m.sessions_per_day}
    channels = sorted({k for _, k in cells})
    title = "Sessions per day by channel"
    svg = charts.stacked_columns(title, days, _pivot(days, cells, channels)) if cells else None
    rows = [
        [d, *(str(cells.get((d, c), 0)) for c in channels)]
        for d in days
        if any((d, c) in cells for c in channels)
    ]
    return Chart("per-day", title, svg, ["Day (UTC)", *(c or "(none)" for c in channels)], rows)


def _durations(m: MetricsRead) -> Chart:
    title = "Duration distribution"
    rows = [(b.bucket, [(float(b.sessions), PALETTE[0], "sessions")]) for b in m.duration_distribution]
    svg = charts.bars(title, rows) if any(b.sessions for b in m.duration_distribution) else None
    table = [[b.bucket, str(b.sessions)] for b in m.duration_distribution]
    return Chart("durations", title, svg, ["Duration", "Sessions"], table)


def _labels(m: MetricsRead) -> Chart:
    days = _days(m)
    cells = {(r.day.isoformat(), r.code): r.sessions for r in m.labels_per_day}
    order = ["GOOD", "OK", "BAD", "N/A", "none"]
    codes = sorted({k for _, k in cells}, key=lambda c: (order.index(c) if c in order else len(order), c))
    title = "Label codes over time"
    svg = charts.stacked_columns(title, days, _pivot(days, cells, codes)) if cells else None
    rows = [
        [d, *(str(cells.get((d, c), 0)) for c in codes)] for d in days if any((d, c) in cells for c in codes)
    ]
    return Chart("labels", title, svg, ["Day (UTC)", *codes], rows)


def _latency(m: MetricsRead) -> Chart:
    title = "Latency p50 / p95 by category"
    rows = [
        (
            f.category.upper(),
            [(f.p50_ms, LATENCY_COLORS["p50"], "p50"), (f.p95_ms, LATENCY_COLORS["p95"], "p95")],
        )
        for f in m.latency
    ]
    svg = charts.bars(title, rows, unit=" ms") if rows else None
    table = [
        [f.category, str(f.count), f"{f.p50_ms:g}", f"{f.p95_ms:g}", f"{f.average_ms:g}"] for f in m.latency
    ]
    return Chart(
        "latency", title, svg, ["Category", "Measurements", "p50 (ms)", "p95 (ms)", "Average (ms)"], table
    )


def _tools(m: MetricsRead) -> Chart:
    title = "Top tools and their errors"
    rows = [
        (t.tool_name, [(float(t.calls), PALETTE[0], "calls"), (float(t.errors), "var(--bad)", "errors")])
        for t in m.top_tools
    ]
    svg = charts.bars(title, rows) if rows else None
    table = [
        [t.tool_name, str(t.calls), str(t.errors), f"{t.error_rate:.1%}", f"{t.average_ms:g}"]
        for t in m.top_tools
    ]
    return Chart("tools", title, svg, ["Tool", "Calls", "Errors", "Error rate", "Average (ms)"], table)


def _issues(m: MetricsRead) -> Chart:
    title = "Top issue categories"
    rows = [(i.category, [(float(i.sessions), PALETTE[4], "sessions")]) for i in m.top_issue_categories]
    svg = charts.bars(title, rows) if rows else None
    table = [[i.category, str(i.sessions)] for i in m.top_issue_categories]
    return Chart("issues", title, svg, ["Issue category", "Sessions"], table)


def range_text(m: MetricsRead) -> str:
    """The days counted, for people: 2024-06-19 to 2024-06-21 (UTC)."""
    last: date = m.end_datetime.date() - timedelta(days=1)
    first = m.start_datetime.date()
    return f"{first.isoformat()} to {last.isoformat()} (UTC)" if last >= first else "no days"
