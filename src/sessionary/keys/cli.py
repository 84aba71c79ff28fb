"""`sessionary keys create|list|revoke`: the server's own way to manage keys (no key needed), audited as
`cli`. The CLI is not bound by the API's cap on active keys, and may revoke an organization's last admin
key: it can always make another."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from sessionary import clitools
from sessionary.audit.service import Actor
from sessionary.keys import service
from sessionary.listing import parse_datetime
from sessionary.tenancy import service as tenancy

keys_app = typer.Typer(help="API keys.", no_args_is_help=True)

_LISTED = "{:>6}  {:12}  {:18}  {:8}  {:20}  {:20}  {}"  # id, prefix, scopes, status, created, used, expires


@keys_app.command("create")
def keys_create(
    org: Annotated[str, typer.Option(help="Organization name (created if new).")],
    scope: Annotated[list[str], typer.Option(help="ingest, read or admin; repeat for several.")],
    expires_at: Annotated[
        str | None, typer.Option(help="When the key stops working (ISO 8601; naive is UTC); default never.")
    ] = None,
) -> None:
    """Create an API key; the key is printed once, as the last line."""
    with clitools.transaction(write=True) as db:
        when = parse_datetime("expires_at", expires_at) if expires_at is not None else None
        organization = tenancy.get_or_create_organization(db, name=org)
        actor = Actor.cli(organization.id)
        row, clear = service.create(db, actor=actor, scopes=scope, expires_at=when, capped=False)
        typer.echo(f"organization: {organization.name}\nscopes: {row.scopes}")
        if row.expires_at is not None:
            typer.echo(f"expires: {_when(row.expires_at)}")
    typer.echo(clear)


@keys_app.command("list")
def keys_list(org: Annotated[str, typer.Option(help="Organization name.")]) -> None:
    """The organization's keys, newest first, revoked ones too (never a key itself)."""
    with clitools.transaction(write=False) as db:
        rows = service.keys_of(
            db, organization_id=clitools.organization_id(db, org), revoked=True, limit=100_000
        )
        lines = [(row, service.status_of(row)) for row in rows]
    typer.echo(_LISTED.format("id", "prefix", "scopes", "status", "created", "last used", "expires"))
    for row, status in lines:
        used, expires = _when(row.last_used_at), _when(row.expires_at)
        created = _when(row.created_at)
        typer.echo(_LISTED.format(row.id, row.prefix + "...", row.scopes, status, created, used, expires))


@keys_app.command("revoke")
def keys_revoke(
    org: Annotated[str, typer.Option(help="Organization name.")],
    key_id: Annotated[int, typer.Argument(metavar="ID", help="The key's id (see list).")],
) -> None:
    """Revoke a key: it authenticates nothing from now on, in every server process and console."""
    with clitools.transaction(write=True) as db:
        actor = Actor.cli(clitools.organization_id(db, org))
        row = service.revoke(db, actor=actor, key_id=key_id, keep_last_admin=False)
        prefix = row.prefix
    typer.echo(f"revoked key {key_id} ({prefix}...) of {org}: it authenticates nothing from now on")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else "-"
