"""The ingest gate: at most `limit` holders at once in a process; the next one gets in when one leaves."""

from __future__ import annotations

import asyncio
import gc

from fastapi import Response

from sessionary.errors import Unavailable
from sessionary.gate import Gate


def test_the_gate_lets_one_batch_in_at_a_time_and_the_next_when_it_leaves() -> None:
    async def scenario() -> tuple[bool, bool]:
        gate = Gate(1)
        first = gate.hold(Response())
        await anext(first)
        second = gate.hold(Response())
        waiting = asyncio.ensure_future(anext(second))
        await asyncio.sleep(0.05)
        blocked = not waiting.done()
        await first.aclose()
        await asyncio.wait_for(waiting, timeout=10)
        let_in = waiting.done()
        await second.aclose()
        return blocked, let_in

    blocked, let_in = asyncio.run(scenario())
    assert blocked
    assert let_in


def test_a_gate_with_a_queue_bound_sheds_the_request_past_it_with_503_and_retry_after() -> None:
    async def scenario() -> tuple[int, int, bool]:
        gate = Gate(1, max_waiting=1)
        first = gate.hold(Response())
        await anext(first)
        second = gate.hold(Response())
        waiting = asyncio.ensure_future(anext(second))
        await asyncio.sleep(0.05)
        try:
            await anext(gate.hold(Response()))
        except Unavailable as shed:
            status, retry = shed.status_code, shed.retry_after
        await first.aclose()
        await asyncio.wait_for(waiting, timeout=10)  # the queued one still gets in
        await second.aclose()
        third = gate.hold(Response())
        await anext(third)  # and with the queue empty again, a new one is let in
        await third.aclose()
        return status, retry, waiting.done()

    status, retry, let_in = asyncio.run(scenario())
    assert status == 503
    assert retry >= 1
    assert let_in


def test_the_cyclic_collector_is_off_while_a_batch_holds_the_gate_and_on_again_after() -> None:
    async def scenario() -> tuple[bool, bool]:
        gate = Gate(1)
        holder = gate.hold(Response())
        await anext(holder)
        off_inside = not gc.isenabled()
        await holder.aclose()
        return off_inside, gc.isenabled()

    off_inside, on_after = asyncio.run(scenario())
    assert off_inside
    assert on_after


class _FakeSiblings:
    """A sibling worker whose load is fixed; records what the gate publishes."""

    def __init__(self, least: int | None) -> None:
        self.least = least
        self.published: list[int] = []

    def least_other(self) -> int | None:
        return self.least

    def publish(self, load: int) -> None:
        self.published.append(load)


def _queue_three(siblings: _FakeSiblings) -> tuple[Response, ...]:
    """One request holds the gate, two queue behind it, then all leave; each request's answer."""

    async def scenario() -> tuple[Response, ...]:
        gate = Gate(1, siblings=siblings)  # type: ignore[arg-type]  # the fake has Siblings' two methods
        answers = tuple(Response() for _ in range(3))
        holders = [gate.hold(answer) for answer in answers]
        await anext(holders[0])
        entering = [asyncio.ensure_future(anext(holder)) for holder in holders[1:]]
        await asyncio.sleep(0.05)
        await holders[0].aclose()
        for holder, entered in zip(holders[1:], entering, strict=True):
            await asyncio.wait_for(entered, timeout=10)
            await holder.aclose()
        return answers

    return asyncio.run(scenario())


def test_a_queued_request_while_a_sibling_idles_is_told_to_reconnect() -> None:
    answers = _queue_three(_FakeSiblings(least=0))
    assert [answer.headers.get("connection") for answer in answers] == [None, "close", "close"]


def test_a_queued_request_keeps_its_connection_while_every_sibling_works() -> None:
    """Three senders here against one there: both workers work all the time, so none is moved."""
    answers = _queue_three(_FakeSiblings(least=1))
    assert [answer.headers.get("connection") for answer in answers] == [None, None, None]


def test_without_live_siblings_no_request_is_told_to_reconnect() -> None:
    answers = _queue_three(_FakeSiblings(least=None))
    assert [answer.headers.get("connection") for answer in answers] == [None, None, None]


def test_the_gate_publishes_its_load_held_and_waiting_as_it_changes() -> None:
    siblings = _FakeSiblings(least=None)
    _queue_three(siblings)
    # the three queue in turn (1: the first waits for a free gate, 2, 3), then each leaves (2, 1, 0)
    assert siblings.published == [1, 2, 3, 2, 1, 0]
