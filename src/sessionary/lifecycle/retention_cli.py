"""`sessionary retention show|set`: an organization's retention periods from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from sessionary import clitools
from sessionary.audit.service import Actor
from sessionary.lifecycle import policy

retention_app = typer.Typer(help="Retention periods: how long an organization keeps its sessions.")
_KEEP = "keep"  # an option left out keeps its current value

Org = Annotated[str, typer.Option(help="Organization name.")]


def _days(value: str, option: str) -> int | None:
    """`none` (kept forever) or a number of days."""
    if value.strip().lower() == "none":
        return None
    try:
        return int(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a number of days nor 'none'", param_hint=option) from None


def _show(org: str, found: policy.Policy) -> str:
    def days(value: int | None) -> str:
        return "forever" if value is None else f"{value} days"

    sessions, content = days(found.retention_days), days(found.content_retention_days)
    return f"{org}: sessions kept {sessions}, content kept {content}"


@retention_app.command("show")
def retention_show(org: Org) -> None:
    """The organization's retention periods."""
    with clitools.transaction(write=False) as db:
        found = policy.policy_of(db, organization_id=clitools.organization_id(db, org))
    typer.echo(_show(org, found))


@retention_app.command("set")
def retention_set(
    org: Org,
    days: Annotated[str, typer.Option(help="Days whole sessions are kept, or 'none' (forever).")] = _KEEP,
    content_days: Annotated[
        str,
        typer.Option(help="Days their content (transcripts, tool payloads, recordings) is kept, or 'none'."),
    ] = _KEEP,
) -> None:
    """Set the organization's retention periods (an option left out keeps its value); audited as the CLI."""
    with clitools.transaction(write=True) as db:
        organization_id = clitools.organization_id(db, org)
        now = policy.policy_of(db, organization_id=organization_id)
        found = policy.set_policy(
            db,
            actor=Actor.cli(organization_id),
            retention_days=now.retention_days if days == _KEEP else _days(days, "--days"),
            content_retention_days=(
                now.content_retention_days if content_days == _KEEP else _days(content_days, "--content-days")
            ),
        )
    typer.echo(_show(org, found))
