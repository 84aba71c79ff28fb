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


def test_a_request_that_finds_another_waiting_at_the_gate_is_told_connection_close_and_no_other_is() -> None:
    """So that client's next request opens a new connection, which a free server worker may accept (a
    keep-alive connection otherwise stays on the busy worker); one waiting request is a worker's steady
    state with two senders and keeps its connection."""

    async def scenario() -> tuple[Response, ...]:
        gate = Gate(1)
        answers = tuple(Response() for _ in range(4))
        first = gate.hold(answers[0])
        await anext(first)
        queued = [gate.hold(answer) for answer in answers[1:3]]
        entering = [asyncio.ensure_future(anext(holder)) for holder in queued]
        await asyncio.sleep(0.05)
        await first.aclose()
        for holder, entered in zip(queued, entering, strict=True):
            await asyncio.wait_for(entered, timeout=10)
            await holder.aclose()
        last = gate.hold(answers[3])  # the gate free again
        await anext(last)
        await last.aclose()
        return answers

    answers = asyncio.run(scenario())
    assert [answer.headers.get("connection") for answer in answers] == [None, None, "close", None]


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
