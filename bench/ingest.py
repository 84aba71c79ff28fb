"""Ingest throughput: native events over HTTP into a fresh server, against raw DBAPI inserts of the same rows.

    .venv/bin/python bench/ingest.py [--db sqlite|postgresql] [--events 1000000] [--clients 4] [--workers 2]

1. Generates N events (about 20 per session: session.started, transcripts, tool calls, latency samples,
   session.ended), in timestamp order across --open-sessions concurrently running sessions, as request
   bodies of --batch events serialized with orjson. All of that happens before any timing.
2. Starts `sessionary serve` on a fresh database, posts every body to POST /api/v1/ingest/events from
   --clients threads, and reports events/s end to end and the server's peak RSS (process + children).
3. Inserts the same event rows straight into the `event` table of a second fresh database built by
   `sessionary db upgrade` (same columns, unique and secondary indexes, foreign keys), with one DBAPI
   executemany in one transaction, and reports that rate and the ratio end-to-end / raw. On PostgreSQL
   also with one COPY (the physical limit) into a third, and the ratio end-to-end / COPY.

`--prefill N`: a database is filled first (untimed) with N events straight through the driver
(ingest_growth.py says what the prefill holds); then step 2 runs three times back to back, on an empty
database, on the prefilled one and on an empty one again, and the ratio of the prefilled rate to the mean of
the two empty rates is printed (timed in the same minutes, so a change of the machine's load between the
fill and the timed runs does not enter the ratio).

`--case sessions --sessions N`: one `session.started` per new session, time-ordered, 10,000 per request,
one client, one organization; sessions/s for the first 100k and from 100k to N, and their ratio; then the
same rows straight through the driver into a fresh database, a transaction per request's worth (the limit:
ingest_growth.raw_sessions), and the ratio to it. `--against PATH` also serves the `src` directory of another
checkout, on a database of its own, each batch posted to both servers in turn: before/after in one run.
The events case takes `--against` too: rounds of `--round` requests, each posted to one server and then to
the other (ingest_against.py).
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import orjson

import ingest_against
import ingest_growth
from harness import (
    MachineCpu,
    RssSampler,
    Target,
    analyzer_for,
    bench_parser,
    cli,
    create_key,
    database_rows,
    fresh_database,
    percentile,
    postgres_version,
    print_block,
    serve,
    served_database,
    sessionary_source,
    share,
    sqlite_version,
    verdict,
    workspace,
)

INGEST_PATH = "/api/v1/ingest/events"
BASE_TIME = datetime(2025, 6, 1, tzinfo=UTC)
MEAN_SESSION_US = 115_000_000  # a session lasts about two minutes: 19 gaps of 1-11 s
TARGET_EVENTS_PER_S = 30_000
TARGET_RATIO = 0.25
TARGET_RSS_MB = 400
TARGET_GROWTH = 0.8  # the rate into a prefilled database (or of later sessions) against the first one
TARGET_SESSIONS = 10_000

CHANNELS = (("voice_sip_v1", "hedy"), ("voice_twilio_v1", "twilio"), ("web_chat_v1", "webchat"))
AGENTS = (
    ("101", "Pharmacy Refills", "7", "Refill assistant v3"),
    ("102", "Clinic Scheduling", "9", "Appointments"),
    ("103", "Billing Support", "12", "Billing FAQ"),
    ("104", "Front Desk", "15", "Opening hours"),
    ("105", "Lab Results", "18", "Results line v2"),
    ("106", "Insurance Verification", "21", "Eligibility"),
    ("107", "Prescription Status", "24", "Rx status"),
    ("108", "After Hours Triage", "27", "Nurse triage v5"),
    ("109", "Patient Intake", "30", "New patient intake"),
    ("110", "Feedback Survey", "33", "CSAT survey"),
)
AGENT_LINES = (
    "Thanks for calling Riverside Pharmacy. How can I help you today?",
    "Of course. Can I have your date of birth so I can look you up?",
    "Thank you. I see lisinopril 10 milligrams on file. Shall I send it to the Main Street store?",
    "Let me check the schedule for you, this will only take a moment.",
    "Tuesday at 9:30 is open with Doctor Patel. Would you like me to book it?",
    "I'm sorry about that. Could you give me the order number from your receipt?",
    "I can't reach the billing system right now. Let me transfer you to a specialist who can help.",
    "You're all set. You will receive a text message reminder the day before your appointment.",
    "Is there anything else I can help you with today?",
    "We are closed on Monday for the holiday and open again on Tuesday at 8 AM.",
)
USER_LINES = (
    "Hi, I need to refill my blood pressure prescription.",
    "It's March third, nineteen seventy-two.",
    "Yes please, Main Street.",
    "I'd like to book a check-up with Doctor Patel next week, ideally in the morning.",
    "I was charged twice for my last order and I'd like a refund for the second charge.",
    "It's A one two three four five.",
    "Okay, fine.",
    "No, that's all. Thanks!",
    "Can you tell me whether my lab results from last Thursday are in yet?",
    "Sorry, could you repeat that?",
)
TOOLS = (
    ("lookup_patient", {"dob": "1972-03-03", "last_name": "Nguyen"}, {"patient_id": "P-88213", "matches": 1}),
    ("check_availability", {"provider": "patel", "week": "next"}, {"slots": ["Tue 09:30", "Thu 11:00"]}),
    ("submit_refill", {"rx": "lisinopril-10", "store": "main-st"}, {"status": "queued", "ready": "+1d"}),
    ("lookup_order", {"order": "A12345"}, {"order": "A12345", "charges": [42.5, 42.5], "status": "paid"}),
)
LATENCIES = (
    ("stt", "stt_processing", 80, 400, ["Deepgram", "nova-3"]),
    ("llm", "llm_first_token", 250, 1600, ["Gpt-4.1", "OpenAI"]),
    ("tts", "tts_first_byte", 90, 500, ["ElevenLabs", "flash-v2"]),
)


class Pending(NamedTuple):
    """One generated event waiting in the time-ordered merge (a tuple: the heap compares ts_us, seq)."""

    ts_us: int
    seq: int
    number: int
    position: int
    type: str
    data: dict[str, Any]


@dataclass
class Workload:
    """Request bodies ready to send, and the same events as rows for the direct insert."""

    bodies: list[bytes]
    # (event_id, session number, type, ISO timestamp with +00:00, data as JSON text)
    rows: list[tuple[str, int, str, str, str]]
    sessions: dict[int, tuple[str, str, str]]  # number -> (service, sid, first ISO timestamp)
    seconds: float

    @property
    def payload_mb(self) -> float:
        return sum(len(body) for body in self.bodies) / 2**20


def parse_args() -> argparse.Namespace:
    parser = bench_parser(__doc__, workers=2)
    parser.add_argument("--events", type=int, default=1_000_000, help="events to ingest")
    parser.add_argument("--batch", type=int, default=5000, help="events per request")
    parser.add_argument(
        "--clients", type=int, default=4, help="client threads posting batches at once (1: one after another)"
    )
    parser.add_argument(
        "--open-sessions",
        type=int,
        default=500,
        help="sessions running at once; their events interleave in time (1: one session after another)",
    )
    parser.add_argument("--case", choices=("events", "sessions"), default="events")
    parser.add_argument("--prefill", type=int, default=0, help="events in the database before the timed part")
    parser.add_argument("--sessions", type=int, default=1_000_000, help="--case sessions: sessions to create")
    parser.add_argument(
        "--against",
        type=Path,
        help="also serve the `src` directory of another checkout, fed the same batches in turn (before/after "
        "figures in the same minutes of a noisy machine; the events case: ingest_against.py)",
    )
    parser.add_argument(
        "--round",
        type=_positive,
        default=8,
        help="the events case with --against: requests posted to one server before the other gets them",
    )
    return parser.parse_args()


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


# --- generation ---------------------------------------------------------------------------------------


def _started_data(rng: random.Random, number: int, channel_type: str) -> dict[str, Any]:
    agent_id, agent_name, prompt_id, prompt_name = AGENTS[number % len(AGENTS)]
    voice = channel_type.startswith("voice")
    return {
        "channel_manager_type": channel_type,
        "conversation_id": f"conv-{number // 2:08d}",
        "agent_id": agent_id,
        "agent_name": agent_name,
        "agent_type": "ai_agent",
        "agent_timezone": "America/Chicago",
        "prompt_id": prompt_id,
        "prompt_name": prompt_name,
        "prompt_version_number": rng.randint(1, 6),
        "source": f"+1555{rng.randint(1000000, 9999999)}"
        if voice
        else f"visitor{rng.randint(1, 9999)}@x.com",
        "target": f"{agent_name.lower().replace(' ', '-')}-line",
        "is_outbound": voice and rng.random() < 0.25,
        "is_test": rng.random() < 0.05,
        "is_legacy": False,
    }


def _transcript(rng: random.Random, turn: int) -> dict[str, Any]:
    source = "agent" if turn % 2 == 0 else "user"
    lines = AGENT_LINES if source == "agent" else USER_LINES
    text = " ".join(rng.choice(lines) for _ in range(rng.randint(1, 2)))
    return {"source": source, "text": text, "lang": "en-US"}


def _tool_call(rng: random.Random, index: int) -> dict[str, Any]:
    name, request, result = TOOLS[rng.randrange(len(TOOLS))]
    failed = rng.random() < 0.05
    return {
        "tool_call_id": f"call-{index}",
        "tool_name": name,
        "tool_request": request,
        "tool_result": {} if failed else result,
        "tool_error": {"code": "UPSTREAM_TIMEOUT", "message": "no answer in 5s"} if failed else None,
        "duration_ms": 5000.0 if failed else round(rng.uniform(80, 900), 1),
    }


def _latency(rng: random.Random, index: int) -> dict[str, Any]:
    category, label, low, high, meta = LATENCIES[index % len(LATENCIES)]
    value = round(rng.uniform(low, high), 1)
    return {"category": category, "label": label, "metadata": meta, "value": value, "unit": "milliseconds"}


def _middle(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """Transcripts (8-12), tool calls (1-3) and latency samples (4-8), in a plausible order: 18 on average."""
    turns = [("transcript", _transcript(rng, turn)) for turn in range(2 * rng.randint(4, 6))]
    tools = [("tool_call", _tool_call(rng, i)) for i in range(rng.randint(1, 3))]
    latencies = [("latency", _latency(rng, i)) for i in range(rng.randint(4, 8))]
    middle = turns
    for extra in (*tools, *latencies):
        middle.insert(rng.randint(1, len(middle)), extra)
    return middle


def session_events(rng: random.Random, number: int, start_us: int, seq: int) -> list[Pending]:
    """The events of session `number`, starting at `start_us` (microseconds after BASE_TIME)."""
    channel_type, _service = CHANNELS[number % len(CHANNELS)]
    plan = [("session.started", _started_data(rng, number, channel_type)), *_middle(rng)]
    voice = channel_type.startswith("voice")
    plan.append(("session.ended", {"user_terminated": voice and rng.random() < 0.7}))
    events, clock = [], start_us
    for index, (kind, data) in enumerate(plan):
        events.append(Pending(clock, seq + index, number, index, kind, data))
        clock += rng.randint(1_000_000, 11_000_000)
    return events


def merged_events(rng: random.Random, total: int, open_sessions: int) -> Iterator[Pending]:
    """Exactly `total` events in timestamp order; a new session starts every MEAN_SESSION_US/open_sessions."""
    gap = max(1, MEAN_SESSION_US // max(1, open_sessions))
    heap: list[Pending] = []
    emitted = generated = 0
    for number in itertools.count():
        start = number * gap
        while heap and heap[0].ts_us <= start:
            yield heapq.heappop(heap)
            emitted += 1
            if emitted == total:
                return
        if generated >= total and not heap:
            return
        if generated < total:
            events = session_events(rng, number, start, seq=number * 1000)  # seq only breaks ties
            generated += len(events)
            for pending in events:
                heapq.heappush(heap, pending)


def _iso(ts_us: int) -> str:
    return (BASE_TIME + timedelta(microseconds=ts_us)).isoformat(timespec="microseconds")


def _sid(number: int) -> str:
    return f"call-{number:08d}"


def build_workload(total: int, batch: int, open_sessions: int, seed: int) -> Workload:
    """Generate and serialize everything up front, so that timing sees only the sending."""
    began = time.perf_counter()
    rng = random.Random(seed)
    bodies: list[bytes] = []
    rows: list[tuple[str, int, str, str, str]] = []
    sessions: dict[int, tuple[str, str, str]] = {}
    current: list[dict[str, Any]] = []
    for pending in merged_events(rng, total, open_sessions):
        service, sid, iso = (
            CHANNELS[pending.number % len(CHANNELS)][1],
            _sid(pending.number),
            _iso(pending.ts_us),
        )
        event_id = f"{sid}-{pending.position:02d}"
        sessions.setdefault(pending.number, (service, sid, iso))
        current.append(
            {
                "event_id": event_id,
                "type": pending.type,
                "timestamp": iso[:26] + "Z",
                "channel_manager_service": service,
                "channel_manager_sid": sid,
                "data": pending.data,
            }
        )
        rows.append((event_id, pending.number, pending.type, iso, orjson.dumps(pending.data).decode()))
        if len(current) == batch:
            bodies.append(orjson.dumps({"events": current}))
            current = []
    if current:
        bodies.append(orjson.dumps({"events": current}))
    return Workload(bodies=bodies, rows=rows, sessions=sessions, seconds=time.perf_counter() - began)


# --- over HTTP ----------------------------------------------------------------------------------------


@dataclass
class HttpResult:
    seconds: float = 0.0
    inserted: int = 0
    duplicates: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _poster(url: str, key: str, bodies: list[bytes], cursor: Iterator[int], result: HttpResult) -> None:
    headers = {"Syllable-API-Key": key, "Content-Type": "application/json"}
    with httpx.Client(base_url=url, timeout=600, headers=headers) as client:
        while True:
            with result.lock:
                index = next(cursor, None)
            if index is None or index >= len(bodies) or result.errors:
                return
            began = time.perf_counter()
            try:
                response = client.post(INGEST_PATH, content=bodies[index])
            except httpx.HTTPError as exc:
                with result.lock:
                    result.errors.append(f"batch {index}: {type(exc).__name__}: {exc}")
                return
            elapsed = time.perf_counter() - began
            with result.lock:
                result.latencies.append(elapsed)
                if response.status_code != 200:
                    result.errors.append(f"batch {index}: HTTP {response.status_code} {response.text[:300]}")
                    return
                body = response.json()
                result.inserted += body["inserted"]
                result.duplicates += body["duplicates"]


def post_all(url: str, key: str, bodies: list[bytes], clients: int) -> HttpResult:
    """Send every body from `clients` threads, each taking the next unsent batch."""
    result = HttpResult()
    cursor = iter(range(len(bodies)))
    threads = [
        threading.Thread(target=_poster, args=(url, key, bodies, cursor, result), name=f"client-{n}")
        for n in range(clients)
    ]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def stored_counts(target: Target) -> tuple[int, int]:
    """(sessions, events) in the target database, counted straight through the DBAPI."""
    query = "SELECT (SELECT count(*) FROM session), (SELECT count(*) FROM event)"
    if target.kind == "sqlite":
        conn = target.connect_sqlite()
        try:
            row = conn.execute(query).fetchone()
        finally:
            conn.close()
    else:
        with target.connect_pg() as pg:
            row = pg.execute(query).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


# --- straight through the DBAPI -----------------------------------------------------------------------

ORG_SQL = "INSERT INTO organization (id, name, created_at) VALUES ({p}, {p}, {p})"
SESSION_SQL = (
    "INSERT INTO session (id, organization_id, session_type, timestamp, channel_manager_service, "
    "channel_manager_sid, first_event_at, last_event_at, event_count, field_versions, updated_at) "
    "VALUES ({p}, 1, 'voice', {p}, {p}, {p}, {p}, {p}, 0, '{{}}', {p})"
)
EVENT_SQL = (
    'INSERT INTO event (organization_id, event_id, session_id, "type", "timestamp", data, received_at) '
    "VALUES (1, {p}, {p}, {p}, {p}, {p}, {p})"
)


def _stamp(kind: str, iso: str) -> str:
    """A timestamp as the server stores it: SQLite text 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), else ISO."""
    return f"{iso[:10]} {iso[11:26]}" if kind == "sqlite" else iso


def raw_parents(workload: Workload, kind: str) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """The organization row and one session row per session (the events' foreign keys point at them)."""
    now = _stamp(kind, datetime.now(UTC).isoformat(timespec="microseconds"))
    sessions = [
        (number + 1, _stamp(kind, iso), service, sid, _stamp(kind, iso), _stamp(kind, iso), now)
        for number, (service, sid, iso) in sorted(workload.sessions.items())
    ]
    return (1, "bench-raw", now), sessions


def raw_event_rows(workload: Workload, kind: str) -> list[tuple[Any, ...]]:
    now = _stamp(kind, datetime.now(UTC).isoformat(timespec="microseconds"))
    return [
        (event_id, number + 1, type_, _stamp(kind, iso), data, now)
        for event_id, number, type_, iso, data in workload.rows
    ]


def raw_insert_sqlite(target: Target, workload: Workload) -> float:
    org, sessions = raw_parents(workload, "sqlite")
    events = raw_event_rows(workload, "sqlite")
    conn = target.connect_sqlite()
    try:
        conn.execute("BEGIN")
        conn.execute(ORG_SQL.format(p="?"), org)
        conn.executemany(SESSION_SQL.format(p="?"), sessions)
        conn.execute("COMMIT")
        began = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(EVENT_SQL.format(p="?"), events)
        conn.execute("COMMIT")
        return time.perf_counter() - began
    finally:
        conn.close()


def raw_insert_pg(target: Target, workload: Workload) -> float:
    org, sessions = raw_parents(workload, "postgresql")
    events = raw_event_rows(workload, "postgresql")
    with target.connect_pg() as conn:
        with conn.cursor() as cur:
            cur.execute(ORG_SQL.format(p="%s"), org)
            cur.executemany(SESSION_SQL.format(p="%s"), sessions)
        conn.commit()
        began = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(EVENT_SQL.format(p="%s"), events)
        conn.commit()
        return time.perf_counter() - began


# --- the run ------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    http: HttpResult
    peak_rss_mb: float
    stored: tuple[int, int]
    cpu_seconds: list[float]
    analyzes: int | None  # ANALYZE runs of the autovacuum stand-in; None when not needed
    peak_heap_mb: float = 0.0  # the peak RSS less file-backed pages (SQLite: the mmap'd database file)
    raw_seconds: float = 0.0
    copy_seconds: float = 0.0
    empty: list[Outcome] | None = None  # with --prefill: the same events into empty databases, before + after
    machine: MachineCpu | None = None  # where the machine's CPU went while the batches were posted


def run_http(
    args: argparse.Namespace, workload: Workload, workdir: Path, filled: Filled | None = None
) -> Outcome:
    """Serve a fresh database (or `filled`, one already holding events) and post the workload to it."""
    if filled is not None:
        return _post_to(args, workload, workdir, filled)
    with fresh_database(args.db, workdir, f"http{next(_RUNS)}", args.pg_url) as target:
        return _post_to(args, workload, workdir, Filled(target, create_key(target, "bench-ingest", "ingest")))


_RUNS = itertools.count()


class Filled(NamedTuple):
    """A database to post to: its API key, and the events and sessions it held before."""

    target: Target
    key: str
    events: int = 0
    sessions: int = 0


def _post_to(args: argparse.Namespace, workload: Workload, workdir: Path, filled: Filled) -> Outcome:
    target, key, events, sessions = filled
    with (
        serve(target, workdir, workers=args.workers) as server,
        RssSampler(server.process.pid) as rss,
        analyzer_for(target, args.pg_analyze_interval) as analyzer,
    ):
        print(f"server {server.url} (pid {server.process.pid}) up; posting {len(workload.bodies)} batches")
        with MachineCpu(server) as machine:
            http = post_all(server.url, key, workload.bodies, args.clients)
        if http.errors:
            print(f"server exit code: {server.process.poll()}; the end of its log:\n{server.tail()}")
    analyzes = analyzer.runs if analyzer.interval > 0 else None
    stored = stored_counts(target)
    return Outcome(
        http=http,
        peak_rss_mb=rss.peak_mb,
        peak_heap_mb=rss.peak_heap_mb,
        stored=(stored[0] - sessions, stored[1] - events),
        cpu_seconds=rss.cpu_seconds,
        analyzes=analyzes,
        machine=machine,
    )


@contextmanager
def prefilled(args: argparse.Namespace, workdir: Path) -> Iterator[Filled]:
    """A database filled with --prefill events straight through the driver (untimed), before any timed run,
    so that the empty and the prefilled runs are timed back to back (same minutes, same machine load)."""
    with fresh_database(args.db, workdir, "prefilled", args.pg_url) as target:
        key = create_key(target, "bench-ingest", "ingest")
        print(f"prefilling {args.prefill:,} events straight through the driver ...")
        sessions, seconds = ingest_growth.prefill(target, args.prefill, args.seed, session_events)
        print(f"prefilled {args.prefill:,} events of {sessions:,} sessions in {seconds:.0f} s")
        yield Filled(target, key, args.prefill, sessions)


def run_raw(args: argparse.Namespace, workload: Workload, workdir: Path) -> float:
    with fresh_database(args.db, workdir, "raw", args.pg_url) as target:
        cli(target, "db", "upgrade")
        print(f"raw executemany of {len(workload.rows):,} event rows into a fresh migrated `event` table ...")
        return raw_insert_sqlite(target, workload) if args.db == "sqlite" else raw_insert_pg(target, workload)


def run_copy(args: argparse.Namespace, workload: Workload, workdir: Path) -> float:
    """PostgreSQL: COPY the same rows into the `event` table of a fresh migrated database (its sessions and
    organization inserted first, untimed)."""
    with fresh_database(args.db, workdir, "copy", args.pg_url) as target:
        cli(target, "db", "upgrade")
        print(f"raw COPY of {len(workload.rows):,} event rows into a fresh migrated `event` table ...")
        org, sessions = raw_parents(workload, "postgresql")
        with target.connect_pg() as conn:
            with conn.cursor() as cur:
                cur.execute(ORG_SQL.format(p="%s"), org)
                cur.executemany(SESSION_SQL.format(p="%s"), sessions)
            conn.commit()
        return ingest_growth.copy_events_pg(target, raw_event_rows(workload, "postgresql"))


def database_version(args: argparse.Namespace, workdir: Path) -> str:
    if args.db == "sqlite":
        return f"SQLite {sqlite_version()}"
    with fresh_database("postgresql", workdir, "ver", args.pg_url) as target:
        return f"PostgreSQL {postgres_version(target)}"


def _ms(values: list[float]) -> str:
    p50, p95 = percentile(values, 50) * 1000, percentile(values, 95) * 1000
    return f"{p50:.0f} / {p95:.0f} / {max(values, default=0) * 1000:.0f} ms"


def _autovacuum(args: argparse.Namespace, analyzes: int | None) -> str:
    if analyzes is None:
        return "n/a (SQLite)" if args.db == "sqlite" else "on (the server's own)"
    interval = args.pg_analyze_interval
    return f"off on this server; stand-in ran ANALYZE {analyzes} times (checked every {interval:g} s)"


def _senders(clients: int) -> str:
    if clients == 1:
        return "1 client thread, batches one after another"
    return f"{clients} concurrent client threads"


def _against(value: str, target: str, ok: bool) -> str:
    return f"{value.ljust(30)} target {target.ljust(9)} {verdict(ok)}"


def _analysis_worker() -> str:
    """The server inherits SESSIONARY_ANALYSIS_* from this environment: say which worker it ran."""
    setting = os.environ.get("SESSIONARY_ANALYSIS_WORKER", "true").strip().lower()
    on = setting not in ("false", "0", "no", "off")
    busy = os.environ.get("SESSIONARY_ANALYSIS_BUSY_SHARE", "0.25")
    return f"on (busy share {busy})" if on else "off (SESSIONARY_ANALYSIS_WORKER=false)"


def report(args: argparse.Namespace, workload: Workload, outcome: Outcome, version: str) -> None:
    events, http, peak = len(workload.rows), outcome.http, outcome.peak_rss_mb
    complete = not http.errors and http.inserted == events
    e2e = http.inserted / http.seconds if http.seconds else 0.0
    raw = events / outcome.raw_seconds if outcome.raw_seconds else 0.0
    ratio = e2e / raw if raw else 0.0
    note = "" if args.db == "sqlite" else "  (the targets are set for SQLite)"
    answered = f"inserted {http.inserted:,}, duplicates {http.duplicates:,}, errors {len(http.errors)}"
    print_block(
        f"bench/ingest.py --db {args.db} --events {args.events}{note}",
        [
            ("database", version),
            ("sessionary", sessionary_source()),
            ("events / sessions", f"{events:,} / {len(workload.sessions):,} (seed {args.seed})"),
            ("requests", f"{len(workload.bodies)} x {args.batch:,} events, {workload.payload_mb:.1f} MiB"),
            ("senders", f"{_senders(args.clients)}; server --workers {args.workers}"),
            ("interleaving", f"{args.open_sessions} sessions open at once"),
            ("analysis worker", _analysis_worker()),
            ("generation (untimed)", f"{workload.seconds:.1f} s"),
            ("autovacuum", _autovacuum(args, outcome.analyzes)),
            ("server answered", answered),
            ("stored sessions / events", f"{outcome.stored[0]:,} / {outcome.stored[1]:,}"),
            ("request p50 / p95 / max", _ms(http.latencies)),
            ("server CPU by process", " / ".join(f"{c:.1f} s" for c in outcome.cpu_seconds) or "n/a"),
            *_machine_rows(args, outcome),
            ("raw executemany", f"{raw:,.0f} events/s ({outcome.raw_seconds:.1f} s, one transaction)"),
            *_copy_rows(events, e2e, outcome),
            *_prefill_rows(args, e2e, outcome),
            (
                "END TO END",
                _against(
                    f"{e2e:,.0f} events/s ({http.seconds:.1f} s)",
                    f">= {TARGET_EVENTS_PER_S:,}",
                    e2e >= TARGET_EVENTS_PER_S,
                ),
            ),
            ("RATIO end-to-end / raw", _against(f"{ratio:.3f}", f">= {TARGET_RATIO}", ratio >= TARGET_RATIO)),
            ("SERVER PEAK RSS", _against(f"{peak:,.0f} MB", f"< {TARGET_RSS_MB} MB", peak < TARGET_RSS_MB)),
            ("  of which not file-backed", f"{outcome.peak_heap_mb:,.0f} MB (the rest: mapped files' pages)"),
        ],
    )
    for error in http.errors[:5]:
        print(f"error: {error}")
    if not complete:
        print(
            f"INVALID RUN: the server stored {http.inserted:,} of {events:,} events; the figures are partial"
        )


def _machine_rows(args: argparse.Namespace, outcome: Outcome) -> list[tuple[str, str]]:
    """Where the machine's CPU went while the batches were posted, and the ceiling at that cost."""
    if outcome.machine is None:
        return []
    return outcome.machine.rows(outcome.http.inserted, "event", sqlite=args.db == "sqlite")


def _copy_rows(events: int, e2e: float, outcome: Outcome) -> list[tuple[str, str]]:
    """PostgreSQL: the COPY of the same rows (the physical limit), and the ratio end-to-end / COPY."""
    if not outcome.copy_seconds:
        return []
    copy = events / outcome.copy_seconds
    return [
        ("raw COPY", f"{copy:,.0f} events/s ({outcome.copy_seconds:.1f} s, one transaction)"),
        ("ratio end-to-end / COPY", f"{e2e / copy:.3f}"),
    ]


def _prefill_rows(args: argparse.Namespace, e2e: float, outcome: Outcome) -> list[tuple[str, str]]:
    """With --prefill: the same events' rate into an empty database (the mean of the runs timed just before
    and just after the prefilled one), and the ratio prefilled / empty."""
    if not outcome.empty:
        return []
    rates = [run.http.inserted / run.http.seconds for run in outcome.empty if run.http.seconds]
    empty = sum(rates) / len(rates) if rates else 0.0
    ratio = e2e / empty if empty else 0.0
    cpu = sum(sum(run.cpu_seconds) for run in outcome.empty) / len(outcome.empty), sum(outcome.cpu_seconds)
    return [
        ("prefill", f"{args.prefill:,} events before the timed part (ingest_growth.py)"),
        (
            "into an empty database",
            f"{empty:,.0f} events/s (before / after the prefilled run: "
            + " / ".join(f"{rate:,.0f}" for rate in rates)
            + ")",
        ),
        (
            "server CPU empty / prefilled",
            f"{cpu[0]:.1f} s / {cpu[1]:.1f} s (ratio {cpu[0] / (cpu[1] or 1):.3f})",
        ),
        (
            "  by process, each run",  # a worker holding most connections caps the run at one core
            " | ".join(
                " / ".join(f"{c:.1f}" for c in run.cpu_seconds)
                for run in (outcome.empty[0], outcome, *outcome.empty[1:])
            ),
        ),
        ("RATIO prefilled / empty", _against(f"{ratio:.3f}", f">= {TARGET_GROWTH}", ratio >= TARGET_GROWTH)),
    ]


def run_events(args: argparse.Namespace) -> int:
    """The events case (with --prefill: twice, into an empty and into a prefilled database)."""
    print(f"generating {args.events:,} events (seed {args.seed}) ...")
    workload = build_workload(args.events, args.batch, args.open_sessions, args.seed)
    print(
        f"generated {len(workload.bodies)} bodies, {workload.payload_mb:.1f} MiB in {workload.seconds:.1f} s"
    )
    with workspace(keep=args.keep) as workdir:
        version = database_version(args, workdir)
        if args.prefill:
            with prefilled(args, workdir) as filled:
                # empty, prefilled, empty again: the empty rate is the mean of the runs either side
                empties = [run_http(args, workload, workdir)]
                outcome = run_http(args, workload, workdir, filled)
                empties.append(run_http(args, workload, workdir))
            outcome.empty = empties
        else:
            outcome = run_http(args, workload, workdir)
        outcome.raw_seconds = run_raw(args, workload, workdir)
        if args.db == "postgresql":
            outcome.copy_seconds = run_copy(args, workload, workdir)
    report(args, workload, outcome, version)
    http, stored = outcome.http, outcome.stored
    correct = not http.errors and http.inserted == len(workload.rows) and stored[1] == len(workload.rows)
    return 0 if correct else 1


def run_events_against(args: argparse.Namespace) -> int:
    """The events case on two servers (this checkout's and --against's), in alternating rounds."""
    if args.prefill:
        raise SystemExit("--against does not combine with --prefill")
    workload = build_workload(args.events, args.batch, args.open_sessions, args.seed)
    print(f"generated {len(workload.bodies)} bodies; two servers, rounds of {args.round} requests")
    with workspace(keep=args.keep) as workdir, ExitStack() as stack:
        served = []
        for source in (None, args.against):
            name = "events" if source is None else "events-against"
            target, server = stack.enter_context(served_database(args, workdir, name, source=source))
            served.append((target, server, create_key(target, "bench-ingest", "ingest", source=source)))
        tallies = ingest_against.post_rounds(
            [(server, key) for _, server, key in served], workload.bodies, args.clients, args.round, post_all
        )
        stored = [stored_counts(target)[1] for target, _, _ in served]
        rows = database_rows(served[0][0])
        raw_seconds = run_raw(args, workload, workdir)
    events = len(workload.rows)
    print_block(
        f"bench/ingest.py --db {args.db} --events {args.events} --against",
        [
            *rows,
            ("against", sessionary_source(args.against)),
            ("requests", f"{len(workload.bodies)} x {args.batch:,} events; {_senders(args.clients)}"),
            ("server --workers", str(args.workers)),
            ("stored events, this | against", " | ".join(f"{n:,}" for n in stored)),
            ("raw executemany", f"{events / raw_seconds:,.0f} events/s"),
            *ingest_against.lines(tallies, events / raw_seconds),
        ],
    )
    for error in [error for tally in tallies for error in tally.errors][:5]:
        print(f"error: {error}")
    return 0 if all(n == events for n in stored) and not any(t.errors for t in tallies) else 1


def run_sessions(args: argparse.Namespace) -> int:
    """The sessions case: sessions/s while the organization grows to 100k, and from 100k to --sessions
    (with `--against`, of two servers fed the same batches in turn); then the same rows straight through
    the driver into a fresh database (the limit), in the same run."""
    batch, split = 10_000, min(100_000, args.sessions)
    sources = [None, *([args.against] if args.against else [])]
    with workspace(keep=args.keep) as workdir:
        with ExitStack() as stack:
            served = []
            for source in sources:
                name = "sessions" if source is None else "sessions-against"
                target, server = stack.enter_context(served_database(args, workdir, name, source=source))
                served.append((target, server, create_key(target, "bench-sessions", "ingest", source=source)))
            print(
                f"{len(served)} server(s) up; creating {args.sessions:,} sessions, {batch:,} per request ..."
            )
            results = ingest_growth.post_sessions(
                [(server, key) for _, server, key in served], args.sessions, batch, args.seed, _started_data
            )
            stored = [stored_counts(target) for target, _, _ in served]
            rows = database_rows(served[0][0])
        raw = ingest_growth.SessionsResult(seconds=run_raw_sessions(args, workdir, batch))
    phases = ((0, split), (split, args.sessions))
    lines = [
        *rows,
        *([("against", sessionary_source(args.against))] if args.against else []),
        ("requests", f"{len(results[0].seconds)} x {batch:,} session.started, one client, one organization"),
        ("server --workers", str(args.workers)),
        ("stored sessions / events", " | ".join(f"{s:,} / {e:,}" for s, e in stored)),
        *_sessions_lines(results[0], phases, batch, ""),
    ]
    rates = [[result.rate(lo, hi, batch) for lo, hi in phases] for result in results]
    if args.against:
        lines += _sessions_lines(results[1], phases, batch, "against: ")
        cpu = [[result.per_cpu(lo, hi, batch) for lo, hi in phases] for result in results]
        lines.append(
            (
                "this / against, first / later",
                f"{share(rates[0][0], rates[1][0])} / {share(rates[0][1], rates[1][1])} (sessions/s); "
                f"{share(cpu[0][0], cpu[1][0])} / {share(cpu[0][1], cpu[1][1])} (per CPU second)",
            )
        )
    raw_rates = [raw.rate(lo, hi, batch) for lo, hi in phases]
    how = "executemany" if args.db == "sqlite" else "binary COPY"
    lines += [
        (
            "raw limit, first / later",
            f"{raw_rates[0]:,.0f} / {raw_rates[1]:,.0f} sessions/s ({how} of the same rows, a transaction"
            f" per request's worth; later / first {share(raw_rates[1], raw_rates[0])})",
        ),
        (
            "ingest / raw, first / later",
            f"{share(rates[0][0], raw_rates[0])} / {share(rates[0][1], raw_rates[1])}",
        ),
    ]
    print_block(f"bench/ingest.py --case sessions --db {args.db} --sessions {args.sessions}", lines)
    for error in [error for result in results for error in result.errors][:5]:
        print(f"error: {error}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    failed = any(result.errors for result in results) or any(s != args.sessions for s, _ in stored)
    return 1 if failed else 0


def _sessions_lines(
    result: ingest_growth.SessionsResult, phases: tuple[tuple[int, int], ...], batch: int, label: str
) -> list[tuple[str, str]]:
    """The sessions case's rates of one server: each phase against the target, their ratio, the CPU."""
    (first_lo, first_hi), (rest_lo, rest_hi) = phases
    first, rest = result.rate(first_lo, first_hi, batch), result.rate(rest_lo, rest_hi, batch)
    ratio = rest / first if first else 0.0
    cpu_first, cpu_rest = result.per_cpu(first_lo, first_hi, batch), result.per_cpu(rest_lo, rest_hi, batch)
    cpu = f"{cpu_first:,.0f} / {cpu_rest:,.0f} sessions per CPU second (ratio {share(cpu_rest, cpu_first)})"
    return [
        (
            f"{label}{first_lo:,} -> {first_hi:,}",
            _against(f"{first:,.0f} sessions/s", f">= {TARGET_SESSIONS:,}", first >= TARGET_SESSIONS),
        ),
        (
            f"{label}{rest_lo:,} -> {rest_hi:,}",
            _against(f"{rest:,.0f} sessions/s", f">= {TARGET_SESSIONS:,}", rest >= TARGET_SESSIONS),
        ),
        (
            f"{label}RATIO later / first",
            _against(f"{ratio:.3f}", f">= {TARGET_GROWTH}", ratio >= TARGET_GROWTH),
        ),
        (f"{label}server CPU, first / later", cpu),
    ]


def run_raw_sessions(args: argparse.Namespace, workdir: Path, batch: int) -> list[float]:
    """The sessions case's limit (ingest_growth.raw_sessions) on a fresh migrated database of `--db`."""
    with fresh_database(args.db, workdir, "raw-sessions", args.pg_url) as target:
        cli(target, "db", "upgrade")
        now = datetime.now(UTC)
        if target.kind == "sqlite":
            with closing(target.connect_sqlite()) as conn:
                conn.execute(ORG_SQL.format(p="?"), (1, "bench-raw", now.strftime("%Y-%m-%d %H:%M:%S.%f")))
        else:
            with target.connect_pg() as pg:
                pg.execute(ORG_SQL.format(p="%s"), (1, "bench-raw", now))
        print(f"raw: the same {args.sessions:,} sessions' rows into a fresh migrated database ...")
        return ingest_growth.raw_sessions(target, args.sessions, batch, args.seed, _started_data)


def main() -> int:
    args = parse_args()
    if args.case == "sessions":
        return run_sessions(args)
    return run_events_against(args) if args.against else run_events(args)


if __name__ == "__main__":
    raise SystemExit(main())
