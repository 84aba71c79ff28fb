"""The `sessionary` command: thin commands around service calls, one transaction each."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from sessionary import db_stats, migrate
from sessionary.audit.service import Actor
from sessionary.config import Settings
from sessionary.console.cli import checked_settings, secret_app
from sessionary.db import open_database, session_scope
from sessionary.errors import SessionaryError
from sessionary.gc_tuning import tune_gc
from sessionary.journey.cli import deployments_app, outcomes_app, segments_app
from sessionary.journey.intake import importer as journey_importer
from sessionary.journey.intake.ingest import Enricher
from sessionary.keys.cli import keys_app
from sessionary.lifecycle.cli import audit_app, erase
from sessionary.lifecycle.retention_cli import retention_app
from sessionary.sessions.filters import Direction, LabelCodeFilter, SessionFilter
from sessionary.tenancy import service as tenancy

NATIVE_BATCH = 5000
# Journey events touch customers and sessions all over the tables: bigger transactions write each page
# they change fewer times (measured: 25,000 per transaction took a third less commit time than 5,000).
JOURNEY_BATCH = 25_000

app = typer.Typer(help="sessionary: record, search and serve conversation sessions.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
metrics_app = typer.Typer(help="The overview metrics.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(metrics_app, name="metrics")
app.add_typer(deployments_app, name="deployments", no_args_is_help=True)
app.add_typer(segments_app, name="segments", no_args_is_help=True)
app.add_typer(outcomes_app, name="outcomes", no_args_is_help=True)
app.add_typer(secret_app, name="secret", no_args_is_help=True)
app.add_typer(retention_app, name="retention", no_args_is_help=True)
integrations_app = typer.Typer(help="Voice platforms (Twilio, Vapi, Retell) reporting calls by webhook.")
add_app = typer.Typer(help="Connect a voice platform: prints its webhook URL last.")
integrations_app.add_typer(add_app, name="add", no_args_is_help=True)
app.add_typer(integrations_app, name="integrations", no_args_is_help=True)
app.command("erase")(erase)
app.add_typer(audit_app, name="audit")
err = Console(stderr=True)

Host = Annotated[str, typer.Option(help="Interface to listen on.")]
Port = Annotated[int, typer.Option(help="TCP port.")]


HTTP_PROTOCOL = "sessionary.http_head:BoundedHeadProtocol"
# The server (uvicorn), the integrations (which load the API's listing, hence FastAPI) and the native
# importer are imported by the commands that use them: every command, and each helper process of a journey
# import (which imports this module again), would load them otherwise, a second of start-up.


@app.command()
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes sharing the database.")] = 1,
) -> None:
    """Migrate the database (SESSIONARY_DATABASE_URL), then serve the APIs."""
    settings = checked_settings()  # e.g. a weak SESSIONARY_SECRET_KEY: refused before anything starts
    migrate.upgrade(settings.database_url)
    _serve(host, port, workers, keep_alive=settings.keep_alive_seconds)


def _serve(host: str, port: int, workers: int, *, keep_alive: int) -> None:
    """uvicorn: idle keep-alive connections close after `keep_alive` s; request heads are bounded in size
    and read time by http_head.py, bodies by body_limit.py; connections per client are left to a reverse
    proxy (README, Production)."""
    level = os.environ.get("SESSIONARY_LOG_LEVEL", "info")
    if workers > 1:
        # The parent only supervises the workers: it becomes a bare uvicorn (same pid, same environment)
        # instead of keeping the ~60 MB of modules this command imported to migrate.
        sys.stdout.flush()
        sys.stderr.flush()
        args = ["--factory", "--host", host, "--port", str(port), "--workers", str(workers)]
        command = ["-m", "uvicorn", "sessionary.app:create_app_from_env", *args]
        extra = ["--log-level", level, "--no-access-log", "--no-proxy-headers"]  # see proxy_headers below
        extra += ["--timeout-keep-alive", str(keep_alive), "--http", HTTP_PROTOCOL]
        os.execv(sys.executable, [sys.executable, *command, *extra])
    import uvicorn  # noqa: PLC0415 (see HTTP_PROTOCOL)

    uvicorn.run(
        "sessionary.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=level,
        access_log=False,
        proxy_headers=False,  # X-Forwarded-For is read by sessionary itself, from trusted proxies only
        timeout_keep_alive=keep_alive,
        http=HTTP_PROTOCOL,
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = Settings()
    migrate.upgrade(settings.database_url)
    typer.echo(f"database is up to date: {_safe_url(settings.database_url)}")
    database = open_database(settings.database_url, pool_size=1)
    try:
        for warning in db_stats.setting_warnings(database):
            typer.echo(f"warning: {warning}", err=True)
    finally:
        database.dispose()


IntegrationOrg = Annotated[str, typer.Option("--org", help="Organization name (created if new).")]
IntegrationName = Annotated[str | None, typer.Option(help="A name to tell this integration apart.")]


def _secret_option(flag: str, what: str) -> typer.models.OptionInfo:
    """A provider secret's option: prompted for with hidden input when omitted (out of shell history)."""
    help_text = f"{what} (prompted for, hidden, if omitted)."
    return typer.Option(flag, prompt=what, hide_input=True, help=help_text)


@add_app.command("twilio")
def integrations_add_twilio(
    org: IntegrationOrg,
    auth_token: Annotated[str, _secret_option("--auth-token", "Twilio auth token")],
    name: IntegrationName = None,
) -> None:
    """Connect Twilio: its auth token checks each webhook's X-Twilio-Signature."""
    _connect(org, "twilio", auth_token, name)


@add_app.command("vapi")
def integrations_add_vapi(
    org: IntegrationOrg,
    secret: Annotated[str, _secret_option("--secret", "Vapi server secret")],
    name: IntegrationName = None,
) -> None:
    """Connect Vapi: the server secret it sends in each webhook's X-Vapi-Secret."""
    _connect(org, "vapi", secret, name)


@add_app.command("retell")
def integrations_add_retell(
    org: IntegrationOrg,
    api_key: Annotated[str, _secret_option("--api-key", "Retell API key")],
    name: IntegrationName = None,
) -> None:
    """Connect Retell: its API key checks each webhook's X-Retell-Signature."""
    _connect(org, "retell", api_key, name)


def _connect(org: str, provider: str, secret: str, name: str | None) -> None:
    from sessionary import sealing  # noqa: PLC0415 (see HTTP_PROTOCOL)
    from sessionary.integrations import service as integrations  # noqa: PLC0415

    settings = checked_settings()  # SESSIONARY_PUBLIC_URL is checked here
    migrate.upgrade(settings.database_url)
    database = open_database(settings.database_url, pool_size=1)
    try:
        with session_scope(database.writer) as db:
            organization = tenancy.get_or_create_organization(db, name=org)
            connected = integrations.connect_audited(
                db,
                sealing.sealer_in(db, settings.secret_key),
                actor=Actor.cli(organization.id),
                provider=provider,
                secret=secret,
                public_url=settings.public_url,
                name=name,
            )
    except SessionaryError as exc:
        raise _fail(exc.detail) from None
    finally:
        database.dispose()
    typer.echo(f"organization: {organization.name}\nprovider: {provider}\nid: {connected.integration.id}")
    typer.echo(f"webhook URL, shown only now: paste it into {provider}'s settings")
    typer.echo(connected.webhook_url)


_LISTED = "{:>6}  {:8}  {:13}  {:20}  {:10}  {}"  # id, provider, token prefix, created, secret, name


@integrations_app.command("list")
def integrations_list(org: Annotated[str, typer.Option(help="Organization name.")]) -> None:
    """The organization's integrations (never their secrets); UNREADABLE flags one whose secret the
    server secret no longer opens (SESSIONARY_SECRET_KEY changed): remove it and add it again."""
    from sessionary import sealing  # noqa: PLC0415 (see HTTP_PROTOCOL)
    from sessionary.integrations import service as integrations  # noqa: PLC0415

    settings = checked_settings()
    migrate.upgrade(settings.database_url)
    database = open_database(settings.database_url, pool_size=1)
    try:
        sealer = sealing.stored_sealer(database, settings.secret_key)
        with session_scope(database.reader) as db:
            organization = tenancy.find_organization(db, name=org)
            if organization is None:
                raise _fail(f"no organization named '{org}'")
            rows = integrations.list_integrations(db, organization_id=organization.id)
            lines = [(row, integrations.readable(sealer, row)) for row in rows]
    finally:
        database.dispose()
    typer.echo(_LISTED.format("id", "provider", "token", "created", "secret", "name"))
    for row, ok in lines:
        created = row.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        status = "ok" if ok else "UNREADABLE"
        token = row.token_prefix + "..."
        typer.echo(_LISTED.format(row.id, row.provider, token, created, status, row.name or ""))
    unreadable = sum(1 for _row, ok in lines if not ok)
    if unreadable:
        err.print(
            f"{unreadable} integration secrets do not open under the current server secret "
            "(SESSIONARY_SECRET_KEY changed without `sessionary secret rotate`): remove each with "
            "`sessionary integrations remove` and add it again (a new webhook URL for the provider)"
        )


@integrations_app.command("remove")
def integrations_remove(
    org: Annotated[str, typer.Option(help="Organization name.")],
    integration_id: Annotated[int, typer.Argument(metavar="ID", help="The integration's id (see list).")],
) -> None:
    """Remove an integration: its webhook URL answers 404 from now on."""
    from sessionary.integrations import service as integrations  # noqa: PLC0415 (see HTTP_PROTOCOL)

    settings = checked_settings()
    migrate.upgrade(settings.database_url)
    database = open_database(settings.database_url, pool_size=1)
    try:
        with session_scope(database.writer) as db:
            organization = tenancy.find_organization(db, name=org)
            if organization is None:
                raise _fail(f"no organization named '{org}'")
            integrations.remove_audited(db, actor=Actor.cli(organization.id), integration_id=integration_id)
    except SessionaryError as exc:
        raise _fail(exc.detail) from None
    finally:
        database.dispose()
    typer.echo(f"removed integration {integration_id} of {org}: its webhook URL answers 404 from now on")


@app.command("import")
def import_(
    file: Annotated[
        Path | None, typer.Argument(exists=True, dir_okay=False, help="Native events, one JSON per line.")
    ] = None,
    org: Annotated[
        str | None, typer.Option(help="Organization the native events belong to (created if new).")
    ] = None,
    journey: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Journey web/app events (JSONL), of any age."),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            min=1, max=100_000, help="Lines per transaction (default: 5,000 native, 25,000 journey)."
        ),
    ] = None,
    helpers: Annotated[
        int | None,
        typer.Option(
            min=0, max=32, help="Journey: processes that parse and enrich lines (default: cores - 1)."
        ),
    ] = None,
) -> None:
    """Import native events (--org NAME FILE) or journey events (--journey FILE); re-running a native
    import is harmless."""
    if journey is not None:
        _import_journey(
            journey,
            batch_size or JOURNEY_BATCH,
            max(0, (os.cpu_count() or 1) - 1) if helpers is None else helpers,
        )
        return
    if org is None or file is None:
        raise _fail("give --org NAME and FILE for native events, or --journey FILE")
    from sessionary.ingest import importer  # noqa: PLC0415 (see HTTP_PROTOCOL)

    tune_gc()
    settings = Settings()
    migrate.upgrade(settings.database_url)
    database = open_database(settings.database_url, pool_size=1)
    try:
        with session_scope(database.writer) as db:
            organization_id = tenancy.get_or_create_organization(db, name=org).id
        with file.open("rb") as stream, _progress() as (bar, task):
            bar.update(task, total=file.stat().st_size)
            totals = importer.import_events(
                database,
                organization_id=organization_id,
                stream=stream,
                batch_size=batch_size or NATIVE_BATCH,
                progress=lambda n: bar.advance(task, n),
            )
    except SessionaryError as exc:
        raise _fail(f"{exc.detail}; nothing of that batch was stored") from None
    finally:
        database.dispose()
    typer.echo(f"imported {totals.lines} events: {totals.inserted} new, {totals.duplicates} duplicates")


def _import_journey(file: Path, batch_size: int, helpers: int) -> None:
    tune_gc()
    settings = Settings()
    migrate.upgrade(settings.database_url)
    database = open_database(settings.database_url, pool_size=1)
    enricher = Enricher.from_settings(settings)
    try:
        with file.open("rb") as stream, _progress() as (bar, task):
            bar.update(task, total=file.stat().st_size)
            totals = journey_importer.import_events(
                database,
                stream=stream,
                enricher=enricher,
                batch_size=batch_size,
                progress=lambda n: bar.advance(task, n),
                helpers=helpers,
                settings=settings,
            )
    except SessionaryError as exc:
        raise _fail(f"{exc.detail}; nothing of that batch was stored") from None
    finally:
        enricher.close()
        database.dispose()
    typer.echo(f"imported {totals.events} journey events")


@contextmanager
def _progress() -> Iterator[tuple[Progress, TaskID]]:
    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err) as bar:
        yield bar, bar.add_task("import", total=None)


@app.command()
def analyze(
    org: Annotated[str | None, typer.Option(help="Only this organization's sessions.")] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Every ended session again, not just the due ones.")
    ] = False,
) -> None:
    """Rate and summarize the ended sessions that are due now (what the server's worker does)."""
    from sessionary.analysis import service as analysis

    settings = Settings()
    migrate.upgrade(settings.database_url)
    database = open_database(settings.database_url, pool_size=1)
    analyzer = replace(analysis.Analyzer.from_settings(settings), delay=timedelta(0))  # due now is due
    try:
        organization_id = None
        if org is not None:
            with session_scope(database.reader) as db:
                found = tenancy.find_organization(db, name=org)
            if found is None:
                raise _fail(f"no organization named {org!r}")
            organization_id = found.id
        marked = analysis.mark_all(database, organization_id=organization_id) if all_ else 0
        done = analysis.process_due(database, analyzer=analyzer, organization_id=organization_id)
    finally:
        analyzer.close()
        database.dispose()
    typer.echo(f"analyzed {done} sessions" + (f" ({marked} marked)" if all_ else ""))


@app.command()
def demo(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    sessions: Annotated[int, typer.Option(min=1, help="Sessions to generate on first run.")] = 3000,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve when done.")] = True,
) -> None:
    """Create a demo organization with realistic sessions, print a key, and serve."""
    from sessionary.demo import generator
    from sessionary.recordings.stores import open_blob_store

    settings = Settings()
    migrate.upgrade(settings.database_url)
    database = open_database(settings.database_url, pool_size=1)
    try:
        made = generator.ensure_demo(database, open_blob_store(settings), sessions=sessions, console=err)
        with session_scope(database.writer) as db:
            org = tenancy.get_or_create_organization(db, name=generator.DEMO_ORG)
            _row, clear = tenancy.create_api_key(db, organization_id=org.id, scopes=["admin"])
    finally:
        database.dispose()
    typer.echo(f"demo organization '{generator.DEMO_ORG}': {made} sessions")
    typer.echo(f"try: curl -H 'Syllable-API-Key: {clear}' http://{host}:{port}/api/v1/sessions/")
    typer.echo(f"API key (admin): {clear}")
    if serve_after:
        _serve(host, port, 1, keep_alive=settings.keep_alive_seconds)


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


@app.command("export")
def export_(
    org: Annotated[str, typer.Option(help="Organization name.")],
    output: Annotated[Path, typer.Option(dir_okay=False, writable=True, help="File to write.")],
    format: Annotated[ExportFormat, typer.Option(help="csv, jsonl or parquet.")] = ExportFormat.csv,
    transcripts: Annotated[bool, typer.Option(help="JSON Lines with each session's transcript.")] = False,
    start: Annotated[str | None, typer.Option(help="Sessions from (ISO 8601, inclusive).")] = None,
    end: Annotated[str | None, typer.Option(help="Sessions before (ISO 8601, exclusive).")] = None,
    channel_type: Annotated[str | None, typer.Option(help="Exact channel_manager_type.")] = None,
    session_type: Annotated[str | None, typer.Option(help="voice, chat, web, app or other.")] = None,
    agent: Annotated[str | None, typer.Option(help="Exact agent_name.")] = None,
    prompt: Annotated[str | None, typer.Option(help="Exact prompt_name.")] = None,
    direction: Annotated[Direction | None, typer.Option(help="inbound or outbound.")] = None,
    test: Annotated[bool | None, typer.Option("--test/--no-test", help="Only / no test sessions.")] = None,
    label_code: Annotated[LabelCodeFilter | None, typer.Option(help="Newest label's code, or none.")] = None,
    min_duration: Annotated[float | None, typer.Option(min=0, help="Seconds.")] = None,
    max_duration: Annotated[float | None, typer.Option(min=0, help="Seconds.")] = None,
    conversation_id: Annotated[str | None, typer.Option(help="Exact conversation_id.")] = None,
) -> None:
    """Export the filtered sessions (newest first), one row per session, streamed to FILE."""
    from sessionary.export import service as export
    from sessionary.listing import parse_datetime

    if transcripts and format is not ExportFormat.jsonl:
        raise _fail("--transcripts writes JSON Lines: use it with --format jsonl")
    try:
        f = SessionFilter(
            start=parse_datetime("--start", start) if start else None,
            end=parse_datetime("--end", end) if end else None,
            channel_type=channel_type,
            session_type=session_type,
            agent=agent,
            prompt=prompt,
            direction=direction,
            is_test=test,
            label_code=label_code,
            min_duration=min_duration,
            max_duration=max_duration,
            conversation_id=conversation_id,
        )
    except SessionaryError as exc:
        raise _fail(exc.detail) from None
    kind = "transcripts" if transcripts else format.value
    settings = Settings()
    migrate.upgrade(settings.database_url)
    database = open_database(settings.database_url, pool_size=1)
    try:
        with session_scope(database.reader) as db:
            organization = tenancy.find_organization(db, name=org)
            if organization is None:
                raise _fail(f"no organization named '{org}'")
            total = export.count(db, organization_id=organization.id, f=f)
            columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with output.open("wb") as sink, Progress(*columns, console=err) as bar:
                task = bar.add_task("export", total=total)
                chunks = export.stream(
                    db,
                    organization_id=organization.id,
                    f=f,
                    kind=kind,
                    progress=lambda n: bar.advance(task, n),
                )
                for chunk in chunks:
                    sink.write(chunk)
    finally:
        database.dispose()
    typer.echo(f"exported {total} sessions to {output}")


@metrics_app.command("refresh")
def metrics_refresh(
    org: Annotated[str, typer.Option(help="Organization name.")],
    rebuild: Annotated[bool, typer.Option(help="Count every session again from its events.")] = False,
) -> None:
    """Roll up every session changed since the last look (after a bulk import, before the first overview);
    with --rebuild, every session (after an upgrade that changed how events are counted)."""
    from sessionary.metrics import catchup

    settings = Settings()
    migrate.upgrade(settings.database_url)
    database = open_database(settings.database_url, pool_size=1)
    try:
        with session_scope(database.writer) as db:
            organization = tenancy.find_organization(db, name=org)
            if organization is None:
                raise _fail(f"no organization named '{org}'")
            roll = catchup.rebuild if rebuild else catchup.catch_up
            done = roll(db, organization_id=organization.id)
    finally:
        database.dispose()
    typer.echo(f"rolled up {done} sessions")


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
