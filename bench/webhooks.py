"""Voice platforms' webhooks (POST /webhooks/{token}) end to end into a fresh server, against native ingest
of the very same events into other fresh servers.

    .venv/bin/python bench/webhooks.py [--db sqlite|postgresql] [--calls 1000] [--clients 4]
                                       [--provider retell|vapi|twilio|all]

1. Builds --calls distinct calls per provider (bench/webhook_calls.py: the providers' SDK models, as they
   send them): a Retell `call_analyzed` and a Vapi `end-of-call-report` per call (~10 turns, tool calls,
   latency, analysis), four Twilio status callbacks per call; no recording URLs. Maps every delivery to
   native events with the server's own mapping (`sessionary.webhooks.mapping`), serialized as native
   request bodies: one a delivery (one call a request for Retell and Vapi, one callback for Twilio: the
   webhook's unit) and batches of 5,000 events. Before any timing.
2. Starts `sessionary serve` on a fresh database with SESSIONARY_PUBLIC_URL the server's URL (what Twilio
   signs), connects each provider with `sessionary integrations add ... --org bench` (its last line is the
   webhook URL), signs every delivery the provider's way (Twilio's RequestValidator, retell-sdk's signer,
   Vapi's X-Vapi-Secret; just before that provider's deliveries are posted, as a Retell signature is good
   for 5 minutes) and posts them from --clients threads, each its own calls, each call's deliveries in
   order, a connection a request (as providers deliver, and spread over the server's workers):
   deliveries/s, sessions/s, events/s, p50/p95 latency a delivery, the server's peak RSS, the CPU seconds
   of the server and of the clients (they share the machine's cores).
3. The limit beside it, in the same run: the same events to /api/v1/ingest/events of a second fresh server,
   a delivery's events a request, from as many threads (the webhook / native ratio); then of a third, in
   batches of 5,000 events. Checks that the three databases stored the same sessions and events.

A delivery does more than a native request of its events: it finds its integration, opens its secret,
checks the proof, maps the body, and stores the provider's verdict as a label of the session (Retell and
Vapi). A Retell phase must end within the 5 minutes its signatures are good for (else 403: fewer --calls).
"""

from __future__ import annotations

import argparse
import os
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from retell.lib.webhook_auth import symmetric as retell_webhooks
from twilio.request_validator import RequestValidator

from harness import (
    RssSampler,
    Server,
    Target,
    analyzer_for,
    bench_parser,
    cli,
    create_key,
    free_port,
    fresh_database,
    percentile,
    print_block,
    serve,
    sessionary_source,
    verdict,
    workspace,
)
from ingest import INGEST_PATH, database_version, stored_counts
from sessionary.webhooks.mapping import retell, twilio, vapi
from webhook_calls import BUILDERS, CallDeliveries, Delivery, calls

NATIVE_BATCH = 5000
PROVIDERS = tuple(BUILDERS)
SECRET_FLAGS = {"twilio": "--auth-token", "vapi": "--secret", "retell": "--api-key"}
Item = tuple[str, bytes, dict[str, str]]  # (path, body, headers): one request


def parse_args() -> argparse.Namespace:
    parser = bench_parser(__doc__, workers=2)
    parser.add_argument("--calls", type=int, default=1000, help="distinct calls per provider")
    parser.add_argument("--clients", type=int, default=4, help="threads posting deliveries at once")
    parser.add_argument("--provider", choices=(*PROVIDERS, "all"), default="all")
    return parser.parse_args()


# --- the workload -------------------------------------------------------------------------------------


@dataclass
class Work:
    """One provider's calls, and the same events as native request bodies."""

    provider: str
    calls: list[CallDeliveries]
    per_delivery: list[list[bytes]]  # per call, a native body per delivery
    batches: list[bytes]  # the provider's events, NATIVE_BATCH a body
    events: int
    payload_bytes: int

    @property
    def deliveries(self) -> int:
        return sum(len(call) for call in self.calls)


def native_events(provider: str, delivery: Delivery, received_at: datetime) -> list[dict[str, Any]]:
    """The delivery's native events, by the server's own mapping (what the webhook route stores)."""
    if provider == "twilio":
        assert delivery.form is not None
        mapped = twilio.map_callback(delivery.form, received_at=received_at)
    elif provider == "retell":
        mapped = retell.map_event(orjson.loads(delivery.body), received_at=received_at)
    else:
        mapped = vapi.map_message(orjson.loads(delivery.body))
    assert mapped is not None, f"{provider}: a delivery that stores no events"
    assert not mapped.recordings, f"{provider}: a recording to fetch (not what is measured)"
    return [event.model_dump(mode="json", exclude_unset=True) for event in mapped.events]


def build_work(provider: str, count: int, seed: int) -> Work:
    made = calls(provider, count, seed)
    received_at = datetime.now(UTC)
    per_delivery: list[list[bytes]] = []
    events: list[dict[str, Any]] = []
    for call in made:
        bodies = []
        for delivery in call:
            mapped = native_events(provider, delivery, received_at)
            bodies.append(orjson.dumps({"events": mapped}))
            events += mapped
        per_delivery.append(bodies)
    batches = [
        orjson.dumps({"events": events[i : i + NATIVE_BATCH]}) for i in range(0, len(events), NATIVE_BATCH)
    ]
    size = sum(len(d.body) for call in made for d in call)
    return Work(provider, made, per_delivery, batches, len(events), size)


# --- connecting and signing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Hook:
    url: str  # the webhook URL `integrations add` printed (on SESSIONARY_PUBLIC_URL)
    secret: str

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


def connect(target: Target, provider: str) -> Hook:
    """The provider connected to organization `bench` by the CLI, with a new secret."""
    secret = secrets.token_hex(16)
    out = cli(target, "integrations", "add", provider, "--org", "bench", SECRET_FLAGS[provider], secret)
    return Hook(out.strip().splitlines()[-1], secret)


def signed(provider: str, hook: Hook, delivery: Delivery, now_ms: int, twilio_signer: Any) -> Item:
    """The delivery as the provider posts it, with its proof."""
    if provider == "twilio":
        signature = twilio_signer.compute_signature(hook.url, delivery.form)
        headers = {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature}
    elif provider == "retell":
        signature = retell_webhooks["sign"](delivery.body.decode(), hook.secret, now_ms)
        headers = {"content-type": "application/json", "x-retell-signature": signature}
    else:
        headers = {"content-type": "application/json", "x-vapi-secret": hook.secret}
    return hook.path, delivery.body, headers


def webhook_queues(work: Work, hook: Hook, clients: int) -> list[list[Item]]:
    """Each client's calls (call n goes to client n % clients), every delivery signed, in order."""
    now_ms, signer = int(time.time() * 1000), RequestValidator(hook.secret)
    return [
        [signed(work.provider, hook, d, now_ms, signer) for call in work.calls[c::clients] for d in call]
        for c in range(clients)
    ]


# --- posting ------------------------------------------------------------------------------------------


@dataclass
class Phase:
    """One provider's requests to one server."""

    requests: int = 0
    seconds: float = 0.0
    inserted: int = 0
    duplicates: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    client_cpu: float = 0.0  # CPU seconds of this process (the clients) while posting
    server_cpu: float = 0.0  # CPU seconds of the server's processes meanwhile
    lock: threading.Lock = field(default_factory=threading.Lock)

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000


def _poster(url: str, queue: list[Item], phase: Phase) -> None:
    # A connection a request, as providers deliver (and so requests spread over the server's workers).
    unkept = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=url, timeout=600, limits=unkept) as client:
        for index, (path, body, headers) in enumerate(queue):
            if phase.errors:
                return
            began = time.perf_counter()
            try:
                response = client.post(path, content=body, headers=headers)
            except httpx.HTTPError as exc:
                with phase.lock:
                    phase.errors.append(f"request {index}: {type(exc).__name__}: {exc}")
                return
            elapsed = time.perf_counter() - began
            with phase.lock:
                phase.latencies.append(elapsed)
                if response.status_code != 200:
                    phase.errors.append(
                        f"{path} request {index}: HTTP {response.status_code} {response.text[:300]}"
                    )
                    return
                answer = response.json()
                phase.inserted += answer["inserted"]
                phase.duplicates += answer["duplicates"]


def post_all(server: Server, queues: Sequence[list[Item]]) -> Phase:
    """Each queue posted in order by a thread of its own; the server's peak RSS sampled meanwhile."""
    phase = Phase(requests=sum(map(len, queues)))
    threads = [threading.Thread(target=_poster, args=(server.url, queue, phase)) for queue in queues]
    with RssSampler(server.process.pid) as rss:
        began, cpu, server_cpu = time.perf_counter(), time.process_time(), server.cpu_seconds()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        phase.seconds = time.perf_counter() - began
        phase.client_cpu = time.process_time() - cpu
        phase.server_cpu = server.cpu_seconds() - server_cpu
    phase.peak_rss_mb = rss.peak_mb
    if phase.errors:
        raise SystemExit(f"{phase.errors[:3]}\nthe end of the server's log:\n{server.tail()}")
    return phase


# --- the runs -----------------------------------------------------------------------------------------


@dataclass
class Run:
    phases: dict[str, Phase]
    stored: tuple[int, int]  # (sessions, events)


def run_webhooks(args: argparse.Namespace, workdir: Path, works: list[Work]) -> Run:
    with fresh_database(args.db, workdir, "webhooks", args.pg_url) as target:
        port = free_port()
        os.environ["SESSIONARY_PUBLIC_URL"] = f"http://127.0.0.1:{port}"  # what Twilio signs
        hooks = {work.provider: connect(target, work.provider) for work in works}
        phases = {}
        with (
            serve(target, workdir, workers=args.workers, port=port) as server,
            analyzer_for(target, args.pg_analyze_interval),
        ):
            for work in works:
                queues = webhook_queues(work, hooks[work.provider], args.clients)
                print(f"webhooks: posting {work.deliveries:,} {work.provider} deliveries to {server.url} ...")
                phases[work.provider] = post_all(server, queues)
        return Run(phases, stored_counts(target))


def run_native(
    args: argparse.Namespace, workdir: Path, name: str, queues: dict[str, list[list[bytes]]]
) -> Run:
    """The bodies of each provider (a queue per client) to /api/v1/ingest/events of a fresh server."""
    with fresh_database(args.db, workdir, name, args.pg_url) as target:
        key = create_key(target, "bench", "ingest")
        headers = {"Syllable-API-Key": key, "Content-Type": "application/json"}
        phases = {}
        with (
            serve(target, workdir, workers=args.workers) as server,
            analyzer_for(target, args.pg_analyze_interval),
        ):
            for provider, bodies in queues.items():
                print(f"{name}: posting {sum(map(len, bodies)):,} {provider} bodies to {server.url} ...")
                items = [[(INGEST_PATH, body, headers) for body in queue] for queue in bodies]
                phases[provider] = post_all(server, items)
        return Run(phases, stored_counts(target))


def per_delivery_queues(work: Work, clients: int) -> list[list[bytes]]:
    """The same split as the webhooks': call n's bodies to client n % clients, in order."""
    return [[body for call in work.per_delivery[c::clients] for body in call] for c in range(clients)]


# --- the report ---------------------------------------------------------------------------------------


def _rate(count: int, phase: Phase) -> float:
    return count / phase.seconds if phase.seconds else 0.0


def _cpu(phase: Phase) -> str:
    return f"server {phase.server_cpu:.1f} s, clients {phase.client_cpu:.1f} s"


def provider_rows(work: Work, hook: Phase, native: Phase, batched: Phase) -> list[tuple[str, str]]:
    p, calls_ = work.provider, len(work.calls)
    ratio = _rate(work.events, hook) / _rate(work.events, native)
    return [
        (
            f"{p}: calls / deliveries / events",
            f"{calls_:,} / {work.deliveries:,} / {work.events:,} "
            f"({work.payload_bytes / work.deliveries / 1024:.1f} KiB a delivery)",
        ),
        (
            f"{p}: WEBHOOKS end to end",
            f"{_rate(work.deliveries, hook):,.0f} deliveries/s, {_rate(calls_, hook):,.0f} sessions/s, "
            f"{_rate(work.events, hook):,.0f} events/s ({hook.seconds:.1f} s)",
        ),
        (
            f"{p}: webhook latency, peak RSS",
            f"p50 {hook.p(50):.0f} ms, p95 {hook.p(95):.0f} ms; server {hook.peak_rss_mb:,.0f} MB; "
            f"CPU {_cpu(hook)}",
        ),
        (
            f"{p}: native, a delivery a request",
            f"{_rate(work.events, native):,.0f} events/s ({native.seconds:.1f} s; p50 {native.p(50):.0f} ms, "
            f"p95 {native.p(95):.0f} ms; {native.peak_rss_mb:,.0f} MB; CPU {_cpu(native)})",
        ),
        (
            f"{p}: native, {NATIVE_BATCH:,}-event batches",
            f"{_rate(work.events, batched):,.0f} events/s "
            f"({batched.seconds:.1f} s, {batched.requests} requests)",
        ),
        (f"{p}: RATIO webhook / native", f"{ratio:.2f} (events/s, a delivery a request both ways)"),
    ]


def report(args: argparse.Namespace, works: list[Work], runs: dict[str, Run], version: str) -> bool:
    expected = (args.calls * len(works), sum(w.events for w in works))
    inserted = {name: sum(p.inserted for p in run.phases.values()) for name, run in runs.items()}
    same = all(run.stored == expected for run in runs.values()) and all(
        count == expected[1] for count in inserted.values()
    )
    rows = [
        ("database", version),
        ("sessionary", sessionary_source()),
        (
            "senders",
            f"{args.clients} client threads, a connection a request; server --workers {args.workers}",
        ),
    ]
    for work in works:
        p = work.provider
        rows += provider_rows(
            work, runs["webhooks"].phases[p], runs["native"].phases[p], runs["batches"].phases[p]
        )
    rows += [
        (
            "stored (sessions, events)",
            ", ".join(f"{name} {run.stored}" for name, run in runs.items()) + f"; expected {expected}",
        ),
        ("events inserted (answers)", ", ".join(f"{name} {count:,}" for name, count in inserted.items())),
        ("same sessions and events stored", verdict(same)),
    ]
    print_block(
        f"bench/webhooks.py --db {args.db} --calls {args.calls} --provider {args.provider}: webhooks vs "
        "native ingest of the same events",
        rows,
    )
    return same


def main() -> int:
    args = parse_args()
    providers = PROVIDERS if args.provider == "all" else (args.provider,)
    began = time.perf_counter()
    works = [build_work(provider, args.calls, args.seed) for provider in providers]
    print(
        f"built {args.calls:,} calls per provider: "
        + ", ".join(f"{w.provider} {w.deliveries:,} deliveries = {w.events:,} events" for w in works)
        + f", in {time.perf_counter() - began:.0f} s"
    )
    with workspace(keep=args.keep) as workdir:
        version = database_version(args, workdir)
        runs = {"webhooks": run_webhooks(args, workdir, works)}
        runs["native"] = run_native(
            args, workdir, "native", {w.provider: per_delivery_queues(w, args.clients) for w in works}
        )
        runs["batches"] = run_native(
            args,
            workdir,
            "batches",
            {w.provider: [w.batches[c :: args.clients] for c in range(args.clients)] for w in works},
        )
    print(f"whole run {time.perf_counter() - began:.0f} s")
    return 0 if report(args, works, runs, version) else 1


if __name__ == "__main__":
    raise SystemExit(main())
