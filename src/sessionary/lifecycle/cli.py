"""`sessionary erase` (erase a person, in batches, after showing what goes) and `sessionary audit prove`."""

from __future__ import annotations

from typing import Annotated

import typer

from sessionary import clitools
from sessionary.audit.service import Actor
from sessionary.db import Database, session_scope
from sessionary.lifecycle import erasure
from sessionary.lifecycle.proof import Target, erasures_of, target_of
from sessionary.recordings import blobgc
from sessionary.recordings.blobs import BlobStore
from sessionary.recordings.stores import open_blob_store

BATCH = 5_000  # sessions per write transaction: ingest keeps flowing between batches
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)

OrgName = Annotated[str, typer.Option("--org", help="Organization name.")]
Phone = Annotated[str | None, typer.Option("--phone", help="A phone number, any format.")]
Email = Annotated[str | None, typer.Option("--email", help="An email address.")]
Cookie = Annotated[str | None, typer.Option("--cookie", help="A journey customer cookie id.")]
ContactId = Annotated[str | None, typer.Option("--contact", help="A journey external contact id.")]


def erase(
    org: OrgName,
    phone: Phone = None,
    email: Email = None,
    cookie: Cookie = None,
    contact: ContactId = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before erasing.")] = False,
) -> None:
    """Erase a person (every session, journey contact and customer of theirs): shows what would be erased
    and asks, unless --yes. Audited with a salted hash of the identifier, never the identifier."""
    given = {"phone": phone, "email": email, "customer_cookie_id": cookie, "contact_id": contact}
    with clitools.database(pool_size=2) as (settings, database):
        organization_id = _organization(database, org)
        target = target_of(given, region=settings.journey_phone_region)
        found = erasure.find(
            database,
            organization_id=organization_id,
            target=target,
            region=settings.journey_phone_region,
            cap=None,
        )
        typer.echo(_preview(found))
        if not yes and not typer.confirm("Erase all of this?", default=False):
            raise typer.Exit(code=1)
        store = open_blob_store(settings)
        erased = erasure.erase(
            database,
            actor=Actor.cli(organization_id),
            target=target,
            found=found,
            batch=BATCH,
            drained=lambda keys: _drain(database, store, keys),
        )
    typer.echo(f"erased: {_counts(erased)}\nproof: {erased.proof}")


@audit_app.command("prove")
def audit_prove(
    org: OrgName,
    phone: Phone = None,
    email: Email = None,
    cookie: Cookie = None,
    contact: ContactId = None,
) -> None:
    """Say whether the audit trail holds an erasure of this identifier (exit code 1 when it does not)."""
    given = {"phone": phone, "email": email, "customer_cookie_id": cookie, "contact_id": contact}
    with clitools.database(pool_size=2) as (settings, database):
        organization_id = _organization(database, org)
        target: Target = target_of(given, region=settings.journey_phone_region)
        with session_scope(database.reader) as db:
            found = erasures_of(db, organization_id=organization_id, target=target)
    if not found:
        typer.echo(f"no erasure of this {target.kind} is recorded for {org}")
        raise typer.Exit(code=1)
    for entry_id, at in found:
        typer.echo(f"erased: audit entry {entry_id} at {at.isoformat()}")


def _organization(database: Database, name: str) -> int:
    with session_scope(database.reader) as db:
        return clitools.organization_id(db, name)


def _drain(database: Database, store: BlobStore, keys: list[str]) -> None:
    if keys:
        blobgc.drain(database, store, keys)


def _preview(found: erasure.Found) -> str:
    sessions = ", ".join(f"{count} {kind}" for kind, count in found.sessions.items())
    who = found.person
    return (
        f"would erase: {len(found.session_ids) + len(found.visit_ids)} sessions ({sessions}), "
        f"{len(who.contacts)} contacts, {len(who.customers)} customers"
    )


def _counts(erased: erasure.Erased) -> str:
    sessions = ", ".join(f"{count} {kind}" for kind, count in erased.sessions.items())
    return (
        f"{sum(erased.sessions.values())} sessions ({sessions}), {erased.events} events, "
        f"{erased.recordings} recordings, {erased.contacts} contacts, {erased.customers} customers, "
        f"{erased.journey_events} journey events"
    )
