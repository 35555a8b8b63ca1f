"""FairSlots: one server's many waiting callers never stand in front of another server's."""

from __future__ import annotations

import asyncio

import pytest

from tracker.probes.fair import FairSlots


async def test_a_busy_owner_is_capped_and_others_are_served_in_turn() -> None:
    slots = FairSlots(total=3, per_owner=2)
    order: list[str] = []
    gate = asyncio.Event()

    async def job(owner: int, name: str) -> None:
        async with slots.slot(owner):
            order.append(name)
            await gate.wait()

    # Server 1 queues eight jobs first, then servers 2 and 3 one each.
    tasks = [asyncio.create_task(job(1, f"1.{i}")) for i in range(8)]
    tasks += [asyncio.create_task(job(2, "2.0")), asyncio.create_task(job(3, "3.0"))]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    # Server 1 holds its two; the third slot went to server 2, not to server 1's third job.
    assert order == ["1.0", "1.1", "2.0"]
    assert slots.held(1) == 2 and slots.free == 0
    gate.set()
    await asyncio.gather(*tasks)
    assert order.index("3.0") < order.index("1.3")
    assert slots.free == 3 and slots.held(1) == 0


async def test_a_cancelled_waiter_gives_its_turn_away() -> None:
    slots = FairSlots(total=1, per_owner=1)
    await slots.acquire(1)
    waiter = asyncio.create_task(slots.acquire(2))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    slots.release(1)
    assert slots.free == 1
    await slots.acquire(3)
    assert slots.held(3) == 1
    with pytest.raises(RuntimeError):
        slots.release(2)
