"""Promise discovery: new promises found in the feeds and pages a vendor publishes.

A manager points ``/launch discover`` at a vendor's feed or page. Each poll fetches it through
the release probes' fetcher (same address safety, per-server fairness, ETag / Last-Modified)
and reads it in their worker-process reader; every entry (a feed item, a page passage) whose
text promises a window (``find_windows``) becomes one proposal per server, unique per entry.
What the source says at the first successful poll is the baseline, not news. At most
``max_per_poll`` proposals of one poll are posted, each as its own outbox row to the alert
channel; the rest are summed up in one more row. "Track it" adds the launch with the entry as
source and the sentence as quote; "Ignore" closes the proposal. Either happens once.

Polling shares the engine's one timer, like the release probes: ``attach(engine)`` registers
the earliest ``next_check_at`` and a sweep that runs a background round (both through
``tracker.probes.rounds``, as the probes do); a failing source is asked again with the same
backoff.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tracker.clock import Clock
from tracker.errors import Conflict, InvalidInput, NotFound
from tracker.models import DestinationKind, Message, NewLaunch
from tracker.outbox.fanout import channel_post
from tracker.ports import Store
from tracker.probes import ProbeKind, kinds
from tracker.probes.fetch import Fetcher, FetchError
from tracker.probes.netguard import BlockedTarget
from tracker.probes.reader import BodyReader, Feed, PageText, Unreadable
from tracker.probes.rounds import BackgroundRounds, backoff
from tracker.promise_reading import promises_in
from tracker.promises import (
    Discovery,
    DiscoveryKind,
    Promised,
    PromiseProposal,
    ProposalState,
)
from tracker.records import Outgoing
from tracker.service import Added, Tracker

if TYPE_CHECKING:
    from tracker.engine import Engine

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- the service


@dataclass(frozen=True, slots=True)
class DiscoverySettings:
    """Tuning of promise discovery."""

    interval_minutes: int = 30
    max_per_poll: int = 5
    max_per_guild: int = 25
    max_backoff: dt.timedelta = dt.timedelta(hours=24)
    batch: int = 200


class DiscoveryService:
    """Add discoveries, poll them, and turn what they find into proposals."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        tracker: Tracker,
        fetcher: Fetcher,
        reader: BodyReader,
        settings: DiscoverySettings | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.tracker = tracker
        self.fetcher = fetcher
        self.reader = reader
        self.settings = settings or DiscoverySettings()
        self._on_change: Callable[[], None] | None = None
        self.rounds = BackgroundRounds(
            "discovery", lambda: self.store.read.discovery.next_due(), self.sweep, self._changed
        )

    # ------------------------------------------------------------------ wiring

    def attach(self, engine: Engine) -> None:
        """Share the engine's timer, like the release probes."""
        engine.add_due_source(self.due, self.start_sweep)
        self._on_change = engine.poke

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    async def due(self) -> dt.datetime | None:
        """The earliest next check of an enabled discovery; None while a round runs."""
        return await self.rounds.due()

    async def start_sweep(self, now: dt.datetime) -> None:
        """The engine's hook: start a background round if discoveries are due."""
        await self.rounds.start(now)

    async def wait_idle(self, limit_s: float = 30.0) -> None:
        """Wait until no background round runs (tests, shutdown)."""
        await self.rounds.wait_idle(limit_s)

    async def stop(self) -> None:
        """Cancel a running round."""
        await self.rounds.stop()

    # ------------------------------------------------------------------ commands

    async def add(
        self, guild_id: int, vendor: str, kind: str, target: str, *, actor: str
    ) -> Discovery:
        """Watch ``target`` (a feed or page address) for ``vendor``'s new promises; the first
        check is due at once. Raises InvalidInput with what to do instead."""
        name = " ".join((vendor or "").split())
        if not name or len(name) > 60:
            raise InvalidInput("Give the vendor's name, 1 to 60 characters, e.g. xAI.")
        try:
            source_kind = DiscoveryKind(kind)
        except ValueError:
            raise InvalidInput("Discovery watches a feed or a page.") from None
        normalized, url = kinds.parse_target(ProbeKind(source_kind.value), target)
        if url is not None:
            try:
                await self.fetcher.guard.validate_target(url)
            except BlockedTarget as exc:
                raise InvalidInput(str(exc)) from exc
        config = await self.store.read.guilds.get_guild(guild_id)
        if config.alert_channel_id is None:
            raise InvalidInput(
                "Set the alert channel first with /alerts channel: proposals are posted there."
            )
        now = self.clock.now()
        async with self.store.transaction() as tx:
            if await tx.discovery.count(guild_id) >= self.settings.max_per_guild:
                raise InvalidInput(
                    f"This server already watches {self.settings.max_per_guild} sources for "
                    "promises, the most it can."
                )
            found = await tx.discovery.insert(
                guild_id=guild_id,
                vendor=name,
                kind=source_kind,
                target=normalized,
                interval_minutes=self.settings.interval_minutes,
                next_check_at=now,
                created_by=actor[:100],
                now=now,
            )
        if found is None:
            raise Conflict("This server already watches that source for promises.")
        self._changed()
        return found

    async def proposal(self, guild_id: int, proposal_id: int) -> PromiseProposal:
        """A proposal of this server (NotFound otherwise)."""
        found = await self.store.read.discovery.get_proposal(guild_id, proposal_id)
        if found is None:
            raise NotFound(f"There is no promise proposal #{proposal_id} in this server.")
        return found

    async def open_proposal(self, guild_id: int, proposal_id: int) -> PromiseProposal:
        """A proposal still waiting for a decision (Conflict once decided)."""
        found = await self.proposal(guild_id, proposal_id)
        if found.state is not ProposalState.PROPOSED:
            raise Conflict(f"That proposal was already {found.state.value}.")
        return found

    async def track(
        self, guild_id: int, proposal_id: int, product: str, window: str, *, actor: str
    ) -> Added:
        """Add the proposed launch (the entry as source, its sentence as quote), once."""
        proposal = await self.open_proposal(guild_id, proposal_id)
        p = proposal.promised
        added = await self.tracker.add(
            NewLaunch(
                guild_id=guild_id,
                product=product,
                vendor=proposal.vendor,
                window_phrase=window,
                announced_on=p.announced_on,
                source_url=p.url,
                quote=p.sentence,
            ),
            actor=actor,
        )
        async with self.store.transaction() as tx:
            decided = await tx.discovery.decide(
                proposal.id, ProposalState.TRACKED, actor, self.clock.now(), added.launch.id
            )
        if not decided:
            log.info("proposal %d was decided twice; launch %d stays", proposal.id, added.launch.id)
        return added

    async def ignore(self, guild_id: int, proposal_id: int, *, actor: str) -> PromiseProposal:
        """Close the proposal without adding anything."""
        proposal = await self.open_proposal(guild_id, proposal_id)
        async with self.store.transaction() as tx:
            if not await tx.discovery.decide(
                proposal.id, ProposalState.IGNORED, actor, self.clock.now(), None
            ):
                raise Conflict("That proposal was already decided.")
        return await self.proposal(guild_id, proposal_id)

    # ------------------------------------------------------------------ polling

    async def sweep(self, now: dt.datetime | None = None) -> int:
        """Poll every due discovery; returns how many proposals were posted."""
        now = now or self.clock.now()
        posted = 0
        async with self.rounds.lock:
            due = await self.store.read.discovery.due(now, self.settings.batch)
            results = await asyncio.gather(*(self._poll(d) for d in due))
            posted = sum(results)
        return posted

    async def _poll(self, discovery: Discovery) -> int:
        try:
            answer = await self.fetcher.get(
                discovery.target,
                etag=discovery.etag,
                last_modified=discovery.last_modified,
                owner=discovery.guild_id,
            )
            if answer.not_modified:
                await self._succeeded(discovery, [], "unchanged (304)", None, None)
                return 0
            if not answer.ok:
                raise FetchError(f"the source answered {answer.status}", kind="http")
            reading = kinds.reads(ProbeKind(discovery.kind.value))
            data = await self.reader.read(
                reading, answer.body, answer.content_type, owner=discovery.guild_id
            )
            if not isinstance(data, Feed | PageText):
                raise Unreadable("not a feed or a page")
            today = self.clock.now().date()
            found = promises_in(data, answer.url, discovery.vendor, today)
            return await self._succeeded(
                discovery, found, "checked", answer.etag, answer.last_modified
            )
        except (FetchError, Unreadable, InvalidInput) as exc:
            await self._failed(discovery, str(exc))
            return 0
        except Exception:
            log.exception("discovery %d: unexpected error", discovery.id)
            await self._failed(discovery, "internal error (see the bot's log)")
            return 0

    async def _succeeded(
        self,
        discovery: Discovery,
        found: list[Promised],
        status: str,
        etag: str | None,
        last_modified: str | None,
    ) -> int:
        now = self.clock.now()
        nxt = now + dt.timedelta(minutes=discovery.interval_minutes)
        baseline = not discovery.baseline_done and status != "unchanged (304)"
        posted = 0
        async with self.store.transaction() as tx:
            config = await tx.guilds.get_guild(discovery.guild_id)
            new: list[PromiseProposal] = []
            for promised in found:
                state = ProposalState.BASELINE if baseline else ProposalState.PROPOSED
                if not baseline and len(new) >= self.settings.max_per_poll:
                    state = ProposalState.SUMMED
                stored = await tx.discovery.insert_proposal(discovery, promised, state, now)
                if stored is not None and state is not ProposalState.BASELINE:
                    new.append(stored)
            shown = [p for p in new if p.state is ProposalState.PROPOSED]
            summed = [p for p in new if p.state is ProposalState.SUMMED]
            channel = config.alert_channel_id
            rows: list[Outgoing] = []
            if channel is not None:
                # A broken alert channel holds the proposals until it is fixed, like alerts.
                held = (DestinationKind.CHANNEL, channel) in await tx.destinations.broken_set()
                for proposal in shown:
                    key = f"promise:{proposal.id}:c{channel}"
                    payload = proposal.to_payload()
                    rows.append(_promise_post(discovery.guild_id, channel, key, payload, held))
                if summed:
                    key = f"promise-summary:{summed[0].id}:c{channel}"
                    payload = {
                        "kind": "summary",
                        "vendor": discovery.vendor,
                        "target": discovery.target,
                        "count": len(summed),
                        "titles": [p.promised.title for p in summed[:10]],
                    }
                    rows.append(_promise_post(discovery.guild_id, channel, key, payload, held))
                if rows:
                    posted = await tx.outbox.enqueue_many(rows, now)
            await tx.discovery.record_success(
                discovery.id,
                now=now,
                next_check_at=nxt,
                status=status,
                etag=etag,
                last_modified=last_modified,
            )
        if posted:
            log.info("discovery %d proposed %d promises", discovery.id, len(shown))
            self._changed()  # the engine re-arms and the deliverer sends the new rows
        return len(shown)

    async def _failed(self, discovery: Discovery, error: str) -> None:
        now = self.clock.now()
        failures = discovery.consecutive_failures + 1
        interval = discovery.interval_minutes * 60.0
        delay = dt.timedelta(seconds=backoff(interval, failures, self.settings.max_backoff))
        async with self.store.transaction() as tx:
            await tx.discovery.record_failure(
                discovery.id, now=now, next_check_at=now + delay, error=error[:300]
            )
        log.info("discovery %d failed (%d in a row): %s", discovery.id, failures, error)


def _promise_post(
    guild_id: int, channel: int, key: str, payload: dict[str, Any], held: bool
) -> Outgoing:
    """The outbox row posting a discovered promise (its buttons come with the message)."""
    return channel_post(guild_id, channel, key, Message(alerts=(), promise=payload), held=held)
