"""journey_event and journey_session: no foreign keys to organization and journey_deployment

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 00:00:00

An event's (and a journey session's) organization and deployment are those of its customer, whose
journey_customer row cascades from both; the customer_id key (and journey_session's session_id key, whose
`session` row cascades from the organization) delete the rows with either. The two redundant keys cost
PostgreSQL a lookup and a share lock of the same organization and deployment rows per inserted row: a
quarter of a journey import's COPY. SQLite rebuilds the two tables (batch mode).
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("journey_event", "journey_session")
_KEYS = (("organization_id", "organization"), ("deployment_id", "journey_deployment"))


def upgrade() -> None:
    """Upgrade schema."""
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, referred in _KEYS:
                batch_op.drop_constraint(op.f(f"fk_{table}_{column}_{referred}"), type_="foreignkey")


def downgrade() -> None:
    """Downgrade schema."""
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, referred in _KEYS:
                batch_op.create_foreign_key(
                    op.f(f"fk_{table}_{column}_{referred}"), referred, [column], ["id"], ondelete="CASCADE"
                )
