"""The reader's budgets: a read that uses more CPU than allowed is ended by the kernel in its
worker process (SIGPROF), not waited for, and the next read gets a fresh worker."""

from __future__ import annotations

import signal
import time

import pytest

from tests.test_reader import rss
from tracker.probes.reader import BodyReader, ReaderSettings, Reading, Unreadable


def spin_forever(note: str) -> str:
    """A parse that never ends (runs in the worker process)."""
    while True:
        note = note[::-1]


def fail_with(message: str) -> None:
    """A parse with a bug (runs in the worker process)."""
    raise ValueError(message)


class OddError(Exception):
    """An exception that cannot be rebuilt from its args (keyword-only fields)."""

    def __init__(self, message: str, *, code: int) -> None:
        super().__init__(message)
        self.code = code


def fail_oddly(message: str) -> None:
    """A parse with a bug whose exception does not survive pickling (runs in the worker)."""
    raise OddError(message, code=7)


def add(a: int, b: int) -> int:
    """A parse that ends at once (runs in the worker process)."""
    return a + b


# The wall-clock limit is far away: only the CPU budget can end these reads in time.
CPU_ONLY = ReaderSettings(workers=1, cpu_budget_s=0.2, wall_budget_s=120.0)


async def test_a_runaway_parse_is_killed_at_its_cpu_limit() -> None:
    async with BodyReader(CPU_ONLY) as reader:
        began = time.monotonic()
        with pytest.raises(Unreadable) as caught:
            await reader.run(spin_forever, "x")
        assert time.monotonic() - began < 60  # generous: the wall limit is at 120 s
        assert str(caught.value) == (
            "the source answered something unreadable: it took longer than 0.2 s of work to read"
        )
        assert reader.killed == 1
        assert reader.last_kill_status == -signal.SIGPROF  # the kernel ended it, not the wall
        assert await reader.run(add, 2, 3) == 5  # a fresh worker reads the next one
        assert reader.reads == 2


async def test_a_real_body_over_a_tiny_cpu_budget_is_killed_by_the_kernel() -> None:
    tiny = ReaderSettings(workers=1, cpu_budget_s=0.005, wall_budget_s=120.0)
    async with BodyReader(tiny) as reader:
        with pytest.raises(Unreadable):
            await reader.read(Reading.FEED, rss(20_000), "")  # ~2 MB: far more than 5 ms
        assert reader.last_kill_status == -signal.SIGPROF
        assert reader.killed == 1


async def test_the_cpu_budget_is_per_read_not_per_worker() -> None:
    # Many cheap reads in one worker add up to far more than one budget: none is killed.
    settings = ReaderSettings(workers=1, cpu_budget_s=0.5, wall_budget_s=120.0)
    async with BodyReader(settings) as reader:
        for _ in range(30):
            feed = await reader.read(Reading.FEED, rss(300), "")
            assert len(feed.entries) == 300
        assert reader.killed == 0


async def test_a_parse_bug_comes_back_as_itself_with_the_workers_traceback() -> None:
    async with BodyReader(CPU_ONLY) as reader:
        with pytest.raises(ValueError, match="boom") as caught:
            await reader.run(fail_with, "boom")
        assert any("in the reader process" in note for note in caught.value.__notes__)
        assert reader.killed == 0
        assert await reader.run(add, 1, 1) == 2


async def test_an_exception_that_cannot_travel_comes_back_as_a_runtime_error() -> None:
    async with BodyReader(CPU_ONLY) as reader:
        with pytest.raises(RuntimeError, match="OddError: odd") as caught:
            await reader.run(fail_oddly, "odd")
        assert any("in the reader process" in note for note in caught.value.__notes__)
        assert reader.killed == 0
        assert await reader.run(add, 2, 2) == 4
