"""Deployments: where web and app events come from, which page hosts may send them, and the
sessionization settings (defaults below, overridable per deployment)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session as DBSession

from sessionary.db_types import utcnow
from sessionary.errors import Forbidden, InvalidRequest, NotFound
from sessionary.journey import urls
from sessionary.journey.models import Deployment


@dataclass(frozen=True)
class SessionRules:
    """How a deployment cuts a customer's events into sessions (defaults documented in the README)."""

    inactivity_timeout_seconds: int = 20 * 60  # a longer gap starts a new session
    idle_after_seconds: int = 45  # idleDate = last activity + this
    away_after_seconds: int = 60  # awayDate = last activity + this (idle + 15 s, as Genesys shows)
    short_id_length: int = 4  # 4-6 digits

    def __post_init__(self) -> None:
        if not 4 <= self.short_id_length <= 6:
            raise InvalidRequest("short_id_length must be 4, 5 or 6")
        if self.inactivity_timeout_seconds < 1:
            raise InvalidRequest("inactivity_timeout_seconds must be at least 1")
        if not 0 <= self.idle_after_seconds <= self.away_after_seconds:
            raise InvalidRequest("idle_after_seconds must be between 0 and away_after_seconds")

    @classmethod
    def of(cls, settings: dict[str, Any]) -> SessionRules:
        known = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in settings.items() if k in known})


_NOT_IN_HOST = set("/\\:@?#% ")  # a scheme, port, path, userinfo, query or escape: not a host name


def normalize_domain(domain: str) -> str:
    """A host name as a browser writes it (urls.web_host: lowercase, punycode, IPv4 dotted, no trailing
    dot); InvalidRequest for anything else."""
    text = domain.strip()
    host = urls.web_host(f"https://{text}/")[0] if text and not set(text) & _NOT_IN_HOST else None
    if host is None:
        raise InvalidRequest(f"allowed domain '{domain}' is not a host name (example.com)")
    return host


def create_deployment(
    db: DBSession,
    *,
    organization_id: int,
    name: str,
    allowed_domains: Iterable[str] = (),
    rules: SessionRules | None = None,
) -> Deployment:
    """A new deployment of the organization, with a random UUID id."""
    if not name.strip():
        raise InvalidRequest("deployment name must not be empty")
    overrides = asdict(rules) if rules is not None and rules != SessionRules() else {}
    deployment = Deployment(
        id=str(uuid.uuid4()),
        organization_id=organization_id,
        name=name.strip(),
        allowed_domains=sorted({normalize_domain(d) for d in allowed_domains}),
        settings=overrides,
        created_at=utcnow(),
    )
    db.add(deployment)
    db.flush()
    return deployment


def canonical_uuid(value: str) -> str | None:
    """`value` as a lowercase hyphenated UUID, or None when it is not one."""
    try:
        return str(uuid.UUID(value)) if len(value) in (32, 36) else None
    except ValueError:
        return None


def get_deployment(db: DBSession, *, deployment_id: str) -> Deployment:
    """The deployment with this id; NotFound otherwise (ingest is unauthenticated: any organization's)."""
    key = canonical_uuid(deployment_id)
    deployment = db.get(Deployment, key) if key else None
    if deployment is None:
        raise NotFound(f"Deployment {deployment_id} not found")
    return deployment


def check_domain(deployment_id: str, allowed: Sequence[str], url: str) -> None:
    """Forbidden unless the page URL (read as a browser reads it) is http(s) on one of the allowed domains
    or below one (no list: any URL); an IP matches only itself."""
    if not allowed:
        return
    host, why = urls.web_host(url)
    if host is None:
        raise Forbidden(f"page.url: {why} (deployment {deployment_id} allows only its domains)")
    if not any(_matches(host, d) for d in allowed):
        raise Forbidden(
            f"page.url: host '{host}' is not an allowed domain of deployment {deployment_id} "
            f"({', '.join(allowed)})"
        )


def _matches(host: str, allowed: str) -> bool:
    canonical = _canonical(allowed)
    return host == canonical or (not urls.is_ip(host) and host.endswith("." + canonical))


@lru_cache(maxsize=1024)
def _canonical(domain: str) -> str:
    """An allowed domain as stored (rows written before WHATWG parsing may be in Unicode)."""
    try:
        return normalize_domain(domain)
    except InvalidRequest:
        return domain
