"""List latency: GET /api/v1/sessions/ over a million sessions, against the same SQL run through the DBAPI.

    .venv/bin/python bench/list.py [--db sqlite|postgresql] [--sessions 1000000,5000000] [--requests 200]

1. Fills a fresh database with N sessions of one organization (365 days, 10 agents), inserted straight into
   the `session` table (SQLite: DBAPI executemany; PostgreSQL: COPY), so that the database's own triggers
   keep session_count as for any writer; then (PostgreSQL) folds its delta rows as the server's
   CountFolder would, and ANALYZE (PostgreSQL: VACUUM ANALYZE).
2. Starts `sessionary serve` on that database and measures p50/p95 of GET /api/v1/sessions/ for
   (a) the first page, newest first; (b) a 7-day range plus an agent_name filter; (c) page 100 of an
   agent_name filter. Every response's total_count is checked to be > 0.
3. Alternating with those requests, runs the SQL the server runs for each query (captured from
   sessionary's own list code: the count query and the page query) straight through sqlite3 / psycopg:
   "the limit of the underlying database". Each query's total_count is checked once against a plain
   COUNT(*) of the same rows, and its SQL is printed.
4. With several sizes (`--sessions 1000000,5000000`), each size gets a fresh database and the report ends
   with each case's p95 at every size and the ratio of the largest to the smallest.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, func, select

from harness import (
    Target,
    bench_parser,
    create_key,
    fresh_database,
    percentile,
    postgres_version,
    print_block,
    serve,
    sessionary_source,
    sqlite_version,
    verdict,
    workspace,
)
from sessionary.db import open_database, session_scope
from sessionary.listing import ListParams, parse_datetime
from sessionary.sessions import service
from sessionary.sessions.models import Session

ORG = "bench-list"
LIST_PATH = "/api/v1/sessions/"
END = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 365
PAGE_SIZE = 25  # the Syllable default `limit`
TARGET_P95_MS = 50.0
CHUNK = 50_000
AGENTS = (  # (agent_id, agent_name, prompt_id, prompt_name, weight)
    ("101", "Pharmacy Refills", "7", "Refill assistant v3", 22),
    ("102", "Clinic Scheduling", "9", "Appointments", 16),
    ("103", "Billing Support", "12", "Billing FAQ", 13),
    ("104", "Front Desk", "15", "Opening hours", 11),
    ("105", "Lab Results", "18", "Results line v2", 9),
    ("106", "Insurance Verification", "21", "Eligibility", 8),
    ("107", "Prescription Status", "24", "Rx status", 7),
    ("108", "After Hours Triage", "27", "Nurse triage v5", 6),
    ("109", "Patient Intake", "30", "New patient intake", 5),
    ("110", "Feedback Survey", "33", "CSAT survey", 3),
)
WEIGHTS = [agent[4] for agent in AGENTS]
FILTER_AGENT = "Billing Support"  # the third most common agent: about 13 % of the sessions
CHANNELS = (("voice_sip_v1", "hedy"), ("voice_twilio_v1", "twilio"))
COLUMNS = (
    "organization_id session_type timestamp conversation_id channel_manager_service channel_manager_type "
    "channel_manager_sid agent_id agent_name agent_type agent_timezone prompt_id prompt_name prompt_version "
    "prompt_version_number duration session_label_id source target is_legacy is_test is_outbound "
    "user_terminated transfer_voicemail_detected override_timestamp started_at first_event_at last_event_at "
    "ended_at reported_duration event_count field_versions updated_at"
).split()
SESSION_SQL = f"INSERT INTO session ({', '.join(COLUMNS)}) VALUES ({', '.join(['{p}'] * len(COLUMNS))})"


@dataclass(frozen=True)
class Query:
    """One benchmarked list request: its label, its query parameters and the same as ListParams."""

    label: str
    params: dict[str, Any]
    list_params: ListParams


@dataclass
class Measured:
    query: Query
    total_count: int = 0
    items: int = 0
    http: list[float] = field(default_factory=list)
    db_parts: dict[str, list[float]] = field(default_factory=dict)  # role of the statement -> timings
    db_total: list[float] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)
    sql: list[Statement] = field(default_factory=list)
    exact: int = -1  # a plain COUNT(*) of the rows the query lists


def parse_args() -> argparse.Namespace:
    parser = bench_parser(__doc__, workers=1)
    parser.add_argument(
        "--sessions",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[1_000_000],
        help="sessions to fill the database with; several sizes separated by commas",
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests (and DBAPI runs) per query")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per query first")
    parser.add_argument(
        "--before-src",
        help="also measure the code at this src directory (e.g. /work/main/src) on the same data, in turns",
    )
    parser.add_argument("--before-revision", default="0015", help="the Alembic head of --before-src")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of (before, after) per size")
    parser.add_argument("--explain", action="store_true", help="print the database's plan of each query")
    return parser.parse_args()


# --- filling ------------------------------------------------------------------------------------------


def _stamp(kind: str, moment: datetime) -> str:
    """As the server stores it: SQLite text 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); PostgreSQL ISO 8601."""
    if kind == "sqlite":
        return moment.replace(tzinfo=None).isoformat(" ", "microseconds")
    return moment.isoformat()


def _offsets(rng: random.Random, total: int) -> list[float]:
    """Seconds after the start of the year, sorted: ids grow with time, as they do when sessions arrive."""
    return sorted(rng.uniform(0, DAYS * 86400) for _ in range(total))


def _session_row(rng: random.Random, kind: str, org_id: int, number: int, start: datetime) -> tuple[Any, ...]:
    agent_id, agent_name, prompt_id, prompt_name, _ = rng.choices(AGENTS, weights=WEIGHTS)[0]
    channel_type, channel_service = CHANNELS[number % len(CHANNELS)]
    duration = round(rng.lognormvariate(4.6, 0.6), 3)  # about 100 s, long tail
    end = start + timedelta(seconds=duration)
    version = rng.randint(1, 6)
    started, ended = _stamp(kind, start), _stamp(kind, end)
    return (
        org_id,
        "voice",
        started,
        f"conv-{number // 2:08d}",
        channel_service,
        channel_type,
        f"call-{number:08d}",
        agent_id,
        agent_name,
        "ai_agent",
        "America/Chicago",
        prompt_id,
        prompt_name,
        f"v{version}",
        version,
        duration,
        None,
        f"+1555{rng.randint(1000000, 9999999)}",
        f"{agent_name.lower().replace(' ', '-')}-line",
        False,
        rng.random() < 0.05,
        rng.random() < 0.25,
        rng.random() < 0.7,
        False,
        None,
        started,
        started,
        ended,
        ended,
        None,
        rng.randint(12, 30),
        "{}",
        ended,
    )


def session_chunks(kind: str, org_id: int, total: int, seed: int) -> Iterator[list[tuple[Any, ...]]]:
    """Every session row, CHUNK at a time, deterministic for a seed."""
    rng = random.Random(seed)
    first = END - timedelta(days=DAYS)
    offsets = _offsets(rng, total)
    for begin in range(0, total, CHUNK):
        chunk = []
        for number in range(begin, min(begin + CHUNK, total)):
            chunk.append(_session_row(rng, kind, org_id, number, first + timedelta(seconds=offsets[number])))
        yield chunk


def fill_sqlite(target: Target, total: int, seed: int) -> float:
    conn = target.connect_sqlite()
    try:
        org_id = conn.execute("SELECT id FROM organization WHERE name = ?", (ORG,)).fetchone()[0]
        began = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for chunk in session_chunks("sqlite", org_id, total, seed):
            conn.executemany(SESSION_SQL.format(p="?"), chunk)
        conn.execute("COMMIT")
        elapsed = time.perf_counter() - began
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return elapsed
    finally:
        conn.close()


def fill_pg(target: Target, total: int, seed: int) -> float:
    with target.connect_pg() as conn:
        row = conn.execute("SELECT id FROM organization WHERE name = %s", (ORG,)).fetchone()
        assert row is not None
        began = time.perf_counter()
        with conn.cursor() as cur:
            for chunk in session_chunks("postgresql", int(row[0]), total, seed):
                with cur.copy(f"COPY session ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for values in chunk:
                        copy.write_row(values)
        conn.commit()
        elapsed = time.perf_counter() - began
    fold_counts(target)
    with target.connect_pg() as conn:
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return elapsed


def fold_counts(target: Target) -> None:
    """Fold session_count's delta rows as the server's CountFolder does (absent before migration 0016)."""
    try:
        from sessionary.sessions import counts
    except ImportError:
        return
    database = open_database(target.url, pool_size=1)
    try:
        while True:
            with session_scope(database.writer) as db:
                days = counts.unfolded_days(db)
                counts.fold(db, days)
            if not days:
                return
    finally:
        database.dispose()


# --- the queries --------------------------------------------------------------------------------------


def queries() -> list[Query]:
    """(a) newest first; (b) 7 days + agent; (c) page 100 of an agent. Same values as HTTP and ListParams."""
    week_start = END - timedelta(days=180)
    start, end = week_start.isoformat().replace("+00:00", "Z"), (week_start + timedelta(days=7)).isoformat()
    end = end.replace("+00:00", "Z")
    agent = {"search_fields": "agent_name", "search_field_values": FILTER_AGENT}
    return [
        Query("(a) first page, newest first", {}, _params()),
        Query(
            "(b) 7 days + agent_name",
            {**agent, "start_datetime": start, "end_datetime": end},
            _params(agent=True, start=start, end=end),
        ),
        Query("(c) agent_name, page 100", {**agent, "page": 100}, _params(agent=True, page=100)),
    ]


def _params(
    *, agent: bool = False, page: int = 0, start: str | None = None, end: str | None = None
) -> ListParams:
    return ListParams(
        page=page,
        limit=PAGE_SIZE,
        search_fields=["agent_name"] if agent else [],
        search_field_values=[FILTER_AGENT] if agent else [],
        order_by=None,
        order_by_direction=None,
        fields=[],
        start_datetime=parse_datetime("start_datetime", start) if start else None,
        end_datetime=parse_datetime("end_datetime", end) if end else None,
    )


@dataclass(frozen=True)
class Statement:
    role: str  # "count", "page" or "lookup" (anything else the list runs first)
    sql: str
    parameters: Any


def _roles(seen: list[tuple[str, Any]]) -> list[Statement]:
    """Name each SELECT of one list: the last fetches the page, a count(...) one counts, others look up."""
    named = []
    for index, (sql, parameters) in enumerate(seen):
        if index == len(seen) - 1:
            role = "page"
        elif "count(" in sql.lower() or "sum(" in sql.lower():
            role = "count"
        else:
            role = f"lookup {index + 1}"
        named.append(Statement(role, sql, parameters))
    return named


def captured_sql(target: Target, org_id: int, params: ListParams, *, counted: bool) -> list[Statement]:
    """The SELECTs, with their parameters, that sessionary sends to the DBAPI for one list (`counted`
    False: as before session_count, a COUNT(*) of the listed rows)."""
    database = open_database(target.url, pool_size=1)
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        with session_scope(database.reader) as db:
            if counted:
                service.list_sessions(db, organization_id=org_id, params=params)
            else:
                uncounted = dataclasses.replace(service._LISTING, counter=None)
                uncounted.page(db, organization_id=org_id, params=params)
    finally:
        database.dispose()
    if not seen:
        raise SystemExit("sessionary's list ran no SELECT")
    return _roles(seen)


# --- measuring ----------------------------------------------------------------------------------------


def _timed(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def _runner(conn: Any, statement: str, parameters: Any) -> Callable[[], object]:
    def run() -> object:
        cursor = conn.execute(statement, parameters)
        return cursor.fetchall()

    return run


def _http_probe(client: httpx.Client, query: Query) -> Callable[[], httpx.Response]:
    def get() -> httpx.Response:
        response = client.get(LIST_PATH, params=query.params)
        if response.status_code != 200:
            raise SystemExit(f"{query.label}: HTTP {response.status_code} {response.text[:300]}")
        return response

    return get


def measure(
    result: Measured, get: Callable[[], httpx.Response], sql: Sequence[Statement], conn: Any, runs: int
) -> None:
    """Alternate one HTTP request and one DBAPI run of the same SQL, so that both see the same caches."""
    runners = [(statement.role, _runner(conn, statement.sql, statement.parameters)) for statement in sql]
    for _ in range(runs):
        result.http.append(_timed(get))
        total = 0.0
        for role, runner in runners:
            elapsed = _timed(runner)
            result.db_parts.setdefault(role, []).append(elapsed)
            total += elapsed
        result.db_total.append(total)


def check(result: Measured, get: Callable[[], httpx.Response]) -> None:
    body = get().json()
    result.total_count, result.items = int(body["total_count"]), len(body["items"])
    if result.total_count <= 0 or result.items <= 0:
        raise SystemExit(f"{result.query.label}: empty result (total_count {result.total_count})")


def exact_count(target: Target, org_id: int, params: ListParams) -> int:
    """A plain COUNT(*) of the sessions the list shows for `params` (its searches are agent_name ones)."""
    where = [Session.organization_id == org_id]
    where += [Session.agent_name.icontains(value) for value in params.search_field_values]
    if params.start_datetime is not None:
        where.append(Session.timestamp >= params.start_datetime)
    if params.end_datetime is not None:
        where.append(Session.timestamp < params.end_datetime)
    database = open_database(target.url, pool_size=1)
    try:
        with session_scope(database.reader) as db:
            return db.scalar(select(func.count()).select_from(Session).where(*where)) or 0
    finally:
        database.dispose()


def explain(conn: Any, kind: str, sql: Sequence[Statement]) -> list[str]:
    prefix = "EXPLAIN QUERY PLAN " if kind == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    plans = []
    for statement in sql:
        rows = conn.execute(prefix + statement.sql, statement.parameters).fetchall()
        text = "\n".join(" | ".join(str(cell) for cell in row) for row in rows)
        plans.append(f"{statement.role}:\n{text}")
    return plans


def measure_all(
    target: Target,
    org_id: int,
    client: httpx.Client,
    results: list[Measured],
    args: argparse.Namespace,
    *,
    counted: bool = True,
) -> None:
    conn = target.connect_autocommit()
    try:
        for result in results:
            sql = captured_sql(target, org_id, result.query.list_params, counted=counted)
            get = _http_probe(client, result.query)
            measure(Measured(result.query), get, sql, conn, args.warmup)  # warm-up, not kept
            measure(result, get, sql, conn, args.requests)
            check(result, get)
            result.sql = sql
            result.exact = exact_count(target, org_id, result.query.list_params)
            if result.exact != result.total_count:
                raise SystemExit(
                    f"{result.query.label}: total_count {result.total_count} != COUNT(*) {result.exact}"
                )
            if args.explain:
                result.plans = explain(conn, target.kind, sql)
    finally:
        conn.close()


def organization_id(target: Target) -> int:
    if target.kind == "sqlite":
        conn: Any = sqlite3.connect(target.sqlite_path or "")
        try:
            return int(conn.execute("SELECT id FROM organization WHERE name = ?", (ORG,)).fetchone()[0])
        finally:
            conn.close()
    with target.connect_pg() as pg:
        row = pg.execute("SELECT id FROM organization WHERE name = %s", (ORG,)).fetchone()
        assert row is not None
        return int(row[0])


# --- the run ------------------------------------------------------------------------------------------


def _ms(values: Sequence[float]) -> str:
    return f"{percentile(values, 50) * 1000:7.1f} / {percentile(values, 95) * 1000:7.1f} ms"


@dataclass
class CodeRun:
    label: str  # "before" (--before-src) or "after" (this checkout), with the round
    source: str | None  # --before-src, or None: this checkout
    results: list[Measured]


@dataclass
class SizeRun:
    sessions: int
    version: str
    fill_seconds: float
    runs: list[CodeRun]

    def after(self) -> list[CodeRun]:
        return [run for run in self.runs if run.label.startswith("after")]


def report(args: argparse.Namespace, run: SizeRun, code: CodeRun) -> None:
    analyze = "then ANALYZE" if args.db == "sqlite" else "then fold session_count, VACUUM ANALYZE"
    fill = "executemany" if args.db == "sqlite" else "COPY"
    rows = [
        ("database", run.version),
        ("sessionary (server)", code.source or sessionary_source()),
        ("sessions", f"{run.sessions:,} in one organization, {DAYS} days, {len(AGENTS)} agents"),
        (
            f"fill (generate + {fill})",
            f"{run.sessions / run.fill_seconds:,.0f} rows/s ({run.fill_seconds:.1f} s), {analyze}",
        ),
        ("timed runs per query", f"{args.requests} after {args.warmup} warm-up; page size {PAGE_SIZE}"),
        ("server", f"sessionary serve --workers {args.workers}; one keep-alive client"),
        ("order", "each HTTP request is followed by one DBAPI run of the same SQL (same caches)"),
        ("load", _load()),
    ]
    for result in code.results:
        p95 = percentile(result.http, 95) * 1000
        rows += [
            (
                result.query.label,
                f"total_count {result.total_count:,} (= COUNT(*) {result.exact:,}), {result.items} items",
            ),
            (
                "  HTTP p50 / p95",
                f"{_ms(result.http)}   target p95 < {TARGET_P95_MS:.0f} ms  {verdict(p95 < TARGET_P95_MS)}",
            ),
            *((f"  DBAPI {role} p50 / p95", _ms(times)) for role, times in result.db_parts.items()),
            (f"  DBAPI {' + '.join(result.db_parts)} p50 / p95", _ms(result.db_total)),
            (
                "  HTTP - DBAPI at p50",
                f"{(percentile(result.http, 50) - percentile(result.db_total, 50)) * 1000:.1f} ms",
            ),
        ]
    print_block(f"bench/list.py --db {args.db} --sessions {run.sessions} [{code.label}]", rows)
    for result in code.results:
        print(f"\nSQL of {result.query.label}:")
        for statement in result.sql:
            print(f"  {statement.role}: {' '.join(statement.sql.split())}  {statement.parameters}")
        for plan in result.plans:
            print(f"\nplan of {result.query.label}:\n{plan}")


def _load() -> str:
    """The load averages (1, 5, 15 min) at the end of the size's run: the machine is shared."""
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def _p95(results: list[Measured], index: int) -> float:
    return percentile(results[index].http, 95) * 1000


def report_pairs(run: SizeRun) -> None:
    """Each case's HTTP p95 (and DBAPI p95) of every code run of one size, in the order they ran."""
    rows = []
    for index, measured in enumerate(run.runs[0].results):
        figures = "  ".join(
            f"{code.label} {_p95(code.results, index):.1f} "
            f"(db {percentile(code.results[index].db_total, 95) * 1000:.1f})"
            for code in run.runs
        )
        rows.append((measured.query.label, figures))
    print_block(f"bench/list.py {run.sessions:,} sessions: HTTP p95 ms (DBAPI p95 ms), in run order", rows)


def report_growth(sizes: list[SizeRun]) -> None:
    """Each case's HTTP p95 at every size (the worst of this checkout's runs), and largest over smallest."""
    small, large = sizes[0], sizes[-1]
    rows = []
    for index, measured in enumerate(small.runs[0].results):
        worst = {size.sessions: max(_p95(code.results, index) for code in size.after()) for size in sizes}
        figures = "  ".join(f"{sessions:,}: {p95:.1f} ms" for sessions, p95 in worst.items())
        ratio = worst[large.sessions] / worst[small.sessions]
        growth = f"ratio {ratio:.2f}  {verdict(ratio <= 1.3)} (<= 1.3)"
        rows.append((measured.query.label, f"p95 {figures}   {growth}"))
    print_block(f"bench/list.py growth {small.sessions:,} -> {large.sessions:,} sessions", rows)


def _revision(target: Target, revision: str | None = None) -> str:
    """The database's Alembic revision; set to `revision` when given (the code before ours stops at its
    own head; session_count and its triggers stay, unused by its reads)."""
    conn = target.connect_autocommit()
    try:
        if revision is not None:
            conn.execute(
                "UPDATE alembic_version SET version_num = " + ("?" if target.kind == "sqlite" else "%s"),
                (revision,),
            )
        return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    finally:
        conn.close()


def measure_code(
    args: argparse.Namespace, target: Target, workdir: Path, label: str, source: str | None
) -> CodeRun:
    """Serve the database with this checkout (`source` None) or the code at `source`, and measure."""
    org_id = organization_id(target)
    key = create_key(target, ORG, "read")
    ours, path = _revision(target), os.environ.get("PYTHONPATH", "")
    if source is not None:
        _revision(target, args.before_revision)
        os.environ["PYTHONPATH"] = f"{source}:{path}"
    results = [Measured(query) for query in queries()]
    try:
        with serve(target, workdir, workers=args.workers) as server:
            print(
                f"[{label}] server {server.url} up; measuring GET {LIST_PATH} and its SQL through the DBAPI"
            )
            headers = {"Syllable-API-Key": key}
            with httpx.Client(base_url=server.url, headers=headers, timeout=300) as client:
                measure_all(target, org_id, client, results, args, counted=source is None)
    finally:
        os.environ["PYTHONPATH"] = path
        _revision(target, ours)
    return CodeRun(label, source, results)


def run_size(args: argparse.Namespace, workdir: Path, sessions: int) -> SizeRun:
    with fresh_database(args.db, workdir, f"list-{sessions}", args.pg_url) as target:
        create_key(target, ORG, "read")
        print(f"filling {sessions:,} sessions ...")
        fill = fill_sqlite if args.db == "sqlite" else fill_pg
        fill_seconds = fill(target, sessions, args.seed)
        version = (
            f"SQLite {sqlite_version()}" if args.db == "sqlite" else f"PostgreSQL {postgres_version(target)}"
        )
        run = SizeRun(sessions, version, fill_seconds, [])
        codes = [("before", args.before_src), ("after", None)] if args.before_src else [("after", None)]
        for round_ in range(1, args.rounds + 1):
            for label, source in codes:
                run.runs.append(measure_code(args, target, workdir, f"{label} {round_}", source))
                report(args, run, run.runs[-1])
    return run


def run(args: argparse.Namespace, workdir: Path) -> None:
    sizes = []
    for sessions in args.sessions:
        sizes.append(run_size(args, workdir, sessions))
        report_pairs(sizes[-1])
    if len(sizes) > 1:
        report_growth(sizes)


def main() -> int:
    args = parse_args()
    with workspace(keep=args.keep) as workdir:
        run(args, workdir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
