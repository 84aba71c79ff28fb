"""Fewer index writes per web/app session: partial name indexes, no journey figures index

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21 14:20:00

A web or app visit has no agent, prompt or conversation, yet each of its `session` rows went into the five
indexes on those columns. They now hold only rows with a value (`WHERE name IS NOT NULL`): a query
`name = ?` implies that, so both databases still use them, and writing a journey session skips them.
The same goes for journey_customer.contact_id: most visitors are never linked to a contact.
ix_journey_session_figures served the overview's journey figures, which the rollups count since 0010.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PARTIAL = {
    "ix_session_org_agent_name": "agent_name",
    "ix_session_org_agent_id": "agent_id",
    "ix_session_org_prompt_name": "prompt_name",
    "ix_session_org_prompt_id": "prompt_id",
    "ix_session_organization_id_conversation_id": "conversation_id",
}
_FIGURES = ("organization_id", "created_date", "referrer_medium", "campaign_name", "pageview_count")


def _rebuild(partial: bool) -> None:
    for name, column in _PARTIAL.items():
        op.drop_index(name, table_name="session")
        where = sa.text(f"{column} IS NOT NULL") if partial else None
        op.create_index(
            name,
            "session",
            ["organization_id", column, "timestamp", "id"],
            sqlite_where=where,
            postgresql_where=where,
        )


def _contacts(partial: bool) -> None:
    op.drop_index("ix_journey_customer_contact_id", table_name="journey_customer")
    where = sa.text("contact_id IS NOT NULL") if partial else None
    op.create_index(
        "ix_journey_customer_contact_id",
        "journey_customer",
        ["contact_id"],
        sqlite_where=where,
        postgresql_where=where,
    )


def upgrade() -> None:
    """Upgrade schema."""
    _rebuild(partial=True)
    _contacts(partial=True)
    op.drop_index("ix_journey_session_figures", table_name="journey_session")


def downgrade() -> None:
    """Downgrade schema."""
    op.create_index("ix_journey_session_figures", "journey_session", list(_FIGURES))
    _contacts(partial=False)
    _rebuild(partial=False)
