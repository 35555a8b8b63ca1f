"""Promises found in a vendor's feed or page: the records of promise discovery (the reading of
a feed's entries or a page's passages into them is tracker.promise_reading's; tracker.discovery
polls). Records only, so that storage imports them without the window grammar."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any


class DiscoveryKind(enum.StrEnum):
    """What a discovery watches."""

    FEED = "feed"
    PAGE = "page"


class ProposalState(enum.StrEnum):
    """Where a promise proposal stands."""

    BASELINE = "baseline"  # seen at the first poll: not news, never posted
    PROPOSED = "proposed"  # posted (or about to be), waiting for a manager
    SUMMED = "summed"  # over the per-poll cap: only counted in the summary line
    TRACKED = "tracked"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Discovery:
    """One watched feed or page of a vendor, in one server."""

    id: int
    guild_id: int
    vendor: str
    kind: DiscoveryKind
    target: str
    interval_minutes: int
    enabled: bool
    next_check_at: dt.datetime
    etag: str | None
    last_modified: str | None
    last_checked_at: dt.datetime | None
    last_status: str | None
    last_error: str | None
    consecutive_failures: int
    baseline_done: bool
    created_by: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Promised:
    """An entry of a source that promises a window (before it is stored)."""

    entry_key: str
    title: str
    url: str | None
    sentence: str
    span: tuple[int, int]  # of the window's phrase, in ``sentence``
    window_phrase: str
    window_start: dt.date
    window_end: dt.date
    announced_on: dt.date
    product: str


@dataclass(frozen=True, slots=True)
class PromiseProposal:
    """A stored proposal: what was promised where, and what a manager decided."""

    id: int
    guild_id: int
    discovery_id: int
    entry_key: str
    vendor: str
    promised: Promised
    state: ProposalState
    launch_id: int | None
    decided_by: str | None
    created_at: dt.datetime

    def to_payload(self) -> dict[str, Any]:
        """The outbox payload of this proposal (``Message.promise``)."""
        p = self.promised
        return {
            "kind": "proposal",
            "id": self.id,
            "vendor": self.vendor,
            "title": p.title,
            "url": p.url,
            "sentence": p.sentence,
            "span": [p.span[0], p.span[1]],
            "window_phrase": p.window_phrase,
            "window_start": p.window_start.isoformat(),
            "window_end": p.window_end.isoformat(),
            "product": p.product,
        }
