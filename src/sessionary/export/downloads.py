"""An export downloaded from the console, in the audit trail: one entry per download, at its start."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session as DBSession

from sessionary.audit import service as audit

# Filters recorded as given; the free-text search only as "given" (it may name a person, and the audit
# trail outlives the data it records).
_FREE_TEXT = ("q",)
_NOT_FILTERS = ("format", "page", "limit", "sort", "dir")
_MAX_VALUE = 200


def record_download(db: DBSession, *, actor: audit.Actor, kind: str, filters: Mapping[str, str]) -> None:
    """Record that `actor` downloaded an export of format `kind` with these filters (the URL's values)."""
    recorded: dict[str, str | bool] = {}
    for name, value in sorted(filters.items()):
        if name in _NOT_FILTERS or not value:
            continue
        recorded[name] = True if name in _FREE_TEXT else value[:_MAX_VALUE]
    details = {"format": kind, "filters": recorded}
    audit.record(db, actor=actor, action="export.downloaded", target=kind, details=details)
