"""Web and app events in: validate against the deployment, enrich, and store (journey.store)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session as DBSession

from sessionary import client_ip
from sessionary.config import Settings
from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.errors import InvalidRequest
from sessionary.journey import contacts, ids, rules, urls
from sessionary.journey.deployments import SessionRules, check_domain, get_deployment
from sessionary.journey.intake import enrich
from sessionary.journey.store import writepath as store
from sessionary.journey.store.incoming import Incoming
from sessionary.journey.store.sessionize import StoredEvent
from sessionary.journey.store.writepath import Stored
from sessionary.journey.wire.requests import AppEventRequest, WebEventRequest


@dataclass(frozen=True)
class DeploymentInfo:
    """A deployment as read once, outside the write transaction."""

    id: str
    organization_id: int
    name: str
    allowed_domains: tuple[str, ...]
    rules: SessionRules

    def check_domain(self, url: str) -> None:
        check_domain(self.id, self.allowed_domains, url)


def read_deployment(db: DBSession, *, deployment_id: str) -> DeploymentInfo:
    """The deployment (NotFound if unknown), detached from the session."""
    row = get_deployment(db, deployment_id=deployment_id)
    return DeploymentInfo(
        id=row.id,
        organization_id=row.organization_id,
        name=row.name,
        allowed_domains=tuple(row.allowed_domains),
        rules=SessionRules.of(row.settings),
    )


class DeploymentCache:
    """Deployments as the ingest endpoints see them: each read at most once a minute per process (every
    event names one); an unknown id is looked up every time, so a new deployment works at once."""

    def __init__(self, database: Database, ttl_seconds: float = 60.0) -> None:
        self.database, self.ttl = database, ttl_seconds
        self._known: dict[str, tuple[DeploymentInfo, float]] = {}

    def cached(self, deployment_id: str) -> DeploymentInfo | None:
        """The deployment if read less than a minute ago (no database work), else None."""
        hit = self._known.get(deployment_id)
        return hit[0] if hit is not None and hit[1] > time.monotonic() else None

    def get(self, deployment_id: str) -> DeploymentInfo:
        hit = self.cached(deployment_id)
        if hit is not None:
            return hit
        with session_scope(self.database.reader) as db:
            info = read_deployment(db, deployment_id=deployment_id)
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[deployment_id] = (info, time.monotonic() + self.ttl)
        return info


@dataclass(frozen=True)
class Enricher:
    """What enrichment and validation need from the settings, built once per server."""

    geo: enrich.GeoIP | None
    trusted: tuple[client_ip.Network, ...]
    max_age: timedelta
    skew: timedelta
    phone_region: str = "US"

    @classmethod
    def from_settings(cls, settings: Settings) -> Enricher:
        geo = None
        if settings.journey_geoip_db or settings.journey_asn_db:
            geo = enrich.GeoIP(settings.journey_geoip_db, settings.journey_asn_db)
        return cls(
            geo=geo,
            trusted=client_ip.trusted_networks(settings.journey_trusted_proxies),
            max_age=timedelta(seconds=settings.journey_max_event_age_seconds),
            skew=timedelta(seconds=settings.journey_max_clock_skew_seconds),
            phone_region=settings.journey_phone_region,
        )

    def close(self) -> None:
        if self.geo is not None:
            self.geo.close()


@dataclass(frozen=True)
class Origin:
    """What the HTTP request says about the caller."""

    peer: str | None = None
    forwarded_for: str | None = None
    user_agent: str | None = None


def check_age(created: datetime, now: datetime, enricher: Enricher) -> None:
    """InvalidRequest for an event older than the window or too far in the future."""
    if created < now - enricher.max_age:
        raise InvalidRequest(
            f"createdDate: {created.isoformat()} is older than {int(enricher.max_age.total_seconds())} "
            "seconds; send historical events with `sessionary import --journey`"
        )
    if created > now + enricher.skew:
        raise InvalidRequest(f"createdDate: {created.isoformat()} is in the future")


def _dump(model: Any) -> Any:
    return model.model_dump(by_alias=True, exclude_none=True) if model is not None else None


def _common(body: WebEventRequest | AppEventRequest, ip: str | None, enricher: Enricher) -> dict[str, Any]:
    geolocation, organization = enricher.geo.lookup(ip) if enricher.geo and ip else (None, None)
    return {
        "eventName": body.event_name,
        "customerId": body.customer_cookie_id,
        "ipAddress": ip,
        "geolocation": geolocation,
        "ipOrganization": organization,
        "attributes": _dump_map(body.attributes),
        "traits": _dump_map(body.traits),
        "searchQuery": body.search_query,
        "externalId": body.external_id,
        # An event naming the customer's id in the business's own system was made by a signed-in user.
        "authenticated": body.external_id is not None,
    }


def _dump_map(values: dict[str, Any] | None) -> dict[str, Any]:
    return {name: _dump(value) for name, value in (values or {}).items()}


def _ip(body_ip: str | None, origin: Origin, enricher: Enricher) -> str | None:
    return body_ip or client_ip.client_ip(origin.peer, origin.forwarded_for, enricher.trusted)


def web_event(
    body: WebEventRequest, deployment: DeploymentInfo, origin: Origin, enricher: Enricher
) -> Incoming:
    """A web event ready to store: the page host is checked, the rest enriched."""
    page = urls.page(body.page.url, title=body.page.title, keywords=body.page.keywords, lang=body.page.lang)
    deployment.check_domain(body.page.url)
    campaign = urls.campaign(body.page.url)
    user_agent = body.user_agent_string or origin.user_agent
    browser, device = enrich.browser_and_device(
        user_agent, browser=_dump(body.browser), device=_dump(body.device)
    )
    payload = {
        **_common(body, _ip(body.ip_address, origin, enricher), enricher),
        "page": page,
        "userAgentString": user_agent,
        "browser": browser,
        "device": device,
        "mktCampaign": campaign,
        "referrer": urls.referrer(body.referrer_url, page_host=page.get("hostname"), mkt=campaign),
    }
    return _incoming(body, "web", payload, deployment)


def app_event(
    body: AppEventRequest, deployment: DeploymentInfo, origin: Origin, enricher: Enricher
) -> Incoming:
    """An app event ready to store (its campaign and referrer come from referrerUrl)."""
    campaign = urls.campaign(body.referrer_url)
    _browser, device = enrich.browser_and_device(origin.user_agent, browser=None, device=_dump(body.device))
    payload = {
        **_common(body, _ip(None, origin, enricher), enricher),
        "screenName": body.screen_name,
        "app": _dump(body.app),
        "device": device,
        "sdkLibrary": _dump(body.sdk_library),
        "networkConnectivity": _dump(body.network_connectivity),
        "mktCampaign": campaign,
        "referrer": urls.referrer(body.referrer_url, page_host=None, mkt=campaign),
    }
    return _incoming(body, "app", payload, deployment)


def _incoming(
    body: WebEventRequest | AppEventRequest, kind: str, payload: dict[str, Any], deployment: DeploymentInfo
) -> Incoming:
    payload = {k: v for k, v in payload.items() if v is not None}
    event = StoredEvent(ids.new_uuid(), body.created_date, kind, body.event_name, payload)
    return Incoming(
        deployment_id=deployment.id,
        deployment_name=deployment.name,
        cookie=body.customer_cookie_id,
        event=event,
        timeout=timedelta(seconds=deployment.rules.inactivity_timeout_seconds),
        short_id_length=deployment.rules.short_id_length,
    )


def record(
    db: DBSession,
    *,
    organization_id: int,
    incoming: Sequence[Incoming],
    now: datetime,
    phone_region: str = "US",
    rule_cache: rules.RuleCache | None = None,
) -> Stored:
    """Store events of one organization, bring their sessions up to date, link customers to contacts."""
    if rule_cache is not None:
        compiled = rule_cache.get(db, organization_id)
    else:
        compiled = rules.load_rules(db, organization_id=organization_id)
    stored = store.store_events(
        db, organization_id=organization_id, incoming=incoming, rules=compiled, now=now
    )
    named: dict[int, set[contacts.Identifier]] = {}
    for item in incoming:
        traits = item.event.payload.get("traits")
        if traits:
            customer = stored.customers[(item.deployment_id, item.cookie)]
            named.setdefault(customer.id, set()).update(contacts.identifiers(traits, phone_region))
    if named:
        links = contacts.link(db, organization_id=organization_id, customers=named, now=now)
        for customer in stored.customers.values():
            customer.contact_id = links.get(customer.id, customer.contact_id)
    return stored


def record_batch(
    database: Database,
    by_org: Mapping[int, Sequence[Incoming]],
    *,
    phone_region: str = "US",
    rule_cache: rules.RuleCache | None = None,
) -> dict[int, Stored]:
    """Store the events of each organization (in id order) in one write transaction; what each stored."""
    now = utcnow()
    with session_scope(database.writer) as db:
        return {
            org: record(
                db,
                organization_id=org,
                incoming=incoming,
                now=now,
                phone_region=phone_region,
                rule_cache=rule_cache,
            )
            for org, incoming in sorted(by_org.items())
        }
