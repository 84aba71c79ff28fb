"""The events case of bench/ingest.py against a second server (`--against PATH`): before/after in one run.

On a shared 2-core machine one run's rate moves by 10-25 % from run to run, so two runs, one per checkout,
cannot show a change of a few per cent. Here both servers are up at once, each on a fresh database of its
own, and the batches go in rounds of `--round` requests: each round is posted (by the same client threads)
to one server and then to the other, the order alternating from round to round, so that both meet the
machine in the same minutes. Each server's rate is its events over the time of its own rounds; its CPU per
event is the CPU its processes used over those rounds (the idle server's background threads only poll).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness import share

# ingest.post_all: (url, key, bodies, clients) -> its HttpResult
Post = Callable[[str, str, list[bytes], int], Any]


@dataclass
class Tally:
    """One server's share of the rounds."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0
    inserted: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    round_rates: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.inserted / self.seconds if self.seconds else 0.0

    @property
    def cpu_us(self) -> float:
        return 1e6 * self.cpu_seconds / self.inserted if self.inserted else 0.0


def post_rounds(
    servers: Sequence[tuple[Any, str]], bodies: list[bytes], clients: int, per_round: int, post: Post
) -> list[Tally]:
    """Post `bodies` to each of `servers` ((harness.Server, key) pairs), `per_round` requests at a time to
    one server and then the same requests to the next, the order turning by one every round."""
    tallies = [Tally() for _ in servers]
    for number, start in enumerate(range(0, len(bodies), per_round)):
        part = bodies[start : start + per_round]
        for turn in range(len(servers)):
            index = (number + turn) % len(servers)
            server, key = servers[index]
            tally = tallies[index]
            cpu_before = server.cpu_seconds()
            result = post(server.url, key, part, clients)
            tally.cpu_seconds += server.cpu_seconds() - cpu_before
            tally.seconds += result.seconds
            tally.inserted += result.inserted
            tally.latencies += result.latencies
            tally.errors += result.errors
            tally.round_rates.append(result.inserted / result.seconds if result.seconds else 0.0)
        if any(tally.errors for tally in tallies):
            break
    return tallies


def lines(tallies: Sequence[Tally], raw_rate: float) -> list[tuple[str, str]]:
    """The report's rows: each server's rate, CPU per event and ratio to raw, then this / against."""
    this, against = tallies
    rows = []
    for label, tally in (("this", this), ("against", against)):
        low, high = min(tally.round_rates, default=0.0), max(tally.round_rates, default=0.0)
        rows.append(
            (
                f"{label}: end to end",
                f"{tally.rate:,.0f} events/s ({tally.seconds:.1f} s; rounds {low:,.0f}-{high:,.0f}), "
                f"{tally.cpu_us:.1f} us of server CPU an event, ratio to raw {share(tally.rate, raw_rate)}",
            )
        )
    # Each round's ratio: their median is not moved by a round that met a database checkpoint.
    pairs = [a / b for a, b in zip(this.round_rates, against.round_rates, strict=False) if b]
    spread = f"median {statistics.median(pairs):.3f}, {min(pairs):.3f}-{max(pairs):.3f}" if pairs else "-"
    rows += [
        ("THIS / AGAINST, events/s", f"{share(this.rate, against.rate)} (rounds: {spread})"),
        ("this / against, CPU an event", share(this.cpu_us, against.cpu_us)),
    ]
    return rows
