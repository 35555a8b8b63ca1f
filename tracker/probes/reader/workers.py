"""Worker processes that turn a source's bytes into plain data or evidence, each read with a
hard budget, so that no body can stall the bot.

Every read runs in a worker process (:class:`BodyReader`):

- its CPU time is limited by the kernel: a profiling timer (ITIMER_PROF) is armed with the
  budget before the read, and SIGPROF's default action ends the process the moment the read
  has used it up, wherever the read is (inside libxml2 too). A runaway read is killed, not
  waited for, and the worker is replaced;
- its wall-clock time is limited here as well (a busy machine);
- its memory is limited (RLIMIT_AS), and it runs at a lower CPU priority than the bot, so a
  big or hostile body is read in the time the event loop leaves, never in the loop's;
- the workers are shared fairly between servers (:class:`tracker.probes.fair.FairSlots`):
  one server holds at most ``per_owner`` of them, so its slow reads wait behind each other,
  not in front of other servers'.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import pickle
import signal
import struct
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tracker.probes.fair import FairSlots
from tracker.probes.reader.bodies import read_body
from tracker.probes.reader.records import Reading, Unreadable

log = logging.getLogger(__name__)

T = TypeVar("T")
_HEADER = struct.Struct("!I")
_MEMORY_ENV = "SLIPWATCH_READER_MEMORY"
_READY = b"R"
# What a worker imports before it says it is ready: the parsers and what reads evidence.
PRELOAD = ("lxml.etree", "lxml.html", "tracker.probes.kinds")


@dataclass(frozen=True, slots=True)
class ReaderSettings:
    """Limits of the body readers."""

    workers: int = 2
    cpu_budget_s: float = 5.0  # CPU seconds one read may use (the kernel enforces it)
    wall_budget_s: float = 15.0  # wall-clock seconds one read may take (a busy machine)
    # How many of the workers one server may hold while others wait.
    per_owner: int = 1


# --------------------------------------------------------------------------- in the worker


def _limit_worker() -> None:  # pragma: no cover - runs in the worker process
    import resource

    memory = int(os.environ.get(_MEMORY_ENV, str(1024 * 1024 * 1024)))
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except (ValueError, OSError):
        pass
    try:
        os.nice(5)  # reading yields the CPU to the bot's event loop
    except OSError:
        pass
    # The CPU budget's timer ends the process: SIGPROF's default action is to terminate.
    signal.signal(signal.SIGPROF, signal.SIG_DFL)


def _portable(exc: Exception) -> Exception:
    """*exc* when it survives the trip to the bot's process (pickled there and back), else a
    RuntimeError naming it, with its notes."""
    try:
        pickle.loads(pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        plain = RuntimeError(f"{type(exc).__name__}: {exc}"[:1000])
        for note in getattr(exc, "__notes__", ()):
            plain.add_note(note)
        return plain
    return exc


def _answer(fn: Callable[..., Any], args: tuple[Any, ...], cpu_s: float) -> bytes:
    """Run one read under its CPU budget; the pickled ("ok", value) or ("error", exception)."""
    signal.setitimer(signal.ITIMER_PROF, cpu_s)
    try:
        answer: tuple[str, Any] = ("ok", fn(*args))
    except Exception as exc:
        if not isinstance(exc, Unreadable):
            exc.add_note("in the reader process:\n" + traceback.format_exc())
        answer = ("error", _portable(exc))
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
    try:
        return pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, RecursionError, MemoryError):
        return pickle.dumps(("error", Unreadable("too complex to read")))
    except Exception as exc:  # an exception that cannot be pickled
        return pickle.dumps(("error", RuntimeError(f"{type(exc).__name__} in the reader")))


def serve() -> None:  # pragma: no cover - runs in the worker process
    """Read requests from stdin, answer on stdout: (function, args, cpu_s) -> ("ok", value)
    or ("error", exception). The kernel ends the process when one read uses more CPU than
    allowed."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but answers on the pipe
    _limit_worker()
    for module in PRELOAD:  # loaded once, before the first budget starts
        importlib.import_module(module)
    stdout.write(_READY)
    stdout.flush()
    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        (size,) = _HEADER.unpack(header)
        fn, args, cpu_s = pickle.loads(stdin.read(size))
        out = _answer(fn, args, cpu_s)
        stdout.write(_HEADER.pack(len(out)) + out)
        stdout.flush()


# --------------------------------------------------------------------------- in the bot


class _Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        # Signals go through a pidfd: Process.kill() first polls the child, which reaps one
        # that just died before asyncio's watcher sees it, and its exit status is lost.
        try:
            self._pidfd: int | None = os.pidfd_open(process.pid)
        except (AttributeError, OSError):  # pragma: no cover - not Linux 5.3+
            self._pidfd = None

    @classmethod
    async def start(cls) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from tracker.probes.reader.workers import serve; serve()",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=None,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        )
        worker = cls(process)
        assert process.stdout is not None
        try:
            ready = await process.stdout.readexactly(len(_READY))
        except BaseException:
            await worker.kill()
            raise
        if ready != _READY:  # pragma: no cover - a broken installation
            await worker.kill()
            raise RuntimeError("a reader worker did not start")
        return worker

    async def ask(self, payload: bytes) -> tuple[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(_HEADER.pack(len(payload)) + payload)
        await self.process.stdin.drain()
        header = await self.process.stdout.readexactly(_HEADER.size)
        (size,) = _HEADER.unpack(header)
        answer: tuple[str, Any] = pickle.loads(await self.process.stdout.readexactly(size))
        return answer

    async def kill(self) -> None:
        if self.process.returncode is None:
            try:
                if self._pidfd is not None:
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
                else:  # pragma: no cover - not Linux 5.3+
                    self.process.kill()
            except ProcessLookupError:
                pass
        await self.process.wait()
        self._forget()

    def _forget(self) -> None:
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    async def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            async with asyncio.timeout(2.0):
                await self.process.wait()
        except TimeoutError:
            await self.kill()
        self._forget()


class BodyReader:
    """A small pool of worker processes that read bodies; ``async with BodyReader() as r``.

    ``await reader.read(Reading.FEED, body, content_type, owner=guild_id)`` returns the plain
    data or raises :class:`Unreadable`; ``await reader.run(function, *args, owner=guild_id)``
    runs any module-level function on picklable arguments the same way (a probe's whole
    reading, from bytes to evidence). A read over its budget is killed with its worker (a new
    one starts for the next read). ``owner`` shares the workers fairly: one server's reads wait
    behind each other, not in front of other servers'."""

    def __init__(self, settings: ReaderSettings | None = None) -> None:
        self.settings = settings or ReaderSettings()
        workers = max(1, self.settings.workers)
        self._slots = FairSlots(workers, max(1, min(self.settings.per_owner, workers)))
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self.killed = 0  # reads that ran over their budget (tests and the benchmark)
        self.reads = 0
        # How the last killed worker ended (its exit status: -SIGPROF for the CPU budget).
        self.last_kill_status: int | None = None

    async def __aenter__(self) -> BodyReader:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def warm_up(self) -> None:
        """Start every worker now, so that no read waits for one to start (a worker's start
        costs about a tenth of a second of CPU: Python, lxml and the parsers' imports)."""
        while len(self._all) < max(1, self.settings.workers):
            worker = await _Worker.start()
            self._all.add(worker)
            self._idle.append(worker)

    async def aclose(self) -> None:
        """Stop every worker."""
        workers, self._all, self._idle = list(self._all), set(), []
        for worker in workers:
            await worker.close()

    async def read(
        self, reading: Reading, body: bytes, content_type: str = "", *, owner: int = 0
    ) -> Any:
        """*body* read as *reading* says, in a worker, within the budget."""
        return await self.run(read_body, reading, body, content_type, owner=owner)

    async def run(self, fn: Callable[..., T], *args: Any, owner: int = 0) -> T:
        """``fn(*args)`` in a worker, within the budget: its value, or the exception it
        raised (Unreadable when the budget ran out). *fn* must be a module-level function."""
        s = self.settings
        payload = pickle.dumps((fn, args, s.cpu_budget_s), protocol=pickle.HIGHEST_PROTOCOL)
        async with self._slots.slot(owner):
            worker = self._idle.pop() if self._idle else None
            if worker is None:
                worker = await _Worker.start()
                self._all.add(worker)
            self.reads += 1
            try:
                async with asyncio.timeout(s.wall_budget_s):
                    status, value = await worker.ask(payload)
            except BaseException as exc:
                # Over budget, killed by the kernel, or cancelled mid-read: the worker's state
                # is unknown, so it goes.
                self._all.discard(worker)
                await worker.kill()
                if isinstance(exc, TimeoutError | asyncio.IncompleteReadError | OSError):
                    self.killed += 1
                    self.last_kill_status = worker.process.returncode
                    log.info("a body read ran over its budget; its worker was replaced")
                    raise Unreadable(
                        f"it took longer than {s.cpu_budget_s:g} s of work to read"
                    ) from None
                raise
            self._idle.append(worker)
        if status != "ok":
            raise value
        result: T = value
        return result
