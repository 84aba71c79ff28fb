"""`sessionary deployments|segments|outcomes create`: thin commands around the journey services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from sessionary import clitools
from sessionary.journey import deployments, rules
from sessionary.tenancy import service as tenancy

deployments_app = typer.Typer(help="Journey deployments (web sites and apps sending events).")
segments_app = typer.Typer(help="Journey segments: rules over session fields.")
outcomes_app = typer.Typer(help="Journey outcomes: rules over session fields.")

Org = Annotated[str, typer.Option(help="Organization name (created if new).")]
Name = Annotated[str, typer.Option(help="Display name.")]


@deployments_app.command("create")
def deployments_create(
    org: Org,
    name: Name,
    allowed_domain: Annotated[
        list[str] | None, typer.Option(help="Page host allowed to send web events (repeat); none = any.")
    ] = None,
    inactivity_timeout: Annotated[
        int, typer.Option(min=1, help="Seconds of inactivity ending a session.")
    ] = (deployments.SessionRules.inactivity_timeout_seconds),
    short_id_length: Annotated[int, typer.Option(min=4, max=6, help="Digits of a session shortId.")] = (
        deployments.SessionRules.short_id_length
    ),
) -> None:
    """Create a deployment; its id is printed as the last line."""
    with clitools.transaction(write=True) as db:
        organization = tenancy.get_or_create_organization(db, name=org)
        session_rules = deployments.SessionRules(
            inactivity_timeout_seconds=inactivity_timeout, short_id_length=short_id_length
        )
        row = deployments.create_deployment(
            db,
            organization_id=organization.id,
            name=name,
            allowed_domains=allowed_domain or [],
            rules=session_rules,
        )
        typer.echo(
            f"organization: {organization.name}\nallowed domains: {', '.join(row.allowed_domains) or 'any'}"
        )
        created = row.id
    typer.echo(created)


def _rule_command(kind: str) -> Callable[..., None]:
    def create(
        org: Org,
        name: Name,
        when: Annotated[
            list[str],
            typer.Option(help="A condition such as 'referrer.medium == search' (repeat: all must hold)."),
        ],
    ) -> None:
        with clitools.transaction(write=True) as db:
            organization = tenancy.get_or_create_organization(db, name=org)
            row = rules.create_rule(
                db, organization_id=organization.id, kind=kind, name=name, conditions=when
            )
            created = row.id
        typer.echo(created)

    create.__doc__ = f"Create a {kind}; its id is printed as the last line."
    return create


segments_app.command("create")(_rule_command("segment"))
outcomes_app.command("create")(_rule_command("outcome"))
