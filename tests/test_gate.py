"""The ingest gate: at most `limit` holders at once in a process; the next one gets in when one leaves."""

from __future__ import annotations

import asyncio

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


def test_a_request_that_queued_at_the_gate_is_told_connection_close_and_one_let_straight_in_is_not() -> None:
    """So a client's next request opens a new connection, which a free server worker accepts (a keep-alive
    connection otherwise stays on the busy worker)."""

    async def scenario() -> tuple[Response, Response, Response]:
        gate = Gate(1)
        answers = (Response(), Response(), Response())
        first = gate.hold(answers[0])
        await anext(first)
        second = gate.hold(answers[1])
        waiting = asyncio.ensure_future(anext(second))
        await asyncio.sleep(0.05)
        await first.aclose()
        await asyncio.wait_for(waiting, timeout=10)
        await second.aclose()
        third = gate.hold(answers[2])  # the gate free again
        await anext(third)
        await third.aclose()
        return answers

    first, second, third = asyncio.run(scenario())
    assert "connection" not in first.headers
    assert second.headers["connection"] == "close"
    assert "connection" not in third.headers
