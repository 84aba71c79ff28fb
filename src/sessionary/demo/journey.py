"""Demo journey data: a web site and an app of the demo organization, a few hundred web/app sessions
over the last 30 days (UTM campaigns, search/social/email referrers), segments and an outcome, and some
visitors whose phone traits match demo calls, so one contact shows both their visits and their calls."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from sessionary.db import Database, session_scope
from sessionary.journey import deployments, rules
from sessionary.journey.intake import ingest
from sessionary.journey.intake.ingest import DeploymentInfo, Enricher, Origin
from sessionary.journey.store.incoming import Incoming
from sessionary.journey.wire.requests import AppEventRequest, WebEventRequest
from sessionary.sessions.models import Session

SITE = "https://www.riverside-health.example"
LANDINGS = (
    ("?utm_source=google&utm_medium=cpc&utm_campaign=flu-shots&gclid=demo{n}", "https://www.google.com/"),
    ("?utm_source=newsletter&utm_medium=email&utm_campaign=spring-refills", "https://mail.google.com/"),
    ("?utm_source=facebook&utm_medium=social&utm_campaign=wellness", "https://m.facebook.com/"),
    ("", "https://www.bing.com/search?q=pharmacy+refill+near+me"),
    ("", "https://duckduckgo.com/?q=riverside+pharmacy"),
    ("", ""),
)
PAGES = ("/", "/refills", "/appointments", "/locations", "/insurance", "/contact", "/flu-shots")
AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
)
SCREENS = ("Home", "Prescriptions", "Refill", "Pharmacies", "Profile")


def generate(
    database: Database, *, organization_id: int, rng: random.Random, now: datetime, visitors: int = 150
) -> None:
    """Create the demo deployment and rules and ingest the visits (historical: no age window)."""
    with session_scope(database.writer) as db:
        site = deployments.create_deployment(
            db,
            organization_id=organization_id,
            name="Riverside Health web site",
            allowed_domains=["riverside-health.example"],
        )
        info = ingest.read_deployment(db, deployment_id=site.id)
        for kind, name, conditions in (
            ("segment", "Came from search", ["referrer.medium == search"]),
            ("segment", "Engaged visitors", ["pageviewCount >= 4"]),
            ("segment", "Mobile", ["device.category == mobile"]),
            ("outcome", "Refill requested", ["eventName == refill_requested"]),
        ):
            rules.create_rule(
                db, organization_id=organization_id, kind=kind, name=name, conditions=conditions
            )
        phones = list(
            db.scalars(
                select(Session.source)
                .where(Session.organization_id == organization_id, Session.session_type == "voice")
                .limit(40)
            )
        )
    incoming = [item for n in range(visitors) for item in _visitor(rng, n, info, now, phones)]
    for start in range(0, len(incoming), 500):
        with session_scope(database.writer) as db:
            ingest.record(
                db, organization_id=organization_id, incoming=incoming[start : start + 500], now=now
            )


def _visitor(
    rng: random.Random, n: int, site: DeploymentInfo, now: datetime, phones: Sequence[str | None]
) -> list[Incoming]:
    cookie = f"demo-visitor-{n:04d}"
    agent = rng.choice(AGENTS)
    phone = phones[n] if n < len(phones) and n % 2 == 0 else None  # half of the callers also visit
    found: list[Incoming] = []
    for visit in range(rng.randint(1, 3)):
        start = now - timedelta(days=rng.uniform(0.05, 30), minutes=visit * 90)
        query, referrer = rng.choice(LANDINGS)
        for step in range(rng.randint(1, 7)):
            at = start + timedelta(seconds=step * rng.randint(20, 240))
            url = SITE + (rng.choice(PAGES) if step else "/") + (query.format(n=n) if step == 0 else "")
            body: dict[str, Any] = {
                "customerCookieId": cookie,
                "eventName": "page_viewed",
                "page": {"url": url, "title": "Riverside Health"},
                "createdDate": at,
                "userAgentString": agent,
                "ipAddress": f"198.51.100.{n % 250 + 1}",
            }
            if step == 0 and referrer:
                body["referrerUrl"] = referrer
            if step == 2 and phone:
                body["traits"] = {"cellPhone": {"dataType": "string", "value": phone}}
            if step == 3 and rng.random() < 0.4:
                body["eventName"] = "refill_requested"
            found.append(ingest.web_event(WebEventRequest.model_validate(body), site, Origin(), _ENRICHER))
        if rng.random() < 0.3:
            found += _app_visit(rng, cookie, site, start + timedelta(hours=2))
    return found


def _app_visit(rng: random.Random, cookie: str, site: DeploymentInfo, start: datetime) -> list[Incoming]:
    found = []
    for step, screen in enumerate(rng.sample(SCREENS, rng.randint(2, 5))):
        body = {
            "customerCookieId": cookie,
            "eventName": "screen_viewed",
            "screenName": screen,
            "app": {
                "name": "Riverside",
                "namespace": "example.riverside.app",
                "version": "3.2.0",
                "buildNumber": "412",
            },
            "device": {"category": "mobile", "type": "iPhone", "osFamily": "iOS", "osVersion": "17.4"},
            "createdDate": start + timedelta(seconds=step * 30),
        }
        found.append(ingest.app_event(AppEventRequest.model_validate(body), site, Origin(), _ENRICHER))
    return found


_ENRICHER = Enricher(geo=None, trusted=(), max_age=timedelta(days=365), skew=timedelta(0))
