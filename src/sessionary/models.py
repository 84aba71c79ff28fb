"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from sessionary.console.models import ConsoleSecret
from sessionary.conversations.models import Conversation
from sessionary.ingest.models import Event
from sessionary.labels.models import SessionLabel
from sessionary.metrics.models import MetricsOrgState, MetricsRollup, MetricsSegment, MetricsSessionState
from sessionary.sessions.models import Session
from sessionary.tenancy.models import ApiKey, Organization

__all__ = [
    "ApiKey",
    "ConsoleSecret",
    "Conversation",
    "Event",
    "MetricsOrgState",
    "MetricsRollup",
    "MetricsSegment",
    "MetricsSessionState",
    "Organization",
    "Session",
    "SessionLabel",
]
