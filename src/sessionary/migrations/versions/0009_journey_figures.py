"""journey_session referrer_medium and campaign_name columns for the overview's journey figures

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 13:05:00.000000

The two columns copy `state`'s referrer.medium and mktCampaign.name (cut to 200 characters, as
journey.writer.figure_columns does for new rows); the index makes the figures an index-only grouped scan.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LENGTH = 200
_BACKFILL = {
    "sqlite": (
        "UPDATE journey_session SET "
        "referrer_medium = substr(json_extract(state, '$.referrer.medium'), 1, {n}), "
        "campaign_name = substr(json_extract(state, '$.mktCampaign.name'), 1, {n})"
    ),
    "postgresql": (
        "UPDATE journey_session SET "
        "referrer_medium = left(state -> 'referrer' ->> 'medium', {n}), "
        "campaign_name = left(state -> 'mktCampaign' ->> 'name', {n})"
    ),
}


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("journey_session", sa.Column("referrer_medium", sa.String(length=_LENGTH), nullable=True))
    op.add_column("journey_session", sa.Column("campaign_name", sa.String(length=_LENGTH), nullable=True))
    dialect = op.get_bind().dialect.name
    op.execute(sa.text(_BACKFILL[dialect].format(n=_LENGTH)))
    op.create_index(
        "ix_journey_session_figures",
        "journey_session",
        ["organization_id", "created_date", "referrer_medium", "campaign_name", "pageview_count"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_journey_session_figures", table_name="journey_session")
    with op.batch_alter_table("journey_session") as batch_op:
        batch_op.drop_column("campaign_name")
        batch_op.drop_column("referrer_medium")
