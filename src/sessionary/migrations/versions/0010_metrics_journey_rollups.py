"""metrics_session_state: journey figures, and snapshots that outlive their session

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 13:33:09.908687

The overview's journey figures (journey sessions, page views, referrer media, campaigns) move into the
rollups, so each snapshot records the journey figures it counted. A snapshot no longer goes with its
session (the cascade is dropped): live_session_id, set NULL by the database when the session is deleted,
lets the catch-up take the deleted session's share out.

Organizations with journey sessions get their rollups recounted: their rollup rows, snapshots and
catch-up mark are dropped, so the next catch-up (`sessionary metrics refresh`, or the next overview)
rolls up each of their sessions again, journey figures included. Their old rollups may also still count
journey sessions deleted before this revision, whose snapshots went with them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("metrics_rollup", "metrics_session_state", "metrics_org_state")
_JOURNEY_ORGS = "SELECT DISTINCT organization_id FROM journey_session"


def upgrade() -> None:
    """Upgrade schema."""
    for table in _TABLES:
        op.execute(sa.text(f"DELETE FROM {table} WHERE organization_id IN ({_JOURNEY_ORGS})"))
    with op.batch_alter_table("metrics_session_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("live_session_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.add_column(sa.Column("pageview_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("referrer_medium", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("campaign_name", sa.String(length=200), nullable=True))
        batch_op.drop_constraint("fk_metrics_session_state_session_id_session", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_metrics_session_state_live_session_id_session",
            "session",
            ["live_session_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.execute(sa.text("UPDATE metrics_session_state SET live_session_id = session_id"))
    op.create_index(
        "ix_metrics_session_state_live_session_id",
        "metrics_session_state",
        ["live_session_id", "organization_id"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema: every organization's rollups are recounted by the next catch-up."""
    for table in _TABLES:
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.drop_index("ix_metrics_session_state_live_session_id", table_name="metrics_session_state")
    with op.batch_alter_table("metrics_session_state", schema=None) as batch_op:
        batch_op.drop_constraint("fk_metrics_session_state_live_session_id_session", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_metrics_session_state_session_id_session",
            "session",
            ["session_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.drop_column("campaign_name")
        batch_op.drop_column("referrer_medium")
        batch_op.drop_column("pageview_count")
        batch_op.drop_column("live_session_id")
