"""Journey (Genesys-compatible web/app) tables: deployments, customers, their events, the journey extension
of a `session` row, short-id claims, contacts and the organization's segment/outcome rules.

A journey session *is* a `session` row (session_type web/app, channel_manager_service "journey"), so the
/api/v1 face lists it unchanged; `journey_session` holds what only the /api/v2 face shows. Events are stored
once and never changed: a session is a window (first event .. last event) over its customer's timeline.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from sessionary.db import Base
from sessionary.db_types import BigIntPK, JSONType, UTCDateTime
from sessionary.sessions.models import Session

_S = 200
_UUID = 36

# Contacts find the conversation (voice/chat) sessions whose `source` is one of their phones or emails.
Index("ix_session_organization_id_source", Session.organization_id, Session.source)


class Deployment(Base):
    __tablename__ = "journey_deployment"

    id: Mapped[str] = mapped_column(String(_UUID), primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(_S))
    # Hosts (and their subdomains) web events may come from; empty = any.
    allowed_domains: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Sessionization settings overriding the defaults (see journey.deployments.SessionRules).
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Customer(Base):
    """One tracked visitor (a cookie or app install) of a deployment; the lock for its sessionization."""

    __tablename__ = "journey_customer"
    __table_args__ = (
        UniqueConstraint("deployment_id", "cookie_id"),
        # Most visitors never name themselves: only linked customers are indexed (migration 0011).
        Index(
            "ix_journey_customer_contact_id",
            "contact_id",
            sqlite_where=text("contact_id IS NOT NULL"),
            postgresql_where=text("contact_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(ForeignKey("journey_deployment.id", ondelete="CASCADE"))
    cookie_id: Mapped[str] = mapped_column(String(_S))
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("journey_contact.id", ondelete="SET NULL"))
    # Over all the customer's sessions (WebEvent.totalEventCount / totalPageviewCount).
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    pageview_count: Mapped[int] = mapped_column(Integer, default=0)


class JourneyEvent(Base):
    """A web or app event as received and enriched; never changed.

    Its organization and deployment are its customer's (the write path takes both from the customer's
    deployment), so `customer_id` is the one foreign key: deleting the organization, the deployment or the
    customer deletes the event through it (journey_customer cascades from both). Two more keys made
    PostgreSQL look up and share-lock the same organization and deployment rows once per event (a quarter
    of an import's COPY; migration 0017 dropped them)."""

    __tablename__ = "journey_event"
    __table_args__ = (Index("ix_journey_event_timeline", "customer_id", "kind", "created_date", "id"),)

    id: Mapped[str] = mapped_column(String(_UUID), primary_key=True)
    organization_id: Mapped[int] = mapped_column(BigIntPK)  # the customer's (see above)
    deployment_id: Mapped[str] = mapped_column(String(_UUID))  # the customer's
    customer_id: Mapped[int] = mapped_column(ForeignKey("journey_customer.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # web | app
    event_name: Mapped[str] = mapped_column(String(_S))
    created_date: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The normalized event: the request's fields plus enrichment, camelCase, nulls dropped.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)


class JourneySession(Base):
    """The journey side of a web/app `session` row. As for JourneyEvent, its organization and deployment
    are its customer's (and the organization its `session` row's): it goes with either (both cascade)."""

    __tablename__ = "journey_session"
    __table_args__ = (
        Index("ix_journey_session_customer", "customer_id", "type", "created_date"),
        Index("ix_journey_session_organization_id_created_date", "organization_id", "created_date"),
    )

    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(BigIntPK)  # the customer's and the session's
    uuid: Mapped[str] = mapped_column(String(_UUID), unique=True)
    deployment_id: Mapped[str] = mapped_column(String(_UUID))  # the customer's
    customer_id: Mapped[int] = mapped_column(ForeignKey("journey_customer.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(8))  # web | app
    short_id: Mapped[str] = mapped_column(String(8))
    # The window of the customer's timeline this session is: (date, event id) of its first and last events.
    created_date: Mapped[datetime] = mapped_column(UTCDateTime())
    first_event_id: Mapped[str] = mapped_column(String(_UUID))
    last_event_date: Mapped[datetime] = mapped_column(UTCDateTime())
    last_event_id: Mapped[str] = mapped_column(String(_UUID))
    # Set when a later session of the customer superseded this one; otherwise derived on read.
    ended_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    pageview_count: Mapped[int] = mapped_column(Integer, default=0)
    screenview_count: Mapped[int] = mapped_column(Integer, default=0)
    authenticated: Mapped[bool] = mapped_column(Boolean, default=False)
    # Everything else the Session shows (lastEvent, lastPage, mktCampaign, referrer, browser, device, ...),
    # camelCase as on the wire, plus the fold's own bookkeeping (event names seen, rule matches).
    state: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Copies of state's referrer.medium and mktCampaign.name (see journey.writer.figure_columns): what the
    # overview's rollups count (metrics.contributions), as plain columns instead of extracted JSON.
    referrer_medium: Mapped[str | None] = mapped_column(String(_S))
    campaign_name: Mapped[str | None] = mapped_column(String(_S))


class ShortIdClaim(Base):
    """A shortId held by an open session; free again once `expires_at` has passed."""

    __tablename__ = "journey_short_id"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    short_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    session_uuid: Mapped[str] = mapped_column(String(_UUID))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Contact(Base):
    """An external contact, made or matched from event traits (email, phone)."""

    __tablename__ = "journey_contact"

    id: Mapped[str] = mapped_column(String(_UUID), primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    # When traits showed two contacts to be one person, the newer points at the older (its merge set).
    merged_into_id: Mapped[str | None] = mapped_column(String(_UUID), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ContactIdentifier(Base):
    """A normalized email (lowercase) or phone (E.164) that names a contact."""

    __tablename__ = "journey_contact_identifier"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # email | phone
    value: Mapped[str] = mapped_column(String(320), primary_key=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("journey_contact.id", ondelete="CASCADE"), index=True)


class Rule(Base):
    """A segment or outcome: conditions over session fields, all of which must hold."""

    __tablename__ = "journey_rule"

    id: Mapped[str] = mapped_column(String(_UUID), primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))  # segment | outcome
    name: Mapped[str] = mapped_column(String(_S))
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
