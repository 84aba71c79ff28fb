"""The ingest gate: at most `limit` holders at once in a process; the next one gets in when one leaves."""

from __future__ import annotations

import asyncio

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
