"""OTLP trace ingest: Pipecat-shaped conversations exported as the OpenTelemetry exporter sends them, end to
end into a fresh server, against native ingest of the very same events into another fresh server.

    .venv/bin/python bench/otlp.py [--db sqlite|postgresql] [--conversations 10000] [--turns 10]

1. Generates the spans of N conversations of about --turns turns each with the OpenTelemetry SDK's own
   tracer, in Pipecat's shape (tests/otel/runtimes has the real thing; its span names and attributes): a
   `conversation` root with `conversation.id`, per turn a `turn` span and its `stt`, `llm` (the context so
   far as `input`, usage, TTFB; a tool call every fourth turn) and `tts` spans. --open conversations run at
   once, so an export mixes them, and spans reach the exporter as they end (children before their turn).
   Each batch of --batch spans is encoded by the exporter's own encoder (`encode_spans`, the bytes
   `OTLPSpanExporter` posts). Before any timing.
2. Maps the same spans to native events with the server's own mapping (`sessionary.otel`) and serializes
   them as native batches of 5,000 events.
3. Starts `sessionary serve` on a fresh database and posts every OTLP body to /otel/v1/traces from
   --clients bots (each exports its own conversations' spans, in order): spans/s, sessions/s and events/s
   end to end. Then, on a second fresh database, the native batches to /api/v1/ingest/events from as many
   threads: events/s. Prints the ratio (target: at least 0.5).
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider

from harness import (
    RssSampler,
    analyzer_for,
    bench_parser,
    create_key,
    fresh_database,
    print_block,
    serve,
    sessionary_source,
    verdict,
    workspace,
)
from ingest import stored_counts
from sessionary.otel import keys
from sessionary.otel.mapping import Draft, drafts_of
from sessionary.otel.spans import Span, spans_of

TARGET_RATIO = 0.5
NATIVE_BATCH = 5000
T0_NS = 1_750_000_000 * 10**9  # 2025-06-15
SERVICE = "pipecat-bench-bot"
PHRASES = [
    "I'd like to check my order",
    "It was delivered to the wrong address",
    "Can you send it again",
    "What is the weather in Paris",
    "Thanks, that is all",
    "My account number is 4417",
    "Could you repeat that please",
    "I want to speak to someone",
    "Yes that is correct",
    "No thanks",
]


def parse_args() -> argparse.Namespace:
    parser = bench_parser(__doc__, workers=2)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--open", type=int, default=64, help="conversations running at once (over all bots)")
    parser.add_argument("--batch", type=int, default=512, help="spans per export (the SDK's default batch)")
    parser.add_argument(
        "--clients",
        type=int,
        default=8,
        help="bots, each exporting its own conversations' spans in order (a fleet: 8 spread over the "
        "server's worker processes as their connections land)",
    )
    return parser.parse_args()


# --- generation ---------------------------------------------------------------------------------------


class Collector(SpanProcessor):
    """Keeps each span as it ends, in end order (what a BatchSpanProcessor hands its exporter)."""

    def __init__(self) -> None:
        self.ended: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span)


@dataclass
class Call:
    """One conversation being generated: its root, its clock and its context so far."""

    number: int
    root: trace.Span
    clock: int
    turn: int = 0
    context: list[dict[str, object]] = field(default_factory=list)


def _child(tracer: trace.Tracer, name: str, parent: trace.Span, start: int, end: int, attrs: dict) -> None:
    span = tracer.start_span(
        name, context=trace.set_span_in_context(parent), start_time=start, attributes=attrs
    )
    span.end(end_time=end)


def _turn(tracer: trace.Tracer, call: Call, rng: random.Random) -> None:
    call.turn += 1
    conversation_id = f"conv-{call.number:07d}"
    ms = 1_000_000
    start = call.clock
    turn = tracer.start_span(
        "turn",
        context=trace.set_span_in_context(call.root),
        start_time=start,
        attributes={
            "turn.number": call.turn,
            "turn.type": "conversation",
            "conversation.id": conversation_id,
        },
    )
    user = f"{rng.choice(PHRASES)} ({call.number}.{call.turn})"
    _child(
        tracer,
        "stt",
        turn,
        start,
        start + 1500 * ms,
        {
            "transcript": user,
            "is_final": True,
            "gen_ai.provider.name": "deepgram",
            "gen_ai.request.model": "nova-3",
            "gen_ai.operation.name": "stt",
        },
    )
    call.context.append({"role": "user", "content": user})
    llm_start = start + 1600 * ms
    llm_attrs = {
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4.1-mini",
        "gen_ai.operation.name": "chat",
        "gen_ai.output.type": "text",
        "stream": True,
        "gen_ai.request.temperature": 0.7,
        "metrics.ttfb": rng.uniform(0.2, 0.9),
        "gen_ai.usage.input_tokens": 40 * call.turn,
        "gen_ai.usage.output_tokens": 25,
    }
    if call.turn % 4 == 0:  # a tool call: the first llm asks for it, the second sends its result back
        _child(
            tracer,
            "llm",
            turn,
            llm_start,
            llm_start + 400 * ms,
            {**llm_attrs, "input": json.dumps(call.context)},
        )
        tool_id = f"call_{call.number}_{call.turn}"
        call.context += [
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": tool_id,
                        "type": "function",
                        "function": {"name": "lookup_order", "arguments": '{"id": "A1"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": tool_id, "content": '{"status": "shipped"}'},
        ]
        llm_start += 600 * ms
    reply = f"Sure, let me help with that. ({call.number}.{call.turn})"
    _child(
        tracer,
        "llm",
        turn,
        llm_start,
        llm_start + 900 * ms,
        {**llm_attrs, "input": json.dumps(call.context), "output": reply},
    )
    call.context.append({"role": "assistant", "content": reply})
    _child(
        tracer,
        "tts",
        turn,
        llm_start + 950 * ms,
        llm_start + 4000 * ms,
        {
            "text": reply,
            "metrics.ttfb": rng.uniform(0.1, 0.4),
            "gen_ai.provider.name": "cartesia",
            "gen_ai.request.model": "sonic-2",
            "gen_ai.operation.name": "tts",
            "voice_id": "v1",
        },
    )
    turn.set_attribute("turn.user_bot_latency_seconds", rng.uniform(0.6, 1.8))
    turn.set_attribute("turn.was_interrupted", False)
    turn.end(end_time=llm_start + 4000 * ms)
    call.clock = llm_start + 4500 * ms


def generate_bots(
    conversations: int, turns: int, open_calls: int, bots: int, seed: int
) -> list[list[ReadableSpan]]:
    """Each bot's spans (conversation numbers n with n % bots == bot), in the order they end."""
    share = [range(bot, conversations, bots) for bot in range(bots)]
    return [
        generate(numbers, turns, max(1, open_calls // bots), seed + bot) for bot, numbers in enumerate(share)
    ]


def generate(numbers: range, turns: int, open_calls: int, seed: int) -> list[ReadableSpan]:
    """Every span of these conversations, in the order they end."""
    rng = random.Random(seed)
    collector = Collector()
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_span_processor(collector)
    tracer = provider.get_tracer("pipecat.turn")
    running: list[Call] = []
    waiting = list(reversed(numbers))
    while waiting or running:
        while len(running) < open_calls and waiting:
            number = waiting.pop()
            clock = T0_NS + number * 2 * 10**9
            root = tracer.start_span(
                "conversation",
                context=otel_context.Context(),
                start_time=clock,
                attributes={"conversation.id": f"conv-{number:07d}", "conversation.type": "voice"},
            )
            running.append(Call(number, root, clock))
        call = running[rng.randrange(len(running))]
        _turn(tracer, call, rng)
        if call.turn >= turns:
            call.root.end(end_time=call.clock)
            running.remove(call)
    return collector.ended


def otlp_bodies(spans: Sequence[ReadableSpan], batch: int) -> list[bytes]:
    return [encode_spans(list(spans[i : i + batch])).SerializeToString() for i in range(0, len(spans), batch)]


def native_bodies(bodies: Sequence[bytes]) -> tuple[list[bytes], int]:
    """The same spans as native event batches (the server's mapping, keyed by each trace's conversation)."""
    mapped: list[tuple[Span, list[Draft]]] = []
    conversation_of: dict[str, str] = {}
    for body in bodies:
        for span in spans_of(ExportTraceServiceRequest.FromString(body)):
            assert isinstance(span, Span)
            conversation = span.attributes.get("conversation.id")
            if conversation:
                conversation_of[span.trace_id] = str(conversation)
            mapped.append((span, drafts_of(span, keys.runtime_of(span))))
    events = [
        draft.event(SERVICE, conversation_of[span.trace_id]).model_dump(mode="json", exclude_unset=True)
        for span, drafts in mapped
        for draft in drafts
    ]
    out = [
        orjson.dumps({"events": events[i : i + NATIVE_BATCH]}) for i in range(0, len(events), NATIVE_BATCH)
    ]
    return out, len(events)


# --- posting ------------------------------------------------------------------------------------------


@dataclass
class Posted:
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def post_all(url: str, path: str, headers: dict[str, str], queues: list[list[bytes]]) -> Posted:
    """Each queue posted in order by a thread of its own (an exporter sends its batches one after another)."""
    result = Posted()

    def poster(queue: list[bytes]) -> None:
        # A connection per request, so requests spread over the server's worker processes evenly (a kept-alive
        # connection stays with the worker that accepted it: with few clients, one worker can get most).
        unkept = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=url, timeout=600, headers=headers, limits=unkept) as client:
            for index, body in enumerate(queue):
                response = client.post(path, content=body)
                if response.status_code != 200 or result.errors:
                    with result.lock:
                        result.errors.append(
                            f"{path} body {index}: HTTP {response.status_code} {response.text[:200]}"
                        )
                    return

    threads = [threading.Thread(target=poster, args=(queue,)) for queue in queues]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def run(
    args: argparse.Namespace,
    workdir: Path,
    name: str,
    path: str,
    content_type: str,
    queues: list[list[bytes]],
) -> tuple[Posted, tuple[int, int], float]:
    with fresh_database(args.db, workdir, name, args.pg_url) as target:
        key = create_key(target, f"bench-{name}", "ingest")
        headers = {"Authorization": f"Bearer {key}", "Content-Type": content_type}
        with (
            serve(target, workdir, workers=args.workers) as server,
            RssSampler(server.process.pid) as rss,
            analyzer_for(target, args.pg_analyze_interval),
        ):
            print(f"{name}: posting {sum(map(len, queues)):,} bodies to {server.url}{path} ...")
            posted = post_all(server.url, path, headers, queues)
            if posted.errors:
                raise SystemExit(f"{posted.errors[:3]}\n{server.tail()}")
        cpu = ", ".join(f"{seconds:.0f}" for seconds in rss.cpu_seconds)
        print(f"{name}: {posted.seconds:.1f} s; server CPU seconds per process: {cpu}")
        return posted, stored_counts(target), rss.peak_mb


def main() -> None:
    args = parse_args()
    began = time.perf_counter()
    by_bot = generate_bots(args.conversations, args.turns, args.open, args.clients, args.seed)
    queues = [otlp_bodies(spans, args.batch) for spans in by_bot]
    spans = [span for bot in by_bot for span in bot]
    bodies = [body for queue in queues for body in queue]
    natives, events = native_bodies(bodies)
    native_queues = [natives[n :: args.clients] for n in range(args.clients)]
    print(
        f"generated {len(spans):,} spans of {args.conversations:,} conversations in {len(bodies):,} exports "
        f"({sum(map(len, bodies)) / 1e6:.0f} MB) = {events:,} native events, "
        f"in {time.perf_counter() - began:.0f} s"
    )
    with workspace(keep=args.keep) as workdir:
        otlp, otlp_stored, otlp_rss = run(
            args, workdir, "otlp", "/otel/v1/traces", "application/x-protobuf", queues
        )
        native, native_stored, native_rss = run(
            args, workdir, "native", "/api/v1/ingest/events", "application/json", native_queues
        )
    otlp_rate, native_rate = events / otlp.seconds, events / native.seconds
    ratio = otlp_rate / native_rate
    print_block(
        f"OTLP trace ingest vs native ingest of the same events ({args.db}, {args.workers} workers, "
        f"{args.clients} clients)",
        [
            ("sessionary", sessionary_source()),
            ("spans / conversations / events", f"{len(spans):,} / {args.conversations:,} / {events:,}"),
            (
                "OTLP end to end",
                f"{len(spans) / otlp.seconds:,.0f} spans/s, {args.conversations / otlp.seconds:,.0f} "
                f"sessions/s, {otlp_rate:,.0f} events/s ({otlp.seconds:.1f} s; peak RSS {otlp_rss:.0f} MB)",
            ),
            (
                "native, same events",
                f"{native_rate:,.0f} events/s, {args.conversations / native.seconds:,.0f} "
                f"sessions/s ({native.seconds:.1f} s; peak RSS {native_rss:.0f} MB)",
            ),
            ("stored (sessions, events)", f"OTLP {otlp_stored}, native {native_stored}"),
            (
                "ratio OTLP / native",
                f"{ratio:.2f} (target >= {TARGET_RATIO}) {verdict(ratio >= TARGET_RATIO)}",
            ),
            ("same sessions and events stored", verdict(otlp_stored == native_stored)),
        ],
    )


if __name__ == "__main__":
    main()
