"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from sessionary.conversations.models import Conversation
from sessionary.ingest.models import Event
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
from sessionary.sessions.models import Session
from sessionary.tenancy.models import ApiKey, Organization

__all__ = [
    "ApiKey",
    "Contact",
    "ContactIdentifier",
    "Conversation",
    "Customer",
    "Deployment",
    "Event",
    "JourneyEvent",
    "JourneySession",
    "Organization",
    "Rule",
    "Session",
    "SessionLabel",
    "ShortIdClaim",
]
