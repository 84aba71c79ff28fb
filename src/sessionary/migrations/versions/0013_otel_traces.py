"""OpenTelemetry traces: each trace's session key, and spans waiting for it

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 09:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import sessionary.db_types  # noqa: F401  (portable column types used by autogenerate)

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "otel_trace",
        sa.Column("organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("channel_manager_service", sa.String(length=200), nullable=True),
        sa.Column("channel_manager_sid", sa.String(length=200), nullable=True),
        sa.Column("created_at", sessionary.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_otel_trace_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", "trace_id", name=op.f("pk_otel_trace")),
    )
    op.create_table(
        "otel_pending_span",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("received_at", sessionary.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "events",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_otel_pending_span_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_otel_pending_span")),
    )
    with op.batch_alter_table("otel_pending_span", schema=None) as batch_op:
        batch_op.create_index(
            "ix_otel_pending_span_organization_id_trace_id", ["organization_id", "trace_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_otel_pending_span_received_at"), ["received_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("otel_pending_span", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_otel_pending_span_received_at"))
        batch_op.drop_index("ix_otel_pending_span_organization_id_trace_id")
    op.drop_table("otel_pending_span")
    op.drop_table("otel_trace")
