"""The FastAPI application: create_app(settings) mounts every face; the lifespan opens the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sessionary import __version__
from sessionary.analysis import routes as analysis_routes
from sessionary.analysis.service import Analyzer
from sessionary.analysis.worker import AnalysisWorker
from sessionary.api import genesys, syllable
from sessionary.api.bodies import add_component_schemas
from sessionary.audit import routes as audit_routes
from sessionary.body_limit import BodyLimitMiddleware, ReadRule
from sessionary.config import Settings
from sessionary.console.mount import mount as mount_console
from sessionary.conversations import routes as conversations_routes
from sessionary.db import open_database
from sessionary.db_checkpoint import WalCheckpointer
from sessionary.db_stats import StatisticsKeeper
from sessionary.debug import routes as debug_routes
from sessionary.errors import SessionaryError
from sessionary.gc_tuning import tune_allocator, tune_gc
from sessionary.ingest import routes as ingest_routes
from sessionary.ingest.schemas import IngestBatch
from sessionary.integrations import routes as integrations_routes
from sessionary.integrations.schemas import IntegrationCreate
from sessionary.journey.api import routes as journey_routes
from sessionary.journey.api.fastpath import serve_first
from sessionary.journey.api.openapi import document_ingest
from sessionary.journey.intake.runtime import JourneyRuntime
from sessionary.journey.wire.requests import AppEventRequest, WebEventRequest
from sessionary.keys import routes as keys_routes
from sessionary.keys.schemas import KeyCreate
from sessionary.labels import routes as labels_routes
from sessionary.labels.schemas import SessionLabelCreate
from sessionary.lifecycle import erasure_routes, retention_routes
from sessionary.lifecycle import routes as lifecycle_routes
from sessionary.lifecycle.purge import PurgeWorker
from sessionary.metrics import routes as metrics_routes
from sessionary.notable import routes as events_routes
from sessionary.otel import routes as otel_routes
from sessionary.otel.sweeper import PendingSweeper
from sessionary.paths import ControlCharacterPathMiddleware
from sessionary.recordings import routes as recordings_routes
from sessionary.recordings.stores import open_blob_store
from sessionary.sealing import AppSealers
from sessionary.search import routes as search_routes
from sessionary.security_headers import secure_everything
from sessionary.sessions import routes as sessions_routes
from sessionary.sessions.counts import CountFolder
from sessionary.siblings import Siblings, close_all
from sessionary.transcripts import routes as transcripts_routes
from sessionary.webhooks import routes as webhooks_routes


def create_app(settings: Settings | None = None) -> FastAPI:
    """A sessionary server for `settings` (default: read from the environment)."""
    settings = settings or Settings()
    # The gates' loads, shared with the sibling workers of `serve --workers N` to balance them (siblings.py).
    ingest_siblings, otel_siblings = (Siblings.of_worker(name) for name in ("ingest", "otel"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tune_gc()
        tune_allocator()  # before the server's threads start
        app.state.db = open_database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            pool_timeout=settings.db_pool_timeout_seconds,
        )
        app.state.analyzer = Analyzer.from_settings(settings)
        app.state.journey = JourneyRuntime.start(app.state.db, settings)
        worker = AnalysisWorker(
            app.state.db,
            app.state.analyzer,
            poll_seconds=settings.analysis_poll_seconds,
            busy_share=settings.analysis_busy_share,
        )
        sweeper = PendingSweeper(
            app.state.db,
            after_seconds=settings.otel_pending_seconds,
            poll_seconds=min(30.0, settings.otel_pending_seconds / 4),
        )
        fetch_worker = None
        if settings.recording_fetch_worker:
            # Imported only when on: its fetcher brings httpx (6 MB in every server process).
            from sessionary.recordings.fetchworker import RecordingFetchWorker

            fetch_worker = RecordingFetchWorker.from_settings(app.state.db, settings, app.state.sealers)
        if settings.analysis_worker:
            worker.start()
            sweeper.start()
        if fetch_worker is not None:
            fetch_worker.start()
        count_folder = CountFolder(app.state.db)  # PostgreSQL's count deltas (sessions/counts.py)
        count_folder.start()
        statistics = StatisticsKeeper(app.state.db)  # PostgreSQL's planner statistics (db_stats.py)
        statistics.start()
        checkpointer = WalCheckpointer(app.state.db, poll_seconds=settings.sqlite_checkpoint_seconds)
        checkpointer.start()  # SQLite's WAL copied back off the requests' path (db_checkpoint.py)
        purge_worker = None
        if settings.purge_worker:
            purge_worker = PurgeWorker.from_settings(app.state.db, open_blob_store(settings), settings)
            purge_worker.start()
        try:
            yield
        finally:
            if purge_worker is not None:
                purge_worker.stop()
            count_folder.stop()
            statistics.stop()
            checkpointer.stop()
            if fetch_worker is not None:
                fetch_worker.stop()
            sweeper.stop()
            worker.stop()
            app.state.journey.close()
            app.state.analyzer.close()
            app.state.db.dispose()
            close_all(ingest_siblings, otel_siblings)

    app = FastAPI(title="sessionary", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    # Integration secrets are sealed under the server secret, which integrations/ may not import (layers):
    # routes and webhooks get their Sealer from here (an integrations.secrets.SealerSource).
    app.state.sealers = AppSealers(app.state)
    ingest_router = ingest_routes.build_router(
        max_events=settings.ingest_max_events,
        concurrency=settings.ingest_concurrency,
        siblings=ingest_siblings,
    )
    app.include_router(ingest_router)
    app.include_router(
        otel_routes.build_router(
            max_bytes=settings.otel_max_bytes,
            max_spans=settings.otel_max_spans,
            concurrency=settings.otel_concurrency,
            max_waiting=settings.otel_max_waiting,
            siblings=otel_siblings,
        )
    )
    app.include_router(transcripts_routes.router)
    app.include_router(debug_routes.router)
    app.include_router(analysis_routes.router)
    app.include_router(labels_routes.build_router(max_limit=settings.list_max_limit))
    # Before the sessions router: its /{session_id} would take "search" for an id.
    app.include_router(search_routes.build_router(settings))
    app.include_router(sessions_routes.build_router(max_limit=settings.list_max_limit))
    app.include_router(lifecycle_routes.router)  # DELETE /api/v1/sessions/{session_id}
    app.include_router(recordings_routes.router)  # its upload streams and bounds its own size
    app.include_router(conversations_routes.build_router(max_limit=settings.list_max_limit))
    app.include_router(events_routes.build_router(max_limit=settings.list_max_limit))
    app.include_router(metrics_routes.router)
    app.include_router(retention_routes.router)
    app.include_router(journey_routes.build_router())
    app.include_router(webhooks_routes.build_router(settings))
    app.include_router(
        integrations_routes.build_router(public_url=settings.public_url, max_limit=settings.list_max_limit)
    )
    app.include_router(erasure_routes.router)
    app.include_router(keys_routes.build_router(max_limit=settings.list_max_limit))
    app.include_router(audit_routes.build_router(max_limit=settings.list_max_limit))
    read_rule = ReadRule(timeout=settings.body_read_timeout_seconds, min_rate=settings.body_read_min_rate)
    app.add_middleware(
        BodyLimitMiddleware,
        limits={
            ingest_routes.EVENTS_PATH: settings.ingest_max_bytes,
            otel_routes.TRACES_PATH: settings.otel_max_bytes,
            recordings_routes.RECORDINGS_PATH: None,  # streamed, bounded by its route (recordings/upload.py)
        },
        prefixes={webhooks_routes.PREFIX: settings.webhook_max_bytes},
        default=settings.body_max_bytes,
        rule=read_rule,
    )
    app.add_middleware(ControlCharacterPathMiddleware)
    add_component_schemas(
        app, IngestBatch, SessionLabelCreate, IntegrationCreate, KeyCreate, WebEventRequest, AppEventRequest
    )
    document_ingest(app)
    # /api/v2 answers errors as Genesys ErrorBody, the rest of the API as Syllable {"detail": ...}.
    # /otel/ answers errors as an OTLP google.rpc.Status.
    otel_face = otel_routes.per_face
    app.add_exception_handler(
        SessionaryError, otel_face(genesys.per_face(syllable.domain_error, genesys.domain_error))
    )
    app.add_exception_handler(
        RequestValidationError,
        otel_face(genesys.per_face(syllable.validation_error, genesys.validation_error)),
    )
    app.add_exception_handler(
        StarletteHTTPException, otel_face(genesys.per_face(http_exception_handler, genesys.http_error))
    )
    mount_console(app, settings)
    # In front of every layer: the browser-facing journey ingest paths skip the rest (journey/api/fastpath).
    serve_first(app, max_bytes=settings.journey_max_body_bytes, rule=read_rule)
    secure_everything(app)  # outermost: security headers on every response (security_headers.py)

    @app.get("/healthz", tags=["meta"], include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (each worker process builds its own app and engine)."""
    return create_app(Settings())
