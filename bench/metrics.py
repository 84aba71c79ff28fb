"""Overview latency: GET /api/v1/metrics over a million calls and a million journey sessions in 30 days,
and the same SQL raw.

    .venv/bin/python bench/metrics.py [--db sqlite|postgresql] [--sessions 1000000]
        [--journey-sessions 1000000] [--requests 100] [--explain]

1. Fills a fresh database (SQLite, or a PostgreSQL schema) with N sessions of one organization spread
   over 30 days (10 agents, 3 channels, inbound/outbound, 5 % test), each with 4 events (STT, LLM and TTS
   latency and one tool call, 8 % of them failing) and a label on every fifth session (with issue
   categories); alongside them, in the same 30 days, --journey-sessions web/app sessions (3 web to 1 app,
   five per customer) with their journey_session rows, as the journey writer stores them: 1-60 page
   views, a referrer medium on two thirds (6 media), a campaign on two fifths (24 names). Straight DBAPI
   executemany (PostgreSQL: COPY), then ANALYZE.
2. Rolls everything up with `sessionary metrics refresh` (timed: the one-off backfill after a bulk load);
   on PostgreSQL with autovacuum off, then ANALYZEs the tables past autovacuum's threshold, as it would.
3. Starts `sessionary serve` and measures p50/p95 of GET /api/v1/metrics for the 30 days (a) of every
   session, (b) of one agent, (c) of outbound sessions (a filter that spans many segments), (d) of web
   sessions (journey figures through one segment). Each response is checked against the known totals,
   journey figures included (sessions, page views, top referrer media and campaigns).
4. Alternating with those requests, runs the SQL the server runs for each (captured from sessionary's own
   code: the freshness check and the rollup query) straight through sqlite3 or psycopg: the database's
   raw limit. --explain prints their plans (PostgreSQL: EXPLAIN (ANALYZE, BUFFERS)).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

import metrics_journey
from harness import (
    AUTOANALYZE_DUE,
    Target,
    autovacuum_enabled,
    bench_database,
    bench_parser,
    cli,
    create_key,
    percentile,
    postgres_version,
    print_block,
    serve,
    sessionary_source,
    sqlite_version,
    verdict,
    workspace,
)
from metrics_journey import JourneyExpected
from metrics_writer import Writer
from sessionary.db import open_database
from sessionary.metrics.service import current_metrics
from sessionary.sessions.filters import Direction, SessionFilter

ORG = "bench-metrics"
PATH = "/api/v1/metrics"
END = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 30
TARGET_P95_MS = 500.0
CHUNK = 20_000
AGENTS = (
    "Pharmacy Refills",
    "Clinic Scheduling",
    "Billing Support",
    "Front Desk",
    "Lab Results",
    "Insurance Verification",
    "Prescription Status",
    "After Hours Triage",
    "Patient Intake",
    "Feedback Survey",
)
WEIGHTS = (22, 16, 13, 11, 9, 8, 7, 6, 5, 3)
CHANNELS = (("voice_sip_v1", "voice"), ("voice_twilio_v1", "voice"), ("web_chat_v1", "chat"))
TOOLS = ("lookup_patient", "submit_refill", "check_availability", "book_appointment", "lookup_order")
ISSUES = ("tool_error", "long_silence", "latency_high", "hang_up_after_agent", "voicemail")
CODES = ("GOOD", "OK", "BAD", "N/A")
FILTER_AGENT = "Billing Support"
SESSION_SQL = (
    "INSERT INTO session (id, organization_id, session_type, timestamp, channel_manager_service, "
    "channel_manager_type, channel_manager_sid, agent_name, prompt_name, duration, session_label_id, "
    "is_outbound, is_test, started_at, first_event_at, last_event_at, ended_at, event_count, "
    "field_versions, updated_at) VALUES (?, ?, ?, ?, 'bench', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 6, '{}', ?)"
)
EVENT_SQL = (
    "INSERT INTO event (organization_id, event_id, session_id, type, timestamp, data, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
LABEL_SQL = (
    "INSERT INTO session_label (id, organization_id, session_id, timestamp, type, code, user_email, "
    "issue_categories) VALUES (?, ?, ?, ?, 'human-rating', ?, 'qa@example.com', ?)"
)


@dataclass(frozen=True)
class Query:
    label: str
    params: dict[str, str]
    session_filter: SessionFilter


@dataclass
class Measured:
    query: Query
    sessions: int = 0
    source: str = ""
    journey: dict[str, Any] = field(default_factory=dict)
    http: list[float] = field(default_factory=list)
    db_total: list[float] = field(default_factory=list)


@dataclass
class Expected:
    total: int = 0
    by_agent: int = 0
    outbound: int = 0
    journey: JourneyExpected = field(default_factory=JourneyExpected)
    web_journey: JourneyExpected = field(default_factory=JourneyExpected)

    def wanted(self) -> list[tuple[int, dict[str, Any]]]:
        """Per query of queries(): the sessions and the journey block it must count."""
        none = JourneyExpected().block()
        return [
            (self.total + self.journey.sessions, self.journey.block()),
            (self.by_agent, none),
            (self.outbound, none),
            (self.web_journey.sessions, self.web_journey.block()),
        ]


def parse_args() -> argparse.Namespace:
    parser = bench_parser(__doc__, workers=1)
    parser.add_argument("--sessions", type=int, default=1_000_000, help="calls to fill the database with")
    parser.add_argument(
        "--journey-sessions", type=int, default=1_000_000, help="journey (web/app) sessions beside them"
    )
    parser.add_argument("--requests", type=int, default=100, help="timed requests (and DBAPI runs) per query")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per query first")
    parser.add_argument("--explain", action="store_true", help="print the plans of the captured SQL")
    parser.add_argument(
        "--before-src",
        help="also the code of this src directory (e.g. /work/main/src), same data, alternating",
    )
    parser.add_argument("--rounds", type=int, default=1, help="rounds of (before, after)")
    return parser.parse_args()


# --- filling ------------------------------------------------------------------------------------------


def _text(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


def rows(
    org_id: int, total: int, seed: int, expected: Expected
) -> Iterator[tuple[list[Any], list[Any], list[Any]]]:
    """(sessions, events, labels) rows, CHUNK sessions at a time, deterministic for a seed."""
    rng = random.Random(seed)
    first = END - timedelta(days=DAYS)
    offsets = sorted(rng.uniform(0, DAYS * 86400) for _ in range(total))
    label_id = 0
    for begin in range(0, total, CHUNK):
        sessions, events, labels = [], [], []
        for number in range(begin, min(begin + CHUNK, total)):
            session_id = number + 1
            start = first + timedelta(seconds=offsets[number])
            duration = round(rng.lognormvariate(4.6, 0.6), 3)
            agent = rng.choices(AGENTS, weights=WEIGHTS)[0]
            channel, kind = CHANNELS[number % len(CHANNELS)]
            outbound = kind == "voice" and rng.random() < 0.25
            expected.total += 1
            expected.by_agent += agent == FILTER_AGENT
            expected.outbound += outbound
            label = None
            if number % 5 == 0:
                label_id += 1
                label = label_id
                issues = rng.sample(ISSUES, rng.randint(0, 2))
                labels.append(
                    (
                        label_id,
                        org_id,
                        session_id,
                        _text(start + timedelta(seconds=duration + 60)),
                        rng.choice(CODES),
                        json.dumps(issues),
                    )
                )
            end = start + timedelta(seconds=duration)
            sessions.append(
                (
                    session_id,
                    org_id,
                    kind,
                    _text(start),
                    channel,
                    f"call-{number:08d}",
                    agent,
                    f"{agent} prompt",
                    duration,
                    label,
                    outbound,
                    rng.random() < 0.05,
                    _text(start),
                    _text(start),
                    _text(end),
                    _text(end),
                    _text(end),
                )
            )
            events += _events(rng, org_id, session_id, start)
        yield sessions, events, labels


def _events(rng: random.Random, org_id: int, session_id: int, start: datetime) -> list[tuple[Any, ...]]:
    at = _text(start + timedelta(seconds=5))
    out = []
    for n, (category, low, high) in enumerate((("stt", 80, 400), ("llm", 250, 1600), ("tts", 90, 500))):
        data = {
            "category": category,
            "label": f"{category}_x",
            "value": round(rng.uniform(low, high), 1),
            "unit": "milliseconds",
        }
        out.append((org_id, f"{session_id}-l{n}", session_id, "latency", at, json.dumps(data), at))
    tool = {
        "tool_call_id": "c1",
        "tool_name": rng.choice(TOOLS),
        "duration_ms": round(rng.uniform(80, 900), 1),
    }
    if rng.random() < 0.08:
        tool["tool_error"] = "timeout"
    out.append((org_id, f"{session_id}-t", session_id, "tool_call", at, json.dumps(tool), at))
    return out


def fill(target: Target, args: argparse.Namespace, expected: Expected) -> float:
    """The rows (executemany on SQLite, COPY on PostgreSQL) in one transaction, then ANALYZE."""
    conn = Writer.open(target)
    try:
        org_id = conn.scalar("SELECT id FROM organization WHERE name = ?", (ORG,))
        began = time.perf_counter()
        conn.begin()
        for sessions, events, labels in rows(org_id, args.sessions, args.seed, expected):
            conn.insert(SESSION_SQL, sessions)
            conn.insert(EVENT_SQL, events)
            conn.insert(LABEL_SQL, labels)
        first = END - timedelta(days=DAYS)
        journeys = metrics_journey.Fill(org_id, args.sessions + 1, first, DAYS, CHUNK, args.seed + 1)
        expected.journey, expected.web_journey = journeys.run(conn, args.journey_sessions)
        conn.commit()
        elapsed = time.perf_counter() - began
        conn.finish()
        return elapsed
    finally:
        conn.close()


# --- measuring ----------------------------------------------------------------------------------------


def queries() -> list[Query]:
    start, end = (END - timedelta(days=DAYS)).isoformat(), END.isoformat()
    span = {"start_datetime": start.replace("+00:00", "Z"), "end_datetime": end.replace("+00:00", "Z")}
    base = SessionFilter(start=END - timedelta(days=DAYS), end=END)
    return [
        Query("(a) 30 days, every session", span, base),
        Query(
            "(b) 30 days, one agent",
            {**span, "agent_name": FILTER_AGENT},
            SessionFilter(start=base.start, end=base.end, agent=FILTER_AGENT),
        ),
        Query(
            "(c) 30 days, outbound",
            {**span, "direction": "outbound"},
            SessionFilter(start=base.start, end=base.end, direction=Direction.outbound),
        ),
        Query(
            "(d) 30 days, web sessions",
            {**span, "session_type": "web"},
            SessionFilter(start=base.start, end=base.end, session_type="web"),
        ),
    ]


def captured_sql(target: Target, org_id: int, f: SessionFilter) -> list[tuple[str, Any]]:
    """The SELECTs (with parameters) sessionary runs for one metrics request on up-to-date rollups."""
    database = open_database(target.url, pool_size=1)
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        current_metrics(database, organization_id=org_id, f=f)
    finally:
        database.dispose()
    return seen


def _timed(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def measure(
    result: Measured, client: httpx.Client, conn: Any, sql: Sequence[tuple[str, Any]], runs: int
) -> None:
    """Alternate one HTTP request and one DBAPI run of the same SQL, so both see the same caches."""

    def get() -> None:
        response = client.get(PATH, params=result.query.params)
        if response.status_code != 200:
            raise SystemExit(f"{result.query.label}: HTTP {response.status_code} {response.text[:300]}")
        body = response.json()
        result.sessions, result.source = body["totals"]["sessions"], body["source"]
        result.journey = body["journey"]

    def raw() -> None:
        for statement, parameters in sql:
            conn.execute(statement, parameters).fetchall()

    for _ in range(runs):
        result.http.append(_timed(get))
        result.db_total.append(_timed(raw))


def _ms(values: Sequence[float]) -> str:
    return f"{percentile(values, 50) * 1000:7.1f} / {percentile(values, 95) * 1000:7.1f} ms"


def report(
    args: argparse.Namespace, fill_s: float, refresh_s: float, results: list[Measured], db: str
) -> None:
    total = args.sessions + args.journey_sessions
    rows_out = [
        ("database / code", db),
        ("data", f"{args.sessions:,} calls in {DAYS} days, 4 events each, a label on every fifth"),
        ("", f"{args.journey_sessions:,} journey (web/app) sessions in the same {DAYS} days"),
        ("fill (generate + executemany/COPY)", f"{fill_s:.1f} s, then ANALYZE"),
        (
            "rollup backfill",
            f"sessionary metrics refresh: {refresh_s:.1f} s ({total / refresh_s:,.0f} sessions/s)",
        ),
        ("timed runs per query", f"{args.requests} after {args.warmup} warm-up"),
    ]
    for r in results:
        p95 = percentile(r.http, 95) * 1000
        rows_out += [
            (
                r.query.label,
                f"{r.sessions:,} sessions ({r.journey['sessions']:,} journey, "
                f"{r.journey['pageviews']:,} page views) counted, from the {r.source}",
            ),
            (
                "  HTTP p50 / p95",
                f"{_ms(r.http)}   target p95 < {TARGET_P95_MS:.0f} ms  {verdict(p95 < TARGET_P95_MS)}",
            ),
            ("  DBAPI same SQL p50 / p95", _ms(r.db_total)),
        ]
    sizes = f"--sessions {args.sessions} --journey-sessions {args.journey_sessions}"
    print_block(f"bench/metrics.py --db {args.db} {sizes}", rows_out)


def run(args: argparse.Namespace, workdir: Path) -> None:
    with bench_database(args, workdir, "metrics") as target:
        key = create_key(target, ORG, "read")
        expected = Expected()
        print(
            f"filling {args.sessions:,} calls, {args.sessions * 4:,} events and "
            f"{args.journey_sessions:,} journey sessions ..."
        )
        fill_s = fill(target, args, expected)
        codes = [("before", args.before_src), ("after", None)] if args.before_src else [("after", None)]
        for round_number in range(1, args.rounds + 1):
            for label, source in codes:
                with code(source):
                    refresh_s = refresh(target)
                    db = database_label(target)
                    results = measure_all(args, target, key, workdir, expected)
                report(
                    args, fill_s, refresh_s, results, f"{db}; {label} {round_number}: {sessionary_at(source)}"
                )


@contextmanager
def code(source: str | None) -> Iterator[None]:
    """The `sessionary` the CLI and the server run: `source` (a src directory) or this checkout's."""
    saved = os.environ.get("PYTHONPATH")
    if source is not None:
        os.environ["PYTHONPATH"] = os.pathsep.join([source, str(Path(__file__).parent)])
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def sessionary_at(source: str | None) -> str:
    return source or sessionary_source()


def refresh(target: Target) -> float:
    """Empty rollups, `sessionary metrics refresh` timed, then the statistics autovacuum would take."""
    writer = Writer.open(target)
    try:
        writer.reset_rollups()
    finally:
        writer.close()
    print("rolling up (sessionary metrics refresh) ...")
    began = time.perf_counter()
    cli(target, "metrics", "refresh", "--org", ORG)
    refresh_s = time.perf_counter() - began
    analyze_due(target)
    return refresh_s


def analyze_due(target: Target) -> None:
    """PostgreSQL with autovacuum off: ANALYZE the tables the backfill changed past autovacuum's threshold,
    as autovacuum would within its naptime (a minute) of the backfill."""
    if target.kind != "postgresql" or autovacuum_enabled(target):
        return
    with target.connect_pg() as conn:
        conn.autocommit = True
        for (table,) in conn.execute(AUTOANALYZE_DUE).fetchall():
            conn.execute(f'ANALYZE "{table}"')


def database_label(target: Target) -> str:
    if target.kind == "sqlite":
        assert target.sqlite_path is not None
        return f"SQLite {sqlite_version()}, {target.sqlite_path.stat().st_size / 2**30:.2f} GiB file"
    with target.connect_pg() as conn:
        size = conn.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON "
            "n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        ).fetchone()
    return (
        f"PostgreSQL {postgres_version(target)}, {int(size[0] if size else 0) / 2**30:.2f} GiB in its schema"
    )


def explain(target: Target, conn: Any, label: str, sql: Sequence[tuple[str, Any]]) -> None:
    """--explain: each captured statement's plan (PostgreSQL: EXPLAIN (ANALYZE, BUFFERS))."""
    prefix = "EXPLAIN QUERY PLAN " if target.kind == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    print(f"\n--- {label}")
    for statement, parameters in sql:
        print(statement, parameters)
        for row in conn.execute(prefix + statement, parameters).fetchall():
            print("   ", row[-1])


def measure_all(
    args: argparse.Namespace, target: Target, key: str, workdir: Path, expected: Expected
) -> list[Measured]:
    """Every query measured through the server and the driver, each response checked."""
    conn = target.connect_autocommit()
    org_id = conn.execute(f"SELECT id FROM organization WHERE name = '{ORG}'").fetchone()[0]
    results = [Measured(q) for q in queries()]
    with (
        serve(target, workdir, workers=args.workers) as server,
        httpx.Client(base_url=server.url, headers={"Syllable-API-Key": key}, timeout=300) as client,
    ):
        print(f"server {server.url} up; measuring GET {PATH} ...")
        for result, wanted in zip(results, expected.wanted(), strict=True):
            sql = captured_sql(target, org_id, result.query.session_filter)
            measure(Measured(result.query), client, conn, sql, args.warmup)
            if args.explain:
                explain(target, conn, result.query.label, sql)
            measure(result, client, conn, sql, args.requests)
            counted = (result.sessions, result.journey)
            if counted != wanted or result.source != "rollup":
                raise SystemExit(
                    f"{result.query.label}: counted {counted} from the {result.source}, "
                    f"expected {wanted} from the rollup"
                )
    conn.close()
    return results


def main() -> int:
    args = parse_args()
    with workspace(keep=args.keep) as workdir:
        run(args, workdir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
