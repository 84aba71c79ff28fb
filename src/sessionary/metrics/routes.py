"""GET /api/v1/metrics: the overview figures the console's overview page shows, for API users too."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from sessionary.api.syllable import error_responses
from sessionary.metrics import service
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
    return service.current_metrics(request.app.state.db, organization_id=principal.organization_id, f=f)
