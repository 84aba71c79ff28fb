"""GET /api/v1/metrics: the overview figures the console's overview page shows, for API users too."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from sessionary.api.syllable import error_responses
from sessionary.db import Database, session_scope
from sessionary.metrics import catchup, service
from sessionary.metrics.schemas import MetricsRead
from sessionary.sessions.filters import SessionFilter, filter_dependency
from sessionary.tenancy.deps import Reader

router = APIRouter(prefix="/api/v1", tags=["metrics"])
Filter = Annotated[SessionFilter, Depends(filter_dependency)]


@router.get(
    "/metrics",
    response_model=MetricsRead,
    operation_id="metrics_get",
    responses=error_responses(400, 422),
)
def metrics_get(request: Request, principal: Reader, f: Filter) -> MetricsRead:
    """Sessions per day by channel, durations, labels over time, latency p50/p95, tools, issues, journeys.

    The range is whole UTC days (start_datetime back to midnight, end_datetime on to the next one; default:
    the 30 days ending today); the other parameters filter sessions by exact value.
    """
    return current_metrics(request.app.state.db, organization_id=principal.organization_id, f=f)


def current_metrics(database: Database, *, organization_id: int, f: SessionFilter) -> MetricsRead:
    """The figures after rolling up what changed since the last look (a short job of its own, only when
    something did: then the figures are read in that same write transaction, so they include it)."""
    with session_scope(database.reader) as db:
        if not service.by_segment(f) or not catchup.has_pending(db, organization_id=organization_id):
            return service.metrics(db, organization_id=organization_id, f=f)
    with session_scope(database.writer) as db:
        catchup.catch_up(db, organization_id=organization_id)
        return service.metrics(db, organization_id=organization_id, f=f)
