"""The transfer service: export files for a guild, and imports checked in full before one
transaction writes them (or, for a dry run, only the report)."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from tracker.clock import Clock
from tracker.errors import InvalidInput
from tracker.limits import Limits
from tracker.models import GuildConfig, Launch
from tracker.ports import Store
from tracker.text import plural
from tracker.transfer.export import export_csv, export_json
from tracker.transfer.formats import TransferFormat
from tracker.transfer.planning import ImportIssue, PlannedLaunch, plan_event_log, plan_import
from tracker.transfer.reading import MAX_IMPORT_CHARS, decode, read_rows

log = logging.getLogger(__name__)

__all__ = ["MAX_ISSUES", "ExportFile", "ImportReport", "TransferService"]

MAX_ISSUES = 50


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
    """An export ready to attach."""

    filename: str
    content: bytes
    launches: int


@dataclass(frozen=True, slots=True)
class _Plan:
    """A file read and checked: its row count, the launches it makes and its problems."""

    rows: int
    launches: list[PlannedLaunch]
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

    async def export(self, guild_id: int, fmt: TransferFormat) -> ExportFile:
        """Every launch of the guild with its history, as a file (DamagedDatabase when the
        database file is damaged: an export of a damaged file would be silently incomplete)."""
        await self.store.quick_check()
        launches = await self.store.read.launches.all_launches(guild_id)
        events = await self.store.read.events.events_by_launch(guild_id)
        # Formatting tens of thousands of launches runs in a worker thread, off the event loop.
        write = export_json if fmt is TransferFormat.JSON else export_csv
        text = await asyncio.to_thread(write, launches, events)
        stamp = self.clock.now().strftime("%Y%m%d-%H%M")
        return ExportFile(
            filename=f"slipwatch-{guild_id}-{stamp}.{fmt.value}",
            content=text.encode("utf-8"),
            launches=len(launches),
        )

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
        ids = await self._write(guild_id, planned)
        log.info("imported %d launches into guild %s", len(ids), guild_id)
        if self.on_change is not None:
            self.on_change()
        return dataclasses.replace(report, created=len(ids), launch_ids=tuple(ids))

    async def _write(self, guild_id: int, planned: list[PlannedLaunch]) -> list[int]:
        """Insert every planned launch and its history in one transaction; their new ids."""
        ids: list[int] = []
        async with self.store.transaction() as tx:
            for plan in planned:
                launch_id = await tx.launches.insert_launch_record(plan.launch)
                ids.append(launch_id)
                for event in plan.events:
                    await tx.events.append_event(
                        launch_id=launch_id,
                        guild_id=guild_id,
                        kind=event.kind,
                        at=event.at,
                        actor=event.actor,
                        source_url=event.source_url,
                        note=event.note,
                        data=event.data,
                    )
        return ids

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
        existing = await self.store.read.launches.all_launches(guild_id)
        if fmt is TransferFormat.EVENT_LOG:
            plan = await self._plan_event_log(text, config, existing)
        else:
            plan = await self._plan_launches(text, fmt, config, existing)
        report = ImportReport(
            format=fmt,
            dry_run=dry_run,
            rows=plan.rows,
            would_create=len(plan.launches),
            events=sum(len(p.events) for p in plan.launches),
            created=0,
            launch_ids=(),
            errors=tuple(plan.errors[:MAX_ISSUES]),
            error_count=len(plan.errors),
            warnings=tuple(plan.warnings),
        )
        return report, plan.launches

    async def _plan_launches(
        self, text: str | TextIO, fmt: TransferFormat, config: GuildConfig, existing: list[Launch]
    ) -> _Plan:
        """A JSON or CSV export file: one launch a record."""
        rows = await asyncio.to_thread(read_rows, text, fmt)
        self._check_room(existing, len(rows))
        planned, errors, warnings = await asyncio.to_thread(
            plan_import, rows, config, self.clock.now(), existing
        )
        return _Plan(len(rows), planned, errors, warnings)

    async def _plan_event_log(
        self, text: str | TextIO, config: GuildConfig, existing: list[Launch]
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
        return _Plan(count, planned, errors, warnings)

    def _check_room(self, existing: list[Launch], incoming: int) -> None:
        """InvalidInput when *incoming* more launches would pass the server's cap."""
        cap = self.limits.launches_per_guild
        if len(existing) + incoming > cap:
            raise InvalidInput(
                f"This server tracks {plural(len(existing), 'launch')} and the file holds "
                f"{incoming} more; a server can have at most {plural(cap, 'launch')}. Remove "
                "launches you no longer need with /launch remove, or import fewer."
            )


def _decode_upload(data: bytes | str | TextIO) -> str | TextIO:
    return decode(data) if isinstance(data, bytes) else data
