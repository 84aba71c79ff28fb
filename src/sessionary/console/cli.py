"""`sessionary secret rotate`: new signing secrets, every console session ended, integrations resealed."""

from __future__ import annotations

import typer
from pydantic import ValidationError
from rich.console import Console

from sessionary import migrate, sealing
from sessionary.config import Settings
from sessionary.console import signins
from sessionary.db import open_database, session_scope

secret_app = typer.Typer(
    help="The server secret (signs console cookies and recording URLs, seals integrations' provider secrets)."
)
_err = Console(stderr=True, soft_wrap=True)


def checked_settings() -> Settings:
    """Settings from the environment; a clear message and exit code 1 when one is invalid."""
    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors(include_input=False, include_url=False):
            _err.print(f"[red]error:[/red] {error['msg'].removeprefix('Value error, ')}")
        raise typer.Exit(code=1) from None


@secret_app.command("rotate")
def rotate() -> None:
    """Replace the stored secrets: recording URLs and console cookies made before stop working (every
    console session ends now; server processes use the new secret within 10 seconds); integrations'
    provider secrets are sealed again under the new one in the same transaction, and keep working."""
    settings = checked_settings()
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        _err.print(
            "[red]error:[/red] SESSIONARY_SECRET_KEY is set, so the secret is not stored: give it a new "
            "value and restart every server process (integrations' provider secrets are sealed under it: "
            "after the change, `sessionary integrations list` flags them UNREADABLE; remove and add each "
            "again)"
        )
        raise typer.Exit(code=1)
    migrate.upgrade(settings.database_url)
    database = open_database(settings.database_url, pool_size=1)
    try:
        with session_scope(database.writer) as db:
            names, resealed = sealing.rotate_and_reseal(db)
            ended = signins.end_all(db)
    finally:
        database.dispose()
    typer.echo(f"rotated {len(names)} stored secrets ({', '.join(names) or 'none yet'})")
    typer.echo(f"ended {ended} console sessions; server processes sign with the new secret within 10 s")
    typer.echo(f"resealed {resealed.resealed} integration secrets under the new secret: they keep working")
    if resealed.unreadable:
        typer.echo(
            f"{resealed.unreadable} integration secrets were already unreadable (sealed under another "
            "SESSIONARY_SECRET_KEY) and stay so: `sessionary integrations list` flags them; remove and add "
            "each again"
        )
