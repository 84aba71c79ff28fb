"""Journey (web/app) sessions for bench/metrics.py: `session` rows plus their `journey_session` rows, as the
journey writer stores them, with a referrer medium on two thirds and a campaign on two fifths of them."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from metrics_writer import Writer

DEPLOYMENT = "00000000-0000-4000-8000-00000000b001"
SESSIONS_PER_CUSTOMER = 5
MEDIA = (
    (None, 34),
    ("search", 25),
    ("email", 12),
    ("social", 10),
    ("cpc", 9),
    ("referral", 6),
    ("display", 4),
)
CAMPAIGNS = tuple(f"campaign-{n:02d}" for n in range(1, 25))
SESSION_SQL = (
    "INSERT INTO session (id, organization_id, session_type, timestamp, channel_manager_service, "
    "channel_manager_type, channel_manager_sid, source, target, duration, started_at, first_event_at, "
    "last_event_at, event_count, field_versions, updated_at) "
    "VALUES (?, ?, ?, ?, 'journey', ?, ?, ?, 'Bench site', ?, ?, ?, ?, ?, '{}', ?)"
)
JOURNEY_SQL = (
    "INSERT INTO journey_session (session_id, organization_id, uuid, deployment_id, customer_id, type, "
    "short_id, created_date, first_event_id, last_event_date, last_event_id, event_count, pageview_count, "
    "screenview_count, authenticated, state, referrer_medium, campaign_name) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)"
)


@dataclass
class JourneyExpected:
    sessions: int = 0
    pageviews: int = 0
    media: Counter[str] = field(default_factory=Counter)
    campaigns: Counter[str] = field(default_factory=Counter)

    def block(self) -> dict[str, Any]:
        """The `journey` block of the overview that counts these sessions."""
        return {
            "sessions": self.sessions,
            "pageviews": self.pageviews,
            "top_referrer_media": _top(self.media),
            "top_campaigns": _top(self.campaigns),
        }


def _top(counts: Counter[str]) -> list[dict[str, Any]]:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:10]
    return [{"name": name, "sessions": n} for name, n in ranked]


def _text(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


@dataclass(frozen=True)
class Fill:
    """Where the journey sessions go: organization, first session id, days from `start`, rows per
    executemany, random seed."""

    org_id: int
    first_id: int
    start: datetime
    days: int
    chunk: int
    seed: int

    def run(self, conn: Writer, total: int) -> tuple[JourneyExpected, JourneyExpected]:
        """Insert `total` journey sessions (in the caller's transaction); what the overview must count of
        them all and of the web ones."""
        every, web = JourneyExpected(), JourneyExpected()
        if not total:
            return every, web
        add_owner(conn, self.org_id, customer_count(total), self.start)
        for sessions, journeys in rows(self, total):
            conn.insert(SESSION_SQL, sessions)
            conn.insert(JOURNEY_SQL, journeys)
            tally(journeys, every)
            tally([row for row in journeys if row[5] == "web"], web)
        return every, web


def add_owner(conn: Writer, org_id: int, customers: int, now: datetime) -> None:
    """One deployment and its customers (ids 1..customers)."""
    conn.execute(
        "INSERT INTO journey_deployment (id, organization_id, name, allowed_domains, settings, created_at) "
        "VALUES (?, ?, 'Bench site', '[]', '{}', ?)",
        (DEPLOYMENT, org_id, _text(now)),
    )
    conn.insert(
        "INSERT INTO journey_customer (id, organization_id, deployment_id, cookie_id, event_count, "
        "pageview_count) VALUES (?, ?, ?, ?, 0, 0)",
        ((n, org_id, DEPLOYMENT, f"cookie-{n:09d}") for n in range(1, customers + 1)),
    )


def rows(where: Fill, total: int) -> Iterator[tuple[list[Any], list[Any]]]:
    """(session rows, journey_session rows), where.chunk sessions at a time, deterministic for a seed."""
    org_id, first_id, start, chunk = where.org_id, where.first_id, where.start, where.chunk
    rng = random.Random(where.seed)
    offsets = sorted(rng.uniform(0, where.days * 86400) for _ in range(total))
    customers = customer_count(total)
    media, weights = zip(*MEDIA, strict=True)
    for begin in range(0, total, chunk):
        sessions, journeys = [], []
        for number in range(begin, min(begin + chunk, total)):
            at = start + timedelta(seconds=offsets[number])
            kind = "app" if number % 4 == 0 else "web"
            medium = rng.choices(media, weights=weights)[0]
            campaign = rng.choice(CAMPAIGNS) if rng.random() < 0.4 else None
            pages = min(1 + int(rng.expovariate(0.35)), 60)
            duration = round(rng.uniform(5, 30) * pages, 3)
            session_id, sid = first_id + number, f"00000000-0000-4000-9000-{number:012d}"
            customer = 1 + number % customers
            end = at + timedelta(seconds=duration)
            sessions.append(
                (session_id, org_id, kind, _text(at), kind, sid, f"cookie-{customer:09d}", duration,
                 _text(at), _text(at), _text(end), pages, _text(end))
            )  # fmt: skip
            state = {"referrer": {"medium": medium}} if medium else {}
            if campaign:
                state["mktCampaign"] = {"name": campaign, "source": "bench"}
            journeys.append(
                (session_id, org_id, sid, DEPLOYMENT, customer, kind, f"{number % 10000:04d}", _text(at),
                 f"e-{number}-0", _text(end), f"e-{number}-{pages}", pages, pages if kind == "web" else 0,
                 pages if kind == "app" else 0, json.dumps(state), medium, campaign)
            )  # fmt: skip
        yield sessions, journeys


def customer_count(total: int) -> int:
    return max(1, total // SESSIONS_PER_CUSTOMER)


def tally(journeys: list[Any], expected: JourneyExpected) -> None:
    """Add a chunk's journey_session rows to what the overview must count."""
    for row in journeys:
        expected.sessions += 1
        expected.pageviews += row[12]
        if row[15] is not None:
            expected.media[row[15]] += 1
        if row[16] is not None:
            expected.campaigns[row[16]] += 1
