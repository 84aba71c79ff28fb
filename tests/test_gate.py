"""The ingest gate: at most `limit` holders at once in a process; the next one gets in when one leaves."""

from __future__ import annotations

import asyncio
import gc

from sessionary.errors import Unavailable
from sessionary.gate import Gate


def test_the_gate_lets_one_batch_in_at_a_time_and_the_next_when_it_leaves() -> None:
    async def scenario() -> tuple[bool, bool]:
        gate = Gate(1)
        first = gate.hold()
        await anext(first)
        second = gate.hold()
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
        first = gate.hold()
        await anext(first)
        second = gate.hold()
        waiting = asyncio.ensure_future(anext(second))
        await asyncio.sleep(0.05)
        try:
            await anext(gate.hold())
        except Unavailable as shed:
            status, retry = shed.status_code, shed.retry_after
        await first.aclose()
        await asyncio.wait_for(waiting, timeout=10)  # the queued one still gets in
        await second.aclose()
        third = gate.hold()
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
        holder = gate.hold()
        await anext(holder)
        off_inside = not gc.isenabled()
        await holder.aclose()
        return off_inside, gc.isenabled()

    off_inside, on_after = asyncio.run(scenario())
    assert off_inside
    assert on_after
