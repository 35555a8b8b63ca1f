"""The transfer service: export files for a guild, and imports checked in full before one
transaction writes them (or, for a dry run, only the report)."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import gzip
import logging
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from tracker.clock import Clock
from tracker.errors import InvalidInput
from tracker.limits import Limits
from tracker.models import GuildConfig, Launch, LaunchEvent
from tracker.ports import Store
from tracker.records import LaunchRecord
from tracker.text import plural
from tracker.transfer.export import ExportWriter
from tracker.transfer.formats import TransferFormat, detect_format
from tracker.transfer.planning import (
    ImportIssue,
    ImportPlanner,
    PlannedLaunch,
    launch_key,
    plan_event_log,
)
from tracker.transfer.reading import MAX_IMPORT_CHARS, decode, is_gzip, iter_rows, unpack

log = logging.getLogger(__name__)

__all__ = [
    "EXPORT_PAGE",
    "MAX_ISSUES",
    "ExportFile",
    "ImportReport",
    "TransferService",
    "Upload",
    "mib",
    "smaller_export_advice",
]

MAX_ISSUES = 50
# Launches read, formatted and let go of at a time by an export (and rows checked at a time by
# an import): a big server's export holds one page of records, never all of them.
EXPORT_PAGE = 1000
IMPORT_PAGE = 500


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did, or (dry run) would do."""

    format: TransferFormat
    dry_run: bool
    rows: int  # launches in the file
    would_create: int  # valid launches (all of them when there is no error)
    events: int  # history rows among them
    created: int  # launches written (0 for a dry run or when there is any error)
    launch_ids: tuple[int, ...]  # ids of the written launches, in file order
    errors: tuple[ImportIssue, ...]  # at most MAX_ISSUES
    error_count: int  # all errors, including those not listed
    warnings: tuple[ImportIssue, ...]

    @property
    def ok(self) -> bool:
        """True when every row is valid (the import can be, or was, written)."""
        return self.error_count == 0

    def summary(self) -> str:
        """One paragraph for a person."""
        if not self.ok:
            lines = [
                f"Nothing was imported: {plural(self.error_count, 'problem')} in "
                f"{plural(self.rows, 'row')}."
            ]
            lines += [f"- {issue}" for issue in self.errors]
            if self.error_count > len(self.errors):
                lines.append(f"- and {self.error_count - len(self.errors)} more")
            return "\n".join(lines)
        verb = "Would import" if self.dry_run else "Imported"
        text = (
            f"{verb} {plural(self.would_create, 'launch')} with "
            f"{plural(self.events, 'history entry')}."
        )
        if self.warnings:
            text += "\n" + "\n".join(f"- {w}" for w in self.warnings[:MAX_ISSUES])
        return text


@dataclass(frozen=True, slots=True)
class ExportFile:
    """An export ready to attach: the file as made, or gzip-compressed (``compressed``) when it
    was larger than the caller could send; ``size`` is the file's size before compression."""

    filename: str
    content: bytes
    launches: int
    compressed: bool = False
    size: int = 0


@dataclass(frozen=True, slots=True)
class Upload:
    """An uploaded file ready to check or import: unpacked when it came as gzip."""

    filename: str  # without the .gz
    data: bytes
    format: TransferFormat
    unpacked: bool  # it came as gzip


def mib(size: int) -> str:
    """A file size for a person, as Discord counts them: KiB under one MiB (rounded up, so a
    non-empty file is never "0"), else MiB to one decimal ("5 MiB", "2.3 MiB")."""
    if size < 1024 * 1024:
        return f"{-(-size // 1024)} KiB"
    return f"{size / 1024 / 1024:.1f}".removesuffix(".0") + " MiB"


@dataclass(frozen=True, slots=True)
class _Plan:
    """A file read and checked: its row count, the launches it makes (kept only for an import
    that writes them), how many launches and history rows they are, and its problems."""

    rows: int
    launches: list[PlannedLaunch]
    valid: int
    events: int
    errors: list[ImportIssue]
    warnings: list[ImportIssue]


class TransferService:
    """Export and import for one database. *on_change* runs after an import is committed (the
    engine's poke, so that imported deadlines are armed)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        on_change: Callable[[], None] | None = None,
        *,
        limits: Limits | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.on_change = on_change
        self.limits = limits or Limits()
        # When each server's recent imports were made (in memory: a restart forgets them).
        self._imports: dict[int, collections.deque[dt.datetime]] = {}

    async def export(
        self,
        guild_id: int,
        fmt: TransferFormat,
        *,
        vendor: str | None = None,
        max_bytes: int | None = None,
    ) -> ExportFile:
        """Every launch of the guild (of *vendor* only, if given) with its history, as a file.

        Read a page at a time in one consistent snapshot, each page formatted in a worker
        thread and kept only as text, so the event loop never holds (nor the garbage collector
        walks) every record at once. When the file is larger than *max_bytes* (what Discord
        takes in the guild), it is gzip-compressed; when even that is too large, InvalidInput
        says what to do instead. DamagedDatabase when the database file is damaged: an export
        of a damaged file would be silently incomplete."""
        await self.store.quick_check()
        writer = ExportWriter(fmt)
        parts = [writer.head().encode("utf-8")]
        after = 0
        async with self.store.snapshot() as snap:
            while True:
                page = await snap.launches.launches_after(
                    guild_id, after, EXPORT_PAGE, vendor=vendor
                )
                if not page:
                    break
                events = await snap.events.events_of_launches(guild_id, [x.id for x in page])
                parts.append(await asyncio.to_thread(_write_page, writer, page, events))
                after = page[-1].id
                if len(page) < EXPORT_PAGE:
                    break
        if vendor and not writer.launches:
            raise InvalidInput(f"This server tracks no launch by {vendor}.")
        parts.append(writer.tail().encode("utf-8"))
        content = await asyncio.to_thread(b"".join, parts)
        del parts
        stamp = self.clock.now().strftime("%Y%m%d-%H%M")
        name = f"slipwatch-{guild_id}{_slug(vendor)}-{stamp}.{fmt.value}"
        export = ExportFile(name, content, writer.launches, size=len(content))
        if max_bytes is None or len(content) <= max_bytes:
            return export
        packed = await asyncio.to_thread(gzip.compress, content, 6, mtime=0)
        if len(packed) > max_bytes:
            raise InvalidInput(_too_large(export, len(packed), max_bytes, guild_id, vendor))
        return dataclasses.replace(export, filename=name + ".gz", content=packed, compressed=True)

    async def read_upload(self, filename: str, data: bytes) -> Upload:
        """An uploaded file as :meth:`check` and :meth:`import_launches` take it: a gzip file
        (an export too large for Discord as it was) unpacked, at most
        tracker.transfer.reading.MAX_UNPACKED_BYTES far; its format from its name and start."""
        packed = is_gzip(data)
        if packed:
            data = await asyncio.to_thread(unpack, data)
            filename = filename.removesuffix(".gz").removesuffix(".GZ")
        # Only the start tells the format: the whole file is decoded once, when it is read.
        fmt = detect_format(filename, data[:65536].decode("utf-8-sig", errors="replace"))
        return Upload(filename, data, fmt, packed)

    async def check(
        self, guild_id: int, data: bytes | str | TextIO, fmt: TransferFormat
    ) -> ImportReport:
        """Dry run: validate the file for the guild and say what an import would do."""
        report, _ = await self._plan(guild_id, data, fmt, dry_run=True)
        return report

    async def import_launches(
        self, guild_id: int, data: bytes | str | TextIO, fmt: TransferFormat
    ) -> ImportReport:
        """Validate, then write every launch and its history in one transaction; writes
        nothing at all when any row is invalid (the report lists why)."""
        recent = self._recent_imports(guild_id)
        if len(recent) >= self.limits.imports_per_hour:
            wait = recent[0] + dt.timedelta(hours=1) - self.clock.now()
            minutes = max(1, math.ceil(wait.total_seconds() / 60))
            raise InvalidInput(
                f"This server made {plural(len(recent), 'import')} in the last hour, the most "
                f"it can make. Try again in {plural(minutes, 'minute')}."
            )
        report, planned = await self._plan(guild_id, data, fmt, dry_run=False)
        if not report.ok:
            return report
        recent.append(self.clock.now())
        ids = await self._write(planned)
        log.info("imported %d launches into guild %s", len(ids), guild_id)
        if self.on_change is not None:
            self.on_change()
        return dataclasses.replace(report, created=len(ids), launch_ids=tuple(ids))

    async def _write(self, planned: list[PlannedLaunch]) -> list[int]:
        """Insert every planned launch and its history in one transaction; their new ids.

        Everything was read and checked before, and the rows are made in a worker thread
        before the transaction too: it holds only the batched inserts (a few statements for
        5,000 launches, not one per launch and history row), so the database's one writer,
        which every server's alerts and changes wait for, is held only as long as the rows
        take to write."""
        records = [LaunchRecord(plan.launch, plan.events) for plan in planned]
        rows = await asyncio.to_thread(self.store.read.launches.prepare_records, records)
        del records
        async with self.store.transaction() as tx:
            return await tx.launches.insert_prepared(rows)

    def _recent_imports(self, guild_id: int) -> collections.deque[dt.datetime]:
        recent = self._imports.setdefault(guild_id, collections.deque())
        hour_ago = self.clock.now() - dt.timedelta(hours=1)
        while recent and recent[0] <= hour_ago:
            recent.popleft()
        return recent

    async def _plan(
        self, guild_id: int, data: bytes | str | TextIO, fmt: TransferFormat, *, dry_run: bool
    ) -> tuple[ImportReport, list[PlannedLaunch]]:
        await self.store.quick_check()  # never plan from, or write into, a damaged file
        # Decoding, reading and checking every row is CPU work: worker threads do it.
        text = await asyncio.to_thread(_decode_upload, data)
        config = await self.store.read.guilds.get_guild(guild_id)
        existing = await self.store.read.launches.count_launches(guild_id)
        if fmt is TransferFormat.EVENT_LOG:
            plan = await self._plan_event_log(text, config, existing)
        else:
            plan = await self._plan_launches(
                guild_id, text, fmt, config, existing, keep=not dry_run
            )
        report = ImportReport(
            format=fmt,
            dry_run=dry_run,
            rows=plan.rows,
            would_create=plan.valid,
            events=plan.events,
            created=0,
            launch_ids=(),
            errors=tuple(plan.errors[:MAX_ISSUES]),
            error_count=len(plan.errors),
            warnings=tuple(plan.warnings),
        )
        return report, plan.launches

    async def _plan_launches(
        self,
        guild_id: int,
        text: str | TextIO,
        fmt: TransferFormat,
        config: GuildConfig,
        existing: int,
        *,
        keep: bool,
    ) -> _Plan:
        """A JSON or CSV export file: one launch a record, read and checked IMPORT_PAGE rows at
        a time in worker threads; the planned launches are kept only when they are to be
        written (*keep*)."""
        keys = await self.store.read.launches.launch_keys(guild_id)
        planner = await asyncio.to_thread(
            ImportPlanner,
            config,
            self.clock.now(),
            (launch_key(*k) for k in keys),
        )
        del keys
        rows = iter_rows(text, fmt)
        planned: list[PlannedLaunch] = []
        while True:
            before = planner.rows
            page = await asyncio.to_thread(_plan_page, planner, rows)
            if keep:
                planned.extend(page)
            if planner.rows - before < IMPORT_PAGE:
                break
        if not planner.rows:
            raise InvalidInput("The file has no launches.")
        self._check_room(existing, planner.rows)
        return _Plan(
            planner.rows, planned, planner.valid, planner.events, planner.errors, planner.warnings
        )

    async def _plan_event_log(
        self, text: str | TextIO, config: GuildConfig, existing: int
    ) -> _Plan:
        """An event log: one event a row, replayed into launches."""
        if not isinstance(text, str):  # a stream (the command line): read it, capped
            text = await asyncio.to_thread(text.read, MAX_IMPORT_CHARS + 1)
            if len(text) > MAX_IMPORT_CHARS:
                raise InvalidInput(
                    f"The file is larger than {MAX_IMPORT_CHARS // 1_000_000} MB. Split it "
                    "and import the parts."
                )
        count, planned, errors, warnings = await asyncio.to_thread(
            plan_event_log, text, config, self.clock.now()
        )
        self._check_room(existing, len(planned))
        events = sum(len(p.events) for p in planned)
        return _Plan(count, planned, len(planned), events, errors, warnings)

    def _check_room(self, existing: int, incoming: int) -> None:
        """InvalidInput when *incoming* more launches would pass the server's cap."""
        cap = self.limits.launches_per_guild
        if existing + incoming > cap:
            raise InvalidInput(
                f"This server tracks {plural(existing, 'launch')} and the file holds "
                f"{incoming} more; a server can have at most {plural(cap, 'launch')}. Remove "
                "launches you no longer need with /launch remove, or import fewer."
            )


def _write_page(
    writer: ExportWriter, page: list[Launch], events: dict[int, list[LaunchEvent]]
) -> bytes:
    return writer.page(page, events).encode("utf-8")


def _plan_page(planner: ImportPlanner, rows: Iterator[dict[str, Any]]) -> list[PlannedLaunch]:
    """The next IMPORT_PAGE rows of *rows*, checked (fewer at the end of the file)."""
    page = []
    for raw in rows:
        page.append(raw)
        if len(page) == IMPORT_PAGE:
            break
    return planner.plan(page)


def _slug(vendor: str | None) -> str:
    """A vendor's part of an export's file name ("-open-ai" for "Open AI")."""
    if not vendor:
        return ""
    slug = re.sub(r"[^a-z0-9]+", "-", vendor.casefold()).strip("-")[:40]
    return f"-{slug}" if slug else "-vendor"


def _too_large(
    export: ExportFile, packed: int, limit: int, guild_id: int, vendor: str | None
) -> str:
    """Why an export does not fit in one Discord upload even compressed, and what to do."""
    return (
        f"The export of {plural(export.launches, 'launch')} is {mib(export.size)} "
        f"({mib(packed)} compressed), more than the {mib(limit)} Discord takes in this "
        "server. " + smaller_export_advice(guild_id, vendor)
    )


def smaller_export_advice(guild_id: int, vendor: str | None) -> str:
    """What to do when a server's export is too large for one Discord upload."""
    return (
        "Export one vendor at a time (/launch export vendor: ...), or ask "
        if vendor is None
        else "Ask "
    ) + (
        f"the bot's operator to run `python bot.py export --guild {guild_id}`, which writes "
        "a file of any size."
    )


def _decode_upload(data: bytes | str | TextIO) -> str | TextIO:
    return decode(data) if isinstance(data, bytes) else data
