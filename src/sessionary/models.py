"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from sessionary.analysis.models import SessionAnalysis, SessionSummary
from sessionary.audit.models import AuditEntry
from sessionary.console.models import ConsoleSession
from sessionary.conversations.models import Conversation
from sessionary.eventlog.models import Event
from sessionary.integrations.models import Integration
from sessionary.journey.models import (
    Contact,
    ContactIdentifier,
    Customer,
    Deployment,
    JourneyEvent,
    JourneySession,
    Rule,
    ShortIdClaim,
)
from sessionary.labels.models import SessionLabel
from sessionary.lifecycle.models import PurgeState, RetentionPolicy
from sessionary.metrics.models import MetricsOrgState, MetricsRollup, MetricsSegment, MetricsSessionState
from sessionary.notable.models import NotableEvent
from sessionary.otel.models import OtelPendingSpan, OtelTrace
from sessionary.recordings.models import BlobDeletion, Recording, RecordingFetch, ServerSecret
from sessionary.sessions.models import Session
from sessionary.tenancy.models import ApiKey, AuthFailureCounter, Organization

__all__ = [
    "ApiKey",
    "AuditEntry",
    "BlobDeletion",
    "AuthFailureCounter",
    "ConsoleSession",
    "Contact",
    "ContactIdentifier",
    "Conversation",
    "Customer",
    "Deployment",
    "Event",
    "Integration",
    "JourneyEvent",
    "JourneySession",
    "MetricsOrgState",
    "MetricsRollup",
    "MetricsSegment",
    "MetricsSessionState",
    "NotableEvent",
    "OtelPendingSpan",
    "OtelTrace",
    "Organization",
    "PurgeState",
    "Recording",
    "RecordingFetch",
    "RetentionPolicy",
    "Rule",
    "ServerSecret",
    "Session",
    "SessionAnalysis",
    "SessionLabel",
    "SessionSummary",
    "ShortIdClaim",
]
