"""The purge worker deleting expired sessions while ingest runs: the purge rate, and the ingest rate during
the purge next to the ingest rate without it, in the same run.

    .venv/bin/python bench/purge.py [--db sqlite|postgresql] [--sessions 500000] [--workers 2]
                                    [--purge-batch 500] [--purge-share 0.25] [--window 20] [--clients 2]

1. Fills a fresh database with --sessions expired sessions (two years old, about 20 events each: transcripts,
   tool calls, latency; the events as bench/ingest.py makes them) straight through the DBAPI (SQLite:
   executemany in large transactions, then the search index rebuilt; PostgreSQL: COPY), not through the API.
2. Starts `sessionary serve` (its purge worker on, polling every second, SESSIONARY_PURGE_BATCH and
   SESSIONARY_PURGE_PAUSE_SECONDS from the options) and --clients threads posting new sessions' events
   (batches of --batch events) as fast as the server takes them, all along.
3. Alternates windows of --window seconds with the purge off and on (PUT /api/v1/retention: null, then
   `retention_days` 365, which every prefilled session is past; the worker reads the period again at every
   batch) until no expired session is left, and compares the ingest rate in the windows with the purge to
   the rate in the windows without it: the same minutes, a database of the same size (ingest slows by
   itself as the database grows, so a window before and one after the purge would not compare). The purge
   rate is the sessions purged per second of its windows. Target: ingest keeps at least 0.7 of its rate
   during the purge on SQLite.
"""

from __future__ import annotations

import argparse
import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from harness import (
    Target,
    bench_parser,
    create_key,
    fresh_database,
    print_block,
    serve,
    sessionary_source,
    verdict,
    workspace,
)
from ingest import INGEST_PATH, session_events

ORG = "bench-purge"
TARGET_RATIO = 0.7
TX_SESSIONS = 10_000  # prefilled sessions per transaction
TEMPLATES = 64  # distinct generated sessions whose events the prefill repeats
OLD = datetime.now(UTC) - timedelta(days=730)


def parse_args() -> argparse.Namespace:
    parser = bench_parser(__doc__, workers=2)
    parser.add_argument("--sessions", type=int, default=500_000, help="expired sessions to purge")
    parser.add_argument("--clients", type=int, default=2, help="threads posting ingest batches")
    parser.add_argument("--batch", type=int, default=1000, help="events per ingest request")
    parser.add_argument("--window", type=float, default=20.0, help="seconds of each window, purge off or on")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds left out at each window's start")
    parser.add_argument("--purge-batch", type=int, default=500, help="SESSIONARY_PURGE_BATCH")
    parser.add_argument("--purge-pause", type=float, default=0.05, help="SESSIONARY_PURGE_PAUSE_SECONDS")
    parser.add_argument("--purge-share", type=float, default=0.25, help="SESSIONARY_PURGE_BUSY_SHARE")
    return parser.parse_args()


# --- the prefill ----------------------------------------------------------------------------------------


def _templates(seed: int) -> list[list[tuple[str, int, str]]]:
    """Sessions' events (type, microseconds after the start, data as JSON), as bench/ingest.py makes them."""
    rng = random.Random(seed)
    made = []
    for number in range(TEMPLATES):
        events = session_events(rng, number, 0, seq=0)
        made.append([(e.type, e.ts_us, orjson.dumps(e.data).decode()) for e in events])
    return made


def _stamp(kind: str, moment: datetime) -> Any:
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds") if kind == "sqlite" else moment


def prefill_rows(kind: str, org_id: int, count: int, seed: int) -> Iterator[tuple[list[tuple], list[tuple]]]:
    """(session rows, event rows) per transaction, ids given here (the database is fresh)."""
    templates = _templates(seed)
    now = _stamp(kind, datetime.now(UTC))
    event_id = 0
    for first in range(0, count, TX_SESSIONS):
        sessions, events = [], []
        for number in range(first, min(first + TX_SESSIONS, count)):
            start = OLD + timedelta(seconds=number * 60)
            plan = templates[number % TEMPLATES]
            last = start + timedelta(microseconds=plan[-1][1])
            sid = f"old-{number:08d}"
            sessions.append(
                (number + 1, org_id, "voice", _stamp(kind, start), "hedy", "voice_sip_v1", sid,
                 _stamp(kind, start), _stamp(kind, last), len(plan), "{}", now)
            )  # fmt: skip
            for index, (kind_, offset, data) in enumerate(plan):
                event_id += 1
                at = _stamp(kind, start + timedelta(microseconds=offset))
                events.append((event_id, org_id, f"{sid}-{index}", number + 1, kind_, at, data, now))
        yield sessions, events


SESSION_COLUMNS = (
    "id, organization_id, session_type, timestamp, channel_manager_service, channel_manager_type, "
    "channel_manager_sid, first_event_at, last_event_at, event_count, field_versions, updated_at"
)
EVENT_COLUMNS = "id, organization_id, event_id, session_id, type, timestamp, data, received_at"


def prefill_sqlite(target: Target, org_id: int, count: int, seed: int) -> int:
    conn = target.connect_sqlite()
    events = 0
    try:
        for sessions, rows in prefill_rows("sqlite", org_id, count, seed):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                f"INSERT INTO session ({SESSION_COLUMNS}) VALUES ({', '.join('?' * 12)})", sessions
            )
            conn.executemany(f"INSERT INTO event ({EVENT_COLUMNS}) VALUES ({', '.join('?' * 8)})", rows)
            conn.execute("COMMIT")
            events += len(rows)
        conn.execute("INSERT INTO transcript_fts(transcript_fts) VALUES ('rebuild')")  # as migration 0004
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return events


def prefill_pg(target: Target, org_id: int, count: int, seed: int) -> int:
    events = 0
    with target.connect_pg() as conn:
        with conn.cursor() as cur:
            for sessions, rows in prefill_rows("postgresql", org_id, count, seed):
                with cur.copy(f"COPY session ({SESSION_COLUMNS}) FROM STDIN") as copy:
                    for row in sessions:
                        copy.write_row(row)
                with cur.copy(f"COPY event ({EVENT_COLUMNS}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                conn.commit()
                events += len(rows)
            for table in ("session", "event"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return events


# --- the ingest load --------------------------------------------------------------------------------------


@dataclass
class Load:
    """Client threads posting new sessions' events as fast as the server answers: (time, events) each."""

    url: str
    key: str
    batch: int
    answers: list[tuple[float, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next: int = 0

    def _body(self, rng: random.Random) -> bytes:
        with self._lock:
            self._next += 1
            number = self._next
        now = datetime.now(UTC) - timedelta(hours=1)
        events: list[dict[str, Any]] = []
        session = 0
        while len(events) < self.batch:
            sid = f"new-{number:07d}-{session:03d}"
            for index, e in enumerate(session_events(rng, session, 0, seq=0)):
                at = (now + timedelta(microseconds=e.ts_us)).isoformat().replace("+00:00", "Z")
                events.append(
                    {"event_id": f"{sid}-{index}", "type": e.type, "timestamp": at,
                     "channel_manager_service": "hedy", "channel_manager_sid": sid, "data": e.data}
                )  # fmt: skip
            session += 1
        return orjson.dumps({"events": events[: self.batch]})

    def _post(self, seed: int) -> None:
        rng = random.Random(seed)
        headers = {"Syllable-API-Key": self.key, "Content-Type": "application/json"}
        with httpx.Client(base_url=self.url, timeout=600, headers=headers) as client:
            while not self._stop.is_set():
                response = client.post(INGEST_PATH, content=self._body(rng))
                if response.status_code != 200:
                    self.errors.append(f"HTTP {response.status_code}: {response.text[:300]}")
                    return
                with self._lock:
                    self.answers.append((time.monotonic(), int(response.json()["inserted"])))

    def start(self, clients: int) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._post, args=(n,), daemon=True) for n in range(clients)]
        for thread in threads:
            thread.start()
        return threads

    def stop(self, threads: list[threading.Thread]) -> None:
        self._stop.set()
        for thread in threads:
            thread.join(timeout=600)

    def rate_in(self, spans: list[tuple[float, float]]) -> float:
        """Events stored per second by the answers received within these (start, end) spans."""
        with self._lock:
            events = sum(n for at, n in self.answers if any(start <= at < end for start, end in spans))
        seconds = sum(end - start for start, end in spans)
        return events / max(seconds, 1e-9)


def organization_id(target: Target) -> int:
    query = "SELECT id FROM organization WHERE name = {}"
    if target.kind == "sqlite":
        conn = target.connect_sqlite()
        try:
            return int(conn.execute(query.format("?"), (ORG,)).fetchone()[0])
        finally:
            conn.close()
    with target.connect_pg() as pg:
        row = pg.execute(query.format("%s"), (ORG,)).fetchone()
        assert row is not None
        return int(row[0])


def wal_mb(target: Target) -> float:
    """The SQLite write-ahead log's size (MB; 0 on PostgreSQL): a purge leaves it large for a while."""
    if target.sqlite_path is None:
        return 0.0
    wal = Path(f"{target.sqlite_path}-wal")
    return wal.stat().st_size / 2**20 if wal.exists() else 0.0


@dataclass
class Figures:
    wal: list[float] = field(default_factory=list)
    events: int = 0
    fill_seconds: float = 0.0
    without: float = 0.0  # ingest, events/s, in the windows with no retention set
    during: float = 0.0  # ingest, events/s, in the windows with the purge running
    purge_seconds: float = 0.0  # time with the purge on (its windows)
    purged: int = 0
    windows: int = 0


def expired_count(target: Target, org_id: int) -> int:
    cutoff = datetime.now(UTC) - timedelta(days=365)
    query = "SELECT count(*) FROM session WHERE organization_id = {0} AND timestamp < {0}"
    if target.kind == "sqlite":
        conn = target.connect_sqlite()
        try:
            return int(conn.execute(query.format("?"), (org_id, _stamp("sqlite", cutoff))).fetchone()[0])
        finally:
            conn.close()
    with target.connect_pg() as pg:
        row = pg.execute(query.format("%s"), (org_id, cutoff)).fetchone()
        return int(row[0]) if row else 0


def set_retention(url: str, admin: str, days: int | None) -> None:
    answer = httpx.put(
        f"{url}/api/v1/retention",
        json={"retention_days": days, "content_retention_days": None},
        headers={"Syllable-API-Key": admin},
    )
    answer.raise_for_status()


def measure(args: argparse.Namespace, target: Target, workdir: Path, admin: str, ingest_key: str) -> Figures:
    """Alternating windows of --window seconds, the purge off then on (retention_days null, then 365: the
    worker reads the period again at every batch), until nothing expired is left; ingest runs all along.
    Each window's first --settle seconds are left out (a batch under way, the worker's poll). So the rate
    without the purge is measured in the same minutes, on a database of the same size, as the rate with it."""
    figures = Figures()
    org_id = organization_id(target)
    left = expired_count(target, org_id)
    with serve(target, workdir, workers=args.workers) as server:
        load = Load(server.url, ingest_key, args.batch)
        threads = load.start(args.clients)
        time.sleep(5)  # warm up: connections, caches
        on, spans = False, {False: [], True: []}
        while not load.errors:
            began = time.monotonic()
            time.sleep(args.window)
            spans[on].append((began + args.settle, time.monotonic()))
            if on:
                figures.purge_seconds += time.monotonic() - began
                now_left = expired_count(target, org_id)
                print(f"  purge on: {left - now_left:,} sessions in {args.window:g} s; {now_left:,} left")
                figures.purged += left - now_left
                left = now_left
                figures.wal.append(wal_mb(target))
                if not left:
                    break
            on = not on
            set_retention(server.url, admin, 365 if on else None)
        load.stop(threads)
        if load.errors:
            raise SystemExit(f"ingest failed: {load.errors[0]}\n{server.tail()}")
    figures.without = load.rate_in(spans[False])
    figures.during = load.rate_in(spans[True])
    figures.windows = len(spans[True])
    return figures


def report(args: argparse.Namespace, figures: Figures) -> None:
    ratio = figures.during / figures.without if figures.without else 0.0
    wal = f"{max(figures.wal):,.0f} MB" if figures.wal else "-"
    rows = [
        ("source", sessionary_source()),
        ("prefill", f"{args.sessions:,} sessions, {figures.events:,} events, {figures.fill_seconds:,.0f} s"),
        ("purge batch / share / pause", f"{args.purge_batch} / {args.purge_share} / {args.purge_pause} s"),
        ("windows", f"{figures.windows} with the purge and as many without, {args.window:g} s each"),
        ("purged", f"{figures.purged:,} sessions in {figures.purge_seconds:,.1f} s with the purge on"),
        ("purge rate", f"{figures.purged / max(figures.purge_seconds, 1e-9):,.0f} sessions/s"),
        ("ingest without the purge", f"{figures.without:,.0f} events/s"),
        ("ingest during the purge", f"{figures.during:,.0f} events/s"),
        ("largest SQLite WAL", wal),
        ("during / without", f"{ratio:.2f}" + (f"  {verdict(ratio >= TARGET_RATIO)} (target >= {TARGET_RATIO} on SQLite)" if args.db == "sqlite" else "")),  # noqa: E501
    ]  # fmt: skip
    print_block(f"bench/purge.py --db {args.db} --sessions {args.sessions} --workers {args.workers}", rows)


def main() -> int:
    args = parse_args()
    os.environ.update(
        SESSIONARY_PURGE_WORKER="true",
        SESSIONARY_PURGE_POLL_SECONDS="1",
        SESSIONARY_PURGE_BATCH=str(args.purge_batch),
        SESSIONARY_PURGE_PAUSE_SECONDS=str(args.purge_pause),
        SESSIONARY_PURGE_BUSY_SHARE=str(args.purge_share),
    )
    with (
        workspace(keep=args.keep) as workdir,
        fresh_database(args.db, workdir, "purge", args.pg_url) as target,
    ):
        os.environ["SESSIONARY_BLOB_DIR"] = str(workdir / "blobs")
        admin = create_key(target, ORG, "admin")
        ingest_key = create_key(target, ORG, "ingest")
        org_id = organization_id(target)
        print(f"filling {args.sessions:,} expired sessions ...")
        began = time.perf_counter()
        fill = prefill_sqlite if args.db == "sqlite" else prefill_pg
        figures_events = fill(target, org_id, args.sessions, args.seed)
        fill_seconds = time.perf_counter() - began
        print(f"filled {figures_events:,} events in {fill_seconds:,.0f} s")
        figures = measure(args, target, workdir, admin, ingest_key)
        figures.events, figures.fill_seconds = figures_events, fill_seconds
    report(args, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
