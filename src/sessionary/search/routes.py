"""GET /api/v1/sessions/search: full-text search over the organization's transcripts."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError

from sessionary.api.syllable import error_responses
from sessionary.config import Settings
from sessionary.listing import MAX_PAGE, ListParams, envelope, parse_datetime
from sessionary.search import query as search_query
from sessionary.search import service
from sessionary.search.schemas import SearchHit, SearchPage
from sessionary.search.slots import Slots
from sessionary.tenancy.deps import DB, Reader

Q_DESCRIPTION = (
    'Words (all must match) and "quoted phrases"; the last word also matches as a prefix. '
    "Case and accents are ignored; other punctuation separates words and is never an operator."
)


def build_router(settings: Settings) -> APIRouter:
    """The search router: `list_max_limit` bounds `limit`, `search_max_turns` the matching turns one query
    scores, `search_concurrency` the searches run at once, `search_timeout_seconds` the time one takes.
    Include it before the sessions router, whose `/{session_id}` would otherwise take `search` for an id."""
    router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])
    max_limit, max_turns, timeout = (
        settings.list_max_limit,
        settings.search_max_turns,
        settings.search_timeout_seconds,
    )
    slots = Slots(limit=settings.search_concurrency, wait=settings.db_pool_timeout_seconds, what="searches")
    # Declared first: a search waits for its slot before it takes a database connection.
    Slot = Annotated[None, Depends(slots.hold, scope="function")]

    def search_params(
        q: Annotated[str, Query(min_length=1, max_length=search_query.MAX_LENGTH, description=Q_DESCRIPTION)],
        page: Annotated[int | None, Query(ge=0, le=MAX_PAGE, description="0-based page number")] = 0,
        limit: Annotated[int, Query(ge=0, le=max_limit, description="Sessions per page")] = 25,
        start_datetime: Annotated[str | None, Query(description="Session timestamp, inclusive")] = None,
        end_datetime: Annotated[str | None, Query(description="Session timestamp, exclusive")] = None,
    ) -> tuple[search_query.SearchQuery, ListParams]:
        try:
            parsed = search_query.parse(q)
        except search_query.QueryError as exc:
            raise RequestValidationError(
                [{"loc": ("query", "q"), "msg": str(exc), "type": "value_error"}]
            ) from None
        params = ListParams(
            page=page or 0,
            limit=limit,
            search_fields=[],
            search_field_values=[],
            order_by=None,
            order_by_direction=None,
            fields=[],
            start_datetime=parse_datetime("start_datetime", start_datetime) if start_datetime else None,
            end_datetime=parse_datetime("end_datetime", end_datetime) if end_datetime else None,
        )
        return parsed, params

    Params = Annotated[tuple[search_query.SearchQuery, ListParams], Depends(search_params)]

    @router.get(
        "/search",
        response_model=SearchPage,
        operation_id="sessions_search",
        responses=error_responses(400, 422),
    )
    def sessions_search(_slot: Slot, db: DB, principal: Reader, params: Params) -> SearchPage:
        """Sessions whose transcript matches `q`, best first, each with its best turn highlighted."""
        parsed, page_params = params
        result = service.search(
            db,
            organization_id=principal.organization_id,
            query=parsed,
            params=page_params,
            max_turns=max_turns,
            timeout=timeout,
        )
        return SearchPage(**envelope(result.page, page_params, _as_is), total_count_exact=result.exact)

    return router


def _as_is(hit: SearchHit, _fields: list[str]) -> SearchHit:
    return hit
