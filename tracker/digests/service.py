"""Posting digests: each guild's digest once per period, through the outbox, on the engine's timer.

Delivery shares the engine's one timer (``Engine.add_due_source``): :meth:`DigestService.due`
tells the next posting time across guilds (a stored, indexed ``digest_due_at`` per guild, not a
cron job), :meth:`DigestService.sweep` posts what is due. Each guild and period is recorded in
``digest_runs`` in the same transaction as its outbox rows, under unique keys, so a period is
posted once, across restarts too. After downtime only the latest missed period is posted, once,
marked late, covering everything since the previous digest.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tracker import deadlines
from tracker.clock import Clock
from tracker.digests.content import LISTED, UPCOMING_DAYS, Digest, assemble_bounded
from tracker.digests.posting_times import (
    DEFAULT_SCHEDULE,
    DigestPeriod,
    DigestSchedule,
    next_run_after,
    parse_schedule,
    period_for,
)
from tracker.errors import InvalidInput
from tracker.models import (
    DestinationKind,
    GuildConfig,
    Launch,
    Message,
    OutboxState,
    Subscription,
    SubscriptionScope,
)
from tracker.outbox.fanout import nonce_for
from tracker.ports import Session, Store
from tracker.records import DigestRun, Followed, PeriodChanges
from tracker.stats import Stats
from tracker.stats.tallies import stored_record

if TYPE_CHECKING:
    from tracker.engine import Engine

log = logging.getLogger(__name__)

__all__ = ["MAX_CATCH_UP", "DigestReport", "DigestService"]

# A late digest covers everything since the previous one, but never more than this.
MAX_CATCH_UP = dt.timedelta(days=31)


@dataclass(frozen=True, slots=True)
class DigestReport:
    """What one digest sweep did."""

    posted: int = 0  # channel digests queued
    dms: int = 0  # DM digests queued
    skipped: int = 0  # empty periods with digest_when_empty = "skip"
    no_channel: int = 0
    baselines: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class _Parts:
    """What a digest is made of, counted and listed by the store (never every launch): the
    period's changes by section and the launches the listed ones are about, the record so far
    with the launches it lists as still late, and the first launches due soon of how many."""

    changes: PeriodChanges
    changed: dict[int, Launch]
    record: Stats
    still_late: list[Launch]
    upcoming: list[Launch]
    upcoming_total: int


async def _read_parts(
    session: Session,
    guild_id: int,
    start: dt.datetime,
    end: dt.datetime,
    today: dt.date,
    now: dt.datetime,
    followed: Followed | None = None,
) -> _Parts:
    """The parts of the guild's digest of the events in [start, end) (only of the launches
    *followed*, if given), LISTED a section."""
    changes = await session.events.period_changes(guild_id, start, end, LISTED, followed)
    return await _read_rest(session, guild_id, changes, today, now, followed)


async def _read_rest(
    session: Session,
    guild_id: int,
    changes: PeriodChanges,
    today: dt.date,
    now: dt.datetime,
    followed: Followed | None = None,
) -> _Parts:
    """:func:`_read_parts` once the period's *changes* are read."""
    changed = await session.launches.launches_by_ids(guild_id, changes.launch_ids())
    record, still_late = await stored_record(
        session, guild_id, today, still_late=LISTED, followed=followed
    )
    upcoming, upcoming_total = await session.launches.due_soon(
        guild_id, now, now + dt.timedelta(days=UPCOMING_DAYS), LISTED, followed
    )
    return _Parts(
        changes=changes,
        changed={x.id: x for x in changed},
        record=record,
        still_late=still_late,
        upcoming=upcoming,
        upcoming_total=upcoming_total,
    )


def _assemble(
    config: GuildConfig,
    parts: _Parts,
    today: dt.date,
    now: dt.datetime,
    **options: Any,
) -> Digest:
    return assemble_bounded(
        config,
        parts.changes,
        parts.changed,
        today,
        now,
        record=parts.record,
        still_late=parts.still_late,
        upcoming=parts.upcoming,
        upcoming_total=parts.upcoming_total,
        **options,
    )


@dataclass(frozen=True, slots=True)
class _DuePeriod:
    """A guild's period to post, with everything read for it."""

    config: GuildConfig
    setting: str  # the schedule's stored form
    timezone: str
    key: str  # the period's key (idempotency keys and digest_runs)
    covered: DigestPeriod  # the period, reaching back over missed ones
    late: bool
    parts: _Parts
    today: dt.date
    now: dt.datetime

    async def build(self) -> Digest:
        """The guild's digest for this period (at most LISTED entries a section)."""
        return _assemble(
            self.config,
            self.parts,
            self.today,
            self.now,
            period=self.covered,
            late=self.late,
            schedule=self.setting,
        )

    async def build_for(self, session: Session, followed: Followed, user_id: int) -> Digest | None:
        """The digest of the launches a subscriber follows for this period, read the same
        bounded way as the guild's; None when nothing happened to them in the period (then
        only the period's changes are read)."""
        gid = self.config.guild_id
        start, end = self.covered.start, self.covered.end
        changes = await session.events.period_changes(gid, start, end, LISTED, followed)
        if changes.total == 0:
            return None
        parts = await _read_rest(session, gid, changes, self.today, self.now, followed)
        return _assemble(
            self.config,
            parts,
            self.today,
            self.now,
            period=self.covered,
            late=self.late,
            user_id=user_id,
            schedule=self.setting,
        )


class DigestService:
    """Posts each guild's digest once per period through the outbox, on the engine's timer.

    Wire it with :meth:`attach` (``engine.add_due_source(service.due, service.sweep)``)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        late_tolerance: dt.timedelta = deadlines.LATE_TOLERANCE,
        retry_after: dt.timedelta = dt.timedelta(minutes=5),
    ) -> None:
        self.store = store
        self.clock = clock
        self.late_tolerance = late_tolerance
        self.retry_after = retry_after
        self.last_report = DigestReport()
        self._warned: set[tuple[int, str, str]] = set()

    def attach(self, engine: Engine) -> None:
        """Share the engine's one timer."""
        engine.add_due_source(self.due, self.sweep)

    def _plan(
        self, guild_id: int, setting: str, timezone: str
    ) -> tuple[DigestSchedule, ZoneInfo] | None:
        """A guild's schedule and zone; None when off or unreadable (logged once)."""
        try:
            schedule = parse_schedule(setting)
            tz = deadlines.zone(timezone)
        except InvalidInput:
            marker = (guild_id, setting, timezone)
            if marker not in self._warned:
                self._warned.add(marker)
                log.warning(
                    "guild %s: unusable digest schedule %r or timezone %r; no digests",
                    guild_id,
                    setting,
                    timezone,
                )
            return None
        return (schedule, tz) if schedule.enabled else None

    async def due(self) -> dt.datetime | None:
        """The next time a digest needs handling across all guilds: a stored, indexed time per
        guild (now, when some guild's time is not computed yet); None when no guild has
        digests. The cost does not grow with the number of guilds."""
        uncomputed, earliest = await self.store.read.digests.next_digest_due()
        if uncomputed:
            return self.clock.now()
        return earliest

    async def sweep(self, now: dt.datetime) -> None:
        """Engine hook: handle every guild whose latest posting time has passed unhandled."""
        self.last_report = await self.run(now)

    async def run(self, now: dt.datetime, *, batch: int = 200) -> DigestReport:
        """Handle up to *batch* guilds that are due at *now* (and only those) and say what was
        done. More than that waits for the next sweep, which :meth:`due` asks for at once: a
        first start over 100,000 guilds never holds deadline alerts back behind digests."""
        counts = dict.fromkeys(("posted", "no_channel", "skipped", "baseline"), 0)
        dms = failed = 0
        guilds = await self.store.read.digests.due_digest_guilds(now, batch)
        for guild in guilds:
            try:
                result = await self._handle(guild.guild_id, now)
            except Exception:
                failed += 1
                log.exception("digest for guild %s failed; retrying later", guild.guild_id)
                async with self.store.transaction() as tx:
                    await tx.digests.set_digest_due(guild.guild_id, now + self.retry_after)
                continue
            if result is not None:
                outcome, sent_dms = result
                counts[outcome] += 1
                dms += sent_dms
        report = DigestReport(
            posted=counts["posted"],
            dms=dms,
            skipped=counts["skipped"],
            no_channel=counts["no_channel"],
            baselines=counts["baseline"],
            failed=failed,
        )
        if report.posted or report.dms:
            log.info("queued %d channel digests and %d DM digests", report.posted, report.dms)
        return report

    async def _handle(self, gid: int, now: dt.datetime) -> tuple[str, int] | None:
        """Handle the guild's waiting period, if any, and store when its next digest is due,
        in one transaction; None if there was nothing to post."""
        async with self.store.transaction() as tx:
            # Everything is read again under the write lock: the settings may have changed and
            # another sweep may have handled the period meanwhile.
            config = await tx.guilds.get_guild(gid)
            plan = self._plan(gid, config.digest_schedule, config.timezone)
            if plan is None:
                # Unreadable (logged once): look again in a day rather than at every sweep.
                await tx.digests.set_digest_due(gid, now + dt.timedelta(days=1))
                return None
            schedule, tz = plan
            nxt = next_run_after(schedule, tz, now)
            assert nxt is not None
            await tx.digests.set_digest_due(gid, nxt)
            setting = schedule.to_setting()
            period = period_for(schedule, tz, now)
            assert period is not None
            previous = await tx.digests.last_digest_run(gid)
            if previous is not None and previous.period_key == period.key:
                if (previous.schedule, previous.timezone) == (setting, tz.key):
                    return None  # already handled
                # The schedule changed within a period that was already handled: count the
                # next periods under the new schedule.
                await tx.digests.set_digest_run_schedule(previous.id, setting, tz.key)
                return "baseline", 0
            if previous is None or (previous.schedule, previous.timezone) != (setting, tz.key):
                # A new guild or a changed schedule: start counting from here, post nothing.
                await _record_run(tx, gid, setting, tz.key, period, "baseline", False, 0, now)
                return "baseline", 0
            due = await self._read_period(tx, config, setting, tz, previous, period, now)
            return await self._post(tx, due)

    async def _read_period(
        self,
        tx: Session,
        config: GuildConfig,
        setting: str,
        tz: ZoneInfo,
        previous: DigestRun,
        period: DigestPeriod,
        now: dt.datetime,
    ) -> _DuePeriod:
        """The period to post and what happened in it; when periods were missed (the bot was
        down), it reaches back to the previous digest, at most MAX_CATCH_UP."""
        start = period.start
        if previous.period_end < start:
            start = max(previous.period_end, period.end - MAX_CATCH_UP)
        today = deadlines.local_today(now, tz)
        return _DuePeriod(
            config=config,
            setting=setting,
            timezone=tz.key,
            key=period.key,
            covered=DigestPeriod(start, period.end, period.key),
            late=now - period.end > self.late_tolerance,
            parts=await _read_parts(tx, config.guild_id, start, period.end, today, now),
            today=today,
            now=now,
        )

    async def _post(self, tx: Session, due: _DuePeriod) -> tuple[str, int]:
        """Queue the channel digest and the subscribers' DM digests, and record the period."""
        config = due.config
        gid = config.guild_id
        digest = await due.build()
        channel = config.digest_channel_id or config.alert_channel_id
        if channel is None:
            outcome = "no_channel"
        elif digest.empty and config.digest_when_empty == "skip":
            outcome = "skipped"
        else:
            outcome = "posted"
            key = f"digest:{gid}:{due.key}"
            await _enqueue(tx, gid, DestinationKind.CHANNEL, channel, key, digest, due.now)
        dm_count = await self._post_dms(tx, due, digest)
        await _record_run(
            tx, gid, due.setting, due.timezone, due.covered, outcome, due.late, dm_count, due.now
        )
        return outcome, dm_count

    async def _post_dms(self, tx: Session, due: _DuePeriod, digest: Digest) -> int:
        """Queue a DM digest to each digest subscriber something happened to; how many.

        *digest* is the guild's: a subscriber to everything gets it as theirs. Anyone else's
        digest is counted and listed by the store over the launches they follow (their
        vendors' stored spellings, their launch ids), never by reading every launch."""
        gid = due.config.guild_id
        by_user: dict[int, list[Subscription]] = {}
        for sub in await tx.subscriptions.digest_subscriptions(gid):
            by_user.setdefault(sub.user_id, []).append(sub)
        spellings: list[str] | None = None
        dm_count = 0
        for user_id, subs in by_user.items():
            personal: Digest | None
            if any(s.scope is SubscriptionScope.ALL for s in subs):
                personal = dataclasses.replace(digest, user_id=user_id)
            else:
                if spellings is None and any(s.scope is SubscriptionScope.VENDOR for s in subs):
                    spellings = await tx.launches.names(gid, "vendor")
                personal = await due.build_for(tx, _followed(subs, spellings or []), user_id)
            if personal is None or personal.changes == 0:
                continue  # DMs only when something happened to their launches
            key = f"digest:{gid}:{due.key}:u{user_id}"
            if await _enqueue(tx, gid, DestinationKind.USER, user_id, key, personal, due.now):
                dm_count += 1
        return dm_count

    # ------------------------------------------------------------------ for commands

    async def schedule_of(self, guild_id: int) -> DigestSchedule:
        """A guild's digest schedule (the default one when its setting is unreadable)."""
        config = await self.store.read.guilds.get_guild(guild_id)
        try:
            return parse_schedule(config.digest_schedule)
        except InvalidInput:
            return DEFAULT_SCHEDULE

    async def next_run(self, guild_id: int) -> dt.datetime | None:
        """When the guild's next digest is due (None when off)."""
        config = await self.store.read.guilds.get_guild(guild_id)
        plan = self._plan(guild_id, config.digest_schedule, config.timezone)
        if plan is None:
            return None
        return next_run_after(plan[0], plan[1], self.clock.now())

    async def preview(self, guild_id: int, *, days: int | None = None) -> Digest:
        """The digest so far: changes since the guild's last posting time (or the last *days*
        days; 7 when digests are off), upcoming deadlines and the record. Posts nothing: for
        /slips summary."""
        now = self.clock.now()
        config = await self.store.read.guilds.get_guild(guild_id)
        plan = self._plan(guild_id, config.digest_schedule, config.timezone)
        tz = plan[1] if plan else deadlines.zone_or_utc(config.timezone)
        period = period_for(plan[0], plan[1], now) if plan and days is None else None
        start = period.end if period else now - dt.timedelta(days=days or 7)
        today = deadlines.local_today(now, tz)
        async with self.store.snapshot() as read:  # its several reads agree
            parts = await _read_parts(
                read, guild_id, start, now + dt.timedelta(milliseconds=1), today, now
            )
        digest = _assemble(config, parts, today, now, schedule="")
        return dataclasses.replace(digest, period_start=start, period_end=now)

    async def history(self, guild_id: int, limit: int = 10) -> list[DigestRun]:
        """The guild's recent digest periods, newest first (for /alerts digest status)."""
        return await self.store.read.digests.digest_runs(guild_id, limit)


def _followed(subs: list[Subscription], spellings: list[str]) -> Followed:
    """What *subs* follow, as the store matches it: the stored vendor spellings that casefold
    to a followed vendor (folded here, in Python, exactly as ``launch.vendor.casefold()``:
    SQL's lower() folds only ASCII), and the followed launch ids."""
    vendors = {s.target for s in subs if s.scope is SubscriptionScope.VENDOR}
    # A launch subscription's target is the id as text (str(launch.id), matched as such).
    ids = {
        int(s.target)
        for s in subs
        if s.scope is SubscriptionScope.LAUNCH
        and s.target.isascii()
        and s.target.isdigit()
        and str(int(s.target)) == s.target
    }
    return Followed(
        vendors=tuple(sorted(n for n in spellings if n.casefold() in vendors)),
        launch_ids=tuple(sorted(ids)),
    )


async def _enqueue(
    tx: Session,
    guild_id: int,
    dest_kind: DestinationKind,
    dest_id: int,
    key: str,
    digest: Digest,
    now: dt.datetime,
) -> bool:
    """Queue *digest* for one destination (held while it is broken); False if *key* was
    queued already."""
    broken = await tx.destinations.is_broken(dest_kind, dest_id)
    # At most LISTED entries a section: a few hundred small dicts, made on the loop.
    data = digest.to_json()
    return await tx.outbox.enqueue(
        guild_id=guild_id,
        dest_kind=dest_kind,
        dest_id=dest_id,
        idem_key=key,
        nonce=nonce_for(key),
        payload=Message(alerts=(), digest=data),
        now=now,
        state=OutboxState.HELD if broken else OutboxState.PENDING,
    )


async def _record_run(
    tx: Session,
    guild_id: int,
    setting: str,
    timezone: str,
    period: DigestPeriod,
    outcome: str,
    late: bool,
    dm_count: int,
    now: dt.datetime,
) -> None:
    """Record that the guild's period was handled (its key is unique per guild)."""
    await tx.digests.insert_digest_run(
        guild_id=guild_id,
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        outcome=outcome,
        late=late,
        dm_count=dm_count,
        schedule=setting,
        timezone=timezone,
        now=now,
    )
