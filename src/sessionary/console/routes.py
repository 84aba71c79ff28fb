"""The console's pages (server-rendered, outside the OpenAPI schema): thin, as every route here is."""

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError

from sessionary.console import listquery, overview, service, sources
from sessionary.console.security import (
    CheckedForm,
    ConsoleViewer,
    Viewer,
    actor_of,
    csrf_token,
    current_viewer,
    sign_in,
    sign_out,
)
from sessionary.console.templating import templates
from sessionary.db import session_scope
from sessionary.db_types import utcnow
from sessionary.errors import InvalidRequest, SessionaryError, error_headers
from sessionary.export import downloads
from sessionary.export import service as export
from sessionary.labels import service as labels
from sessionary.labels.schemas import SessionLabelCreate
from sessionary.metrics import service as metrics
from sessionary.recordings.links import token_signer
from sessionary.tenancy.deps import DB, WriteDB

router = APIRouter(include_in_schema=False)


def render(
    request: Request, name: str, viewer: Viewer | None, *, status_code: int = 200, **context: Any
) -> Response:
    """A page with what every page needs: the viewer, the CSRF token, the current section."""
    context.update(viewer=viewer, csrf=csrf_token(request), notice=request.session.pop("notice", None))
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never `//host` or a scheme)."""
    target = target or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/sessions"
    return target


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/sessions", status_code=303)


@router.get("/signin")
def signin_page(request: Request, next: str | None = None) -> Response:
    return render(request, "signin.html", None, next=safe_next(next), error=None)


@router.post("/signin")
def signin(request: Request, form: CheckedForm) -> Response:
    key = str(form.get("api_key") or "")
    target = safe_next(str(form.get("next") or ""))
    try:
        sign_in(request, key=key)
    except SessionaryError as exc:
        error = "That API key is not valid." if exc.status_code == 401 else exc.detail
        status = exc.status_code if exc.status_code == 429 else 401
        page = render(request, "signin.html", None, status_code=status, next=target, error=error)
        page.headers.update(error_headers(exc))
        return page
    return RedirectResponse(target, status_code=303)


@router.post("/signout")
def signout(request: Request, _form: CheckedForm) -> RedirectResponse:
    sign_out(request)
    return RedirectResponse("/signin", status_code=303)


@router.get("/sessions")
def sessions_page(request: Request, db: DB, viewer: ConsoleViewer) -> Response:
    query = listquery.parse(request.query_params, now=utcnow())
    view = service.list_sessions(db, organization_id=viewer.organization_id, query=query)
    options = service.options(db, organization_id=viewer.organization_id)
    return render(
        request,
        "sessions.html",
        viewer,
        section="sessions",
        query=query,
        view=view,
        options=options,
        session_types=service.SESSION_TYPES,
        sorts=listquery.SORTS,
        limits=listquery.LIMITS,
    )


EXPORTS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "jsonl": ("application/x-ndjson", "jsonl"),
    "transcripts": ("application/x-ndjson", "transcripts.jsonl"),
    "parquet": ("application/vnd.apache.parquet", "parquet"),
}


@router.get("/sessions/export")
def export_sessions(request: Request, viewer: ConsoleViewer) -> Response:
    """The filtered sessions as a file, streamed page by page (keyset paging, one read transaction)."""
    kind = request.query_params.get("format", "csv")
    if kind not in EXPORTS:
        raise InvalidRequest(f"format: '{kind}' is not one of {', '.join(EXPORTS)}")
    query = listquery.parse(request.query_params, now=utcnow())
    if query.errors:
        raise InvalidRequest("; ".join(query.errors))
    database = request.app.state.db
    with session_scope(database.writer) as db:
        downloads.record_download(db, actor=actor_of(request, viewer), kind=kind, filters=query.values)

    def body() -> Iterator[bytes]:
        with session_scope(database.reader) as db:
            org = viewer.organization_id
            found = sources.search_condition(db, organization_id=org, text=query.q) if query.q else None
            extra = [found] if found is not None else []
            yield from export.stream(db, organization_id=org, f=query.filter, kind=kind, extra=extra)

    media_type, suffix = EXPORTS[kind]
    name = f"sessions-{utcnow():%Y%m%d-%H%M%S}.{suffix}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(body(), media_type=media_type, headers=headers)


@router.get("/overview")
def overview_page(request: Request, db: DB, viewer: ConsoleViewer) -> Response:
    query = listquery.parse(request.query_params, now=utcnow())
    figures = metrics.current_metrics(
        request.app.state.db, organization_id=viewer.organization_id, f=query.filter
    )
    return render(
        request,
        "overview.html",
        viewer,
        section="overview",
        query=query,
        metrics=figures,
        charts=overview.charts_for(figures),
        range_text=overview.range_text(figures),
        options=service.options(db, organization_id=viewer.organization_id),
        session_types=service.SESSION_TYPES,
    )


def _session_page(
    request: Request, db: DB, viewer: Viewer, session_id: str, *, form: dict[str, Any], errors: list[str]
) -> Response:
    view = service.session_view(
        db,
        organization_id=viewer.organization_id,
        session_id=session_id,
        signer=token_signer(request),
        phone_region=request.app.state.settings.journey_phone_region,
    )
    status = 422 if errors else 200
    return render(
        request, "session.html", viewer, status_code=status, section="sessions", view=view, form=form,
        errors=errors, categories=service.LATENCY_CATEGORIES,
    )  # fmt: skip


@router.get("/sessions/{session_id}")
def session_page(request: Request, db: DB, viewer: ConsoleViewer, session_id: str) -> Response:
    form = {"user_email": request.session.get("label_email", ""), "code": "", "issues": "", "comments": ""}
    return _session_page(request, db, viewer, session_id, form=form, errors=[])


def viewer_briefly(request: Request) -> Viewer:
    """The signed-in viewer, checked in a read transaction closed at once: no connection is held while
    the form's body arrives (body_limit.py bounds how long that may take)."""
    with session_scope(request.app.state.db.reader) as db:
        return current_viewer(request, db)


@router.post("/sessions/{session_id}/labels")
def add_label(
    request: Request,
    viewer: Annotated[Viewer, Depends(viewer_briefly)],
    form: CheckedForm,
    db: WriteDB,
    session_id: str,
) -> Response:
    values = {
        name: str(form.get(name) or "").strip() for name in ("code", "issues", "comments", "user_email")
    }
    body, errors = label_body(session_id, values)
    if body is None:
        return _session_page(request, db, viewer, session_id, form=values, errors=errors)
    labels.create_label(db, organization_id=viewer.organization_id, body=body)
    request.session["label_email"] = body.user_email
    return RedirectResponse(f"/sessions/{session_id}#labels", status_code=303)


def _id_number(text: str) -> int:
    """A session id from the path as a number; 0 (refused) for anything but 1-19 ASCII digits (int() would
    take other scripts' digits, and refuses numbers of 4,300 digits or more)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 19 else 0


def label_body(session_id: str, values: dict[str, str]) -> tuple[SessionLabelCreate | None, list[str]]:
    """The API's own label body from the form, or the form's errors (each naming its field)."""
    issues = [part.strip() for part in values["issues"].split(",") if part.strip()]
    try:
        body = SessionLabelCreate(
            session_id=_id_number(session_id),
            type="human-rating",
            code=values["code"],
            user_email=values["user_email"],
            comments=values["comments"] or None,
            issue_categories=issues or None,
        )
    except ValidationError as exc:
        names = {"code": "Rating", "user_email": "Your email", "comments": "Comment"}
        errors = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            errors.append(f"{names.get(field, 'Issue categories')}: {error['msg']}")
        return None, errors
    return body, []
