"""Charts as inline SVG, drawn on the server: no script, no chart library, each beside a data table.

Colors are CSS classes (`paint-NAME` for `var(--NAME)`, in console.css), never style attributes: the
console's Content-Security-Policy allows no inline style."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

PALETTE = ("var(--chart-1)", "var(--chart-2)", "var(--chart-3)", "var(--chart-4)", "var(--chart-5)",
           "var(--chart-6)")  # fmt: skip
LABEL_COLORS = {
    "GOOD": "var(--good)",
    "OK": "var(--ok)",
    "BAD": "var(--bad)",
    "N/A": "var(--na)",
    "none": "var(--none)",
}
_VAR = re.compile(r"var\(--([a-z0-9-]+)\)")
WIDTH, HEIGHT = 640, 220
LEFT, BOTTOM, TOP = 44, 28, 8


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    values: list[float]


def paint(color: str) -> str:
    """The class painting `var(--NAME)`: `paint-NAME` (console.css has one per color)."""
    found = _VAR.fullmatch(color)
    return f"paint-{found.group(1)}" if found else "paint-none"


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value`."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return value


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def stacked_columns(title: str, columns: list[str], series: list[Series]) -> Markup:
    """Columns (e.g. days) of stacked series (e.g. channels), with a y axis."""
    totals = [sum(s.values[i] for s in series) for i in range(len(columns))]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - 4, HEIGHT - BOTTOM - TOP
    step = plot_w / max(len(columns), 1)
    bar_w = max(step * 0.75, 1)
    parts = [_axis(top, plot_h)]
    for i, column in enumerate(columns):
        x, base = LEFT + i * step + (step - bar_w) / 2, 0.0
        for s in series:
            value = s.values[i]
            if value <= 0:
                continue
            h = plot_h * value / top
            y = TOP + plot_h - base - h
            tip = f"{escape(column)} · {escape(s.name)}: {_fmt(value)}"
            parts.append(
                f'<rect class="mark {paint(s.color)}" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}"><title>{tip}</title></rect>'
            )
            base += h
        if len(columns) <= 10 or i % max(1, round(len(columns) / 6)) == 0:
            label = escape(column[5:] if len(column) == 10 else column)  # days as MM-DD
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle">{label}</text>'
            )
    return _svg(title, parts, series)


def bars(title: str, rows: list[tuple[str, list[tuple[float, str, str]]]], *, unit: str = "") -> Markup:
    """Horizontal bars: per row a label and one or more (value, color, name) bars side by side."""
    top = _nice_max(max((v for _, values in rows for v, _, _ in values), default=0))
    widest = max((len(values) for _, values in rows), default=1)
    label_w, row_h = 150, 8 + 16 * widest
    inner = [v for _, values in rows for v in values]
    per_bar = (row_h - 4) / max(1, widest)
    height = max(len(rows), 1) * row_h + 8
    parts = []
    for r, (label, values) in enumerate(rows):
        y0 = 4 + r * row_h
        text_y = y0 + row_h / 2 + 4
        name_text = escape(label[:24])
        parts.append(f'<text x="{label_w - 6}" y="{text_y:.1f}" text-anchor="end">{name_text}</text>')
        for b, (value, color, name) in enumerate(values):
            w = (WIDTH - label_w - 70) * value / top
            y = y0 + b * per_bar
            tip = f"{escape(label)} · {escape(name)}: {_fmt(value)}{unit}"
            parts.append(
                f'<rect class="mark {paint(color)}" x="{label_w}" y="{y:.1f}" width="{max(w, 0.5):.1f}" '
                f'height="{per_bar - 1:.1f}"><title>{tip}</title></rect>'
                f'<text x="{label_w + w + 4:.1f}" y="{y + per_bar - 4:.1f}">{_fmt(value)}{unit}</text>'
            )
    legend = {name: color for _, color, name in inner}
    series = [Series(name, color, []) for name, color in legend.items()] if len(legend) > 1 else []
    return _svg(title, parts, series, height=height)


def _axis(top: float, plot_h: float) -> str:
    lines = []
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h - plot_h * fraction
        lines.append(f'<line x1="{LEFT}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        lines.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{_fmt(top * fraction)}</text>')
    return "".join(lines)


def _svg(title: str, parts: list[str], series: list[Series], *, height: int = HEIGHT) -> Markup:
    legend = "".join(
        f'<span class="swatch {paint(s.color)}"></span>{escape(s.name or "(none)")}' for s in series
    )
    svg = (
        f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" class="chart-svg">'
        f"{''.join(parts)}</svg>"
    )
    return Markup(svg + (f'<p class="legend" aria-hidden="true">{legend}</p>' if legend else ""))
