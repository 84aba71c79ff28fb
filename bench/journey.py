"""Journey sessionization throughput: web events of many customers, two ways.

    .venv/bin/python bench/journey.py [--db sqlite|postgresql] [--customers 50000]
        [--http-events 100000] [--import-events 1000000] [--clients 8] [--workers 2]

(a) Single-event HTTP requests: `sessionary serve --workers N` on a fresh database, --clients threads each
    posting one WebEventRequest per request (keep-alive) to /api/v2/journey/deployments/{id}/webevents;
    createdDates fall in the last 50 minutes (the endpoint refuses events over an hour old). Every 201 is
    durable (committed before the answer); afterwards the stored events are counted against the 201s.
(b) The batch import path: `sessionary import --journey FILE` of historical events (about 20 per customer,
    interleaved in time order), timed end to end as a subprocess, on a second fresh database.
Both print events/s and the sessions built.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

import loadgen
from harness import (
    BIN,
    SEED,
    Target,
    bench_parser,
    cli,
    fresh_database,
    print_block,
    serve,
    sessionary_source,
    sqlite_version,
    verdict,
    workspace,
)
from sessionary.journey.ids import new_uuid

TARGET_HTTP = 1_500
EVENT_COLUMNS = (
    "id, organization_id, deployment_id, customer_id, kind, event_name, created_date, received_at, payload"
)
TARGET_IMPORT = 20_000
PAGES = ("/", "/shoes", "/socks", "/cart", "/checkout", "/help")
LANDINGS = (
    "",
    "?utm_source=google&utm_medium=cpc&utm_campaign=spring",
    "?utm_source=newsletter&utm_campaign=may",
)


def _event(cookie: str, at: datetime, step: int, rng: random.Random) -> dict[str, Any]:
    url = "https://www.example.com" + rng.choice(PAGES) + (rng.choice(LANDINGS) if step == 0 else "")
    return {
        "customerCookieId": cookie,
        "eventName": "page_viewed",
        "page": {"url": url, "title": "Example"},
        "createdDate": at.isoformat().replace("+00:00", "Z"),
    }


def _timeline(
    customers: int, events: int, start: datetime, span: timedelta
) -> list[tuple[datetime, int, int]]:
    """(time, customer, step) for `events` events, `events // customers` per customer, in time order:
    visits of up to five page views 30-120 s apart, starting at random times of the span."""
    rng = random.Random(SEED)
    per = max(1, events // customers)
    rows = []
    for customer in range(customers):
        step = 0
        while step < per:
            at = start + timedelta(seconds=rng.uniform(0, span.total_seconds()))
            for _ in range(min(5, per - step)):
                rows.append((at, customer, step))
                at += timedelta(seconds=rng.uniform(30, 120))
                step += 1
    rows.sort()
    return rows


def _deployment(target: Target) -> str:
    return (
        cli(target, "deployments", "create", "--org", "bench", "--name", "Bench site")
        .strip()
        .splitlines()[-1]
    )


def _stored(target: Target) -> tuple[int, int]:
    """(events, sessions) stored."""
    queries = ("SELECT count(*) FROM journey_event", "SELECT count(*) FROM journey_session")
    if target.kind == "sqlite":
        conn = sqlite3.connect(target.sqlite_path)  # type: ignore[arg-type]
        try:
            return tuple(conn.execute(q).fetchone()[0] for q in queries)  # type: ignore[return-value]
        finally:
            conn.close()
    with target.connect_pg() as conn:
        return tuple(conn.execute(q).fetchone()[0] for q in queries)  # type: ignore[index,return-value]


def run_http(kind: str, work: Path, args: argparse.Namespace) -> list[tuple[str, str]]:
    now = datetime.now(UTC)
    rng = random.Random(SEED)
    bodies = [
        orjson.dumps(_event(f"c{c:06d}", at, step, rng))
        for at, c, step in _timeline(
            args.customers, args.http_events, now - timedelta(minutes=50), timedelta(minutes=49)
        )
    ]
    with fresh_database(kind, work, "http", args.pg_url) as target:
        deployment = _deployment(target)
        path = f"/api/v2/journey/deployments/{deployment}/webevents"
        with serve(target, work, workers=args.workers) as server:
            cpu_before, started, own = server.cpu_seconds(), time.perf_counter(), time.process_time()
            result = loadgen.post_all(server.url, path, bodies, args.clients)
            elapsed, own = time.perf_counter() - started, time.process_time() - own
            cpu = server.cpu_seconds() - cpu_before
        events, sessions = _stored(target)
    acked, failures = result.count(201), result.failures
    rate = acked / elapsed
    return [
        (
            "(a) HTTP events posted",
            f"{len(bodies):,} by {args.clients} clients, {args.workers} server processes",
        ),
        (
            "(a) acknowledged / stored",
            f"{acked:,} / {events:,}" + (f"  failures: {failures}" if failures else ""),
        ),
        (
            "(a) events/s",
            f"{rate:,.0f}  {verdict(rate >= TARGET_HTTP and events == acked)} (>= {TARGET_HTTP:,})",
        ),
        ("(a) sessions built", f"{sessions:,}"),
        ("(a) server CPU per event", f"{cpu / max(acked, 1) * 1e6:,.0f} us ({cpu / elapsed:.2f} cores busy)"),
        ("(a) client CPU per event", f"{own / max(acked, 1) * 1e6:,.0f} us ({own / elapsed:.2f} cores busy)"),
    ]


def run_import(kind: str, work: Path, args: argparse.Namespace) -> list[tuple[str, str]]:
    rng = random.Random(SEED + 1)
    with fresh_database(kind, work, "import", args.pg_url) as target:
        deployment = _deployment(target)
        path = work / "journey.jsonl"
        with path.open("wb") as out:
            start = datetime(2025, 6, 1, tzinfo=UTC)
            for at, c, step in _timeline(args.customers, args.import_events, start, timedelta(days=3)):
                line = {
                    "deploymentId": deployment,
                    "type": "web",
                    "event": _event(f"c{c:06d}", at, step, rng),
                }
                out.write(orjson.dumps(line) + b"\n")
        # The caller's environment (PYTHONPATH: the source under test, as `serve` and `cli` pass it).
        env = {**os.environ, "SESSIONARY_DATABASE_URL": target.url}
        started = time.perf_counter()
        done = subprocess.run(
            [str(BIN / "sessionary"), "import", "--journey", str(path)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"import failed:\n{done.stdout}\n{done.stderr}")
        events, sessions = _stored(target)
    rate = events / elapsed
    return [
        ("(b) import events", f"{events:,} in {elapsed:,.1f} s"),
        ("(b) events/s", f"{rate:,.0f}  {verdict(rate >= TARGET_IMPORT)} (>= {TARGET_IMPORT:,})"),
        ("(b) sessions built", f"{sessions:,}"),
    ]


def _limit_rows(target: Target, deployment: str, count: int) -> tuple[Any, list[tuple[Any, ...]]]:
    """A connection to `target` and `count` journey_event rows of one new customer, in the driver's form."""
    sqlite = target.kind == "sqlite"
    conn: Any = target.connect_sqlite() if sqlite else target.connect_pg()
    mark = "?" if sqlite else "%s"
    org = conn.execute(f"SELECT organization_id FROM journey_deployment WHERE id = {mark}", (deployment,))
    organization_id = org.fetchone()[0]
    conn.execute(
        "INSERT INTO journey_customer"
        " (organization_id, deployment_id, cookie_id, event_count, pageview_count)"
        f" VALUES ({mark}, {mark}, 'limit', 0, 0)",
        (organization_id, deployment),
    )
    customer = conn.execute("SELECT id FROM journey_customer WHERE cookie_id = 'limit'").fetchone()[0]
    if not sqlite:
        conn.commit()
    now = datetime.now(UTC)
    when = (lambda d: d.isoformat(" ", "microseconds")[:26]) if sqlite else (lambda d: d)
    payload = orjson.dumps(_event("limit", now, 1, random.Random(SEED))).decode()
    fixed = (organization_id, deployment, customer, "web", "page_viewed", when(now), when(now), payload)
    rows = [(new_uuid(), *fixed) for _ in range(count)]  # ids as the product makes them (UUIDv7)
    return conn, rows


def run_limits(kind: str, work: Path, args: argparse.Namespace) -> list[tuple[str, str]]:
    """The database's own limits, on a fresh migrated database, straight through the driver: (a) one durable
    transaction per event (BEGIN, INSERT the event row, COMMIT); (b) event rows alone by executemany, 5,000
    per transaction. Neither sessionizes or touches a session: they bound what storing the events costs."""
    with fresh_database(kind, work, "limit", args.pg_url) as target:
        deployment = _deployment(target)
        conn, rows = _limit_rows(target, deployment, min(args.http_events, 20_000) + args.import_events)
        sqlite = kind == "sqlite"
        marks = ", ".join(["?" if sqlite else "%s"] * 8 + ["?" if sqlite else "%s::jsonb"])
        insert = f"INSERT INTO journey_event ({EVENT_COLUMNS}) VALUES ({marks})"
        single, bulk = rows[: min(args.http_events, 20_000)], rows[min(args.http_events, 20_000) :]
        try:
            started = time.perf_counter()
            for row in single:
                if sqlite:
                    conn.execute("BEGIN IMMEDIATE")
                conn.execute(insert, row)
                conn.commit() if not sqlite else conn.execute("COMMIT")
            single_rate = len(single) / (time.perf_counter() - started)
            started = time.perf_counter()
            for start in range(0, len(bulk), 5000):
                if sqlite:
                    conn.execute("BEGIN IMMEDIATE")
                conn.cursor().executemany(insert, bulk[start : start + 5000])
                conn.commit() if not sqlite else conn.execute("COMMIT")
            bulk_rate = len(bulk) / (time.perf_counter() - started)
        finally:
            conn.close()
    return [
        ("(a) database limit", f"{single_rate:,.0f} transactions/s of one event row each (no sessions)"),
        ("(b) database limit", f"{bulk_rate:,.0f} event rows/s, 5,000 per transaction (no sessions)"),
    ]


def main() -> None:
    parser = bench_parser(__doc__, workers=2)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--http-events", type=int, default=100_000)
    parser.add_argument("--import-events", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--skip", choices=("http", "import"), help="run only the other half")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = [("sessionary", sessionary_source()), ("database", args.db)]
    with workspace() as work:
        if args.skip != "http":
            rows += run_http(args.db, work, args)
        if args.skip != "import":
            rows += run_import(args.db, work, args)
        rows += run_limits(args.db, work, args)
        if args.db == "sqlite":
            rows.append(("SQLite", sqlite_version()))
    print_block("journey sessionization", rows)


if __name__ == "__main__":
    main()
