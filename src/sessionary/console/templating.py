"""The console's Jinja2 templates and the filters they use."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates

from sessionary.transcripts.formatting import human_ms

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def when(value: datetime | None) -> str:
    """A UTC timestamp for people: 2024-06-19 10:00:03 UTC."""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def seconds(value: float | None) -> str:
    """A duration in seconds for people: 45 s, 3 min 05 s, 1 h 02 min."""
    if value is None:
        return ""
    total = round(value)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def zip_self(values: Iterable[str]) -> list[tuple[str, str]]:
    """Options whose value is also their text."""
    return [(value, value) for value in values]


templates.env.filters["when"] = when
templates.env.filters["zip_self"] = zip_self
templates.env.filters["seconds"] = seconds
templates.env.filters["ms"] = human_ms
