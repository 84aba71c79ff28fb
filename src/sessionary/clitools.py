"""What the commands of `sessionary` share: the database (migrated first), a transaction on it, an
organization found by name, and a domain error printed as one red line with exit code 1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.orm import Session as DBSession

from sessionary import migrate
from sessionary.config import Settings
from sessionary.db import Database, open_database, session_scope
from sessionary.errors import SessionaryError
from sessionary.tenancy import service as tenancy

err = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """Print `message` as an error; the exit (code 1) to raise."""
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


@contextmanager
def database(*, pool_size: int = 1) -> Iterator[tuple[Settings, Database]]:
    """The settings and the migrated database; a domain error raised inside ends the command (exit 1)."""
    settings = Settings()
    migrate.upgrade(settings.database_url)
    opened = open_database(settings.database_url, pool_size=pool_size)
    try:
        yield settings, opened
    except SessionaryError as exc:
        raise fail(exc.detail) from None
    finally:
        opened.dispose()


@contextmanager
def transaction(*, write: bool) -> Iterator[DBSession]:
    """One transaction on the migrated database (a writer's or a reader's), committed at the end."""
    with database() as (_settings, opened), session_scope(opened.writer if write else opened.reader) as db:
        yield db


def organization_id(db: DBSession, name: str) -> int:
    """The id of the organization called `name` (exit 1 when there is none)."""
    organization = tenancy.find_organization(db, name=name)
    if organization is None:
        raise fail(f"no organization named '{name}'")
    return organization.id
