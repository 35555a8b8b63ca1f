"""Vendors or announcers ranked by on-time rate over their scored launches."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from tracker.models import Launch
from tracker.records import NameTally
from tracker.stats.score import EvidenceFilter, Stats, compute_stats, filter_launches, fold_name

__all__ = [
    "DEFAULT_MIN_SCORED",
    "GroupBy",
    "Leaderboard",
    "LeaderboardEntry",
    "leaderboard",
    "rank",
    "spelling_groups",
]

DEFAULT_MIN_SCORED = 3

GroupBy = Literal["vendor", "announcer"]


@dataclass(frozen=True, slots=True)
class LeaderboardEntry:
    """One vendor's (or announcer's) record on a leaderboard."""

    rank: int
    name: str
    scored: int
    on_time: int
    shipped_late: int
    overdue_open: int
    cancelled: int
    on_time_rate: float
    median_days_late: float | None  # None when nothing is late


@dataclass(frozen=True, slots=True)
class Leaderboard:
    """Names ranked by on-time rate, then median days late (lower first), then name."""

    by: GroupBy
    min_scored: int
    evidence: EvidenceFilter
    entries: tuple[LeaderboardEntry, ...]
    too_few: tuple[str, ...]  # names left out for having fewer than min_scored scored


def leaderboard(
    launches: Iterable[Launch],
    today: dt.date,
    *,
    by: GroupBy = "vendor",
    min_scored: int = DEFAULT_MIN_SCORED,
    evidence: EvidenceFilter = "counted",
) -> Leaderboard:
    """Rank vendors (or announcers) by on-time rate over their scored launches, best first.

    Only names with at least *min_scored* scored launches are ranked. Ties are broken by
    median days late (lower first; a name with nothing late ranks first among equals), then by
    name. Names are grouped case-insensitively and shown in their most common spelling (the
    earliest seen among equals). Launches without an announcer are left out of the announcer
    board."""
    if min_scored < 1:
        raise ValueError("min_scored must be at least 1")
    records = [
        (name, compute_stats(members, today, evidence="all"))
        for name, members in _groups(filter_launches(launches, evidence=evidence), by)
    ]
    return rank(records, by=by, min_scored=min_scored, evidence=evidence)


def rank(
    records: Iterable[tuple[str, Stats]],
    *,
    by: GroupBy,
    min_scored: int,
    evidence: EvidenceFilter,
) -> Leaderboard:
    """The leaderboard of each name's record (see :func:`leaderboard`)."""
    ranked: list[tuple[tuple[float, float, str], LeaderboardEntry]] = []
    too_few: list[str] = []
    for name, record in records:
        if record.scored < min_scored or record.on_time_rate is None:
            too_few.append(name)
            continue
        entry = LeaderboardEntry(
            rank=0,
            name=name,
            scored=record.scored,
            on_time=record.on_time,
            shipped_late=record.shipped_late,
            overdue_open=record.overdue_open,
            cancelled=record.cancelled,
            on_time_rate=record.on_time_rate,
            median_days_late=record.median_days_late,
        )
        median = record.median_days_late
        sort_key = (-record.on_time_rate, median if median is not None else 0.0, name.casefold())
        ranked.append((sort_key, entry))
    ranked.sort(key=lambda pair: pair[0])
    entries = tuple(
        dataclasses.replace(entry, rank=i) for i, (_, entry) in enumerate(ranked, start=1)
    )
    return Leaderboard(
        by=by,
        min_scored=min_scored,
        evidence=evidence,
        entries=entries,
        too_few=tuple(sorted(too_few, key=str.casefold)),
    )


def spelling_groups(tallies: Sequence[NameTally]) -> list[tuple[str, tuple[NameTally, ...]]]:
    """The stored spellings' tallies grouped as :func:`leaderboard` groups launches (spaces
    folded, case ignored; empty names left out), each group named by its most common spelling
    (the earliest seen among equals)."""
    groups: dict[str, list[NameTally]] = {}
    for tally in sorted(tallies, key=lambda t: t.first_id):
        folded = fold_name(tally.name)
        if folded:
            groups.setdefault(folded, []).append(tally)
    named: list[tuple[str, tuple[NameTally, ...]]] = []
    for members in groups.values():
        counts: dict[str, int] = {}  # in order of first appearance
        for member in members:
            shown = " ".join(member.name.split())
            counts[shown] = counts.get(shown, 0) + member.tally.total
        named.append((max(counts, key=lambda s: counts[s]), tuple(members)))
    return named


def _groups(launches: list[Launch], by: GroupBy) -> list[tuple[str, list[Launch]]]:
    """The launches grouped by vendor (or announcer) case-insensitively, each group named by its
    most common spelling (the earliest seen among equals), in order of first appearance."""
    key_of: Callable[[Launch], str | None] = (
        (lambda x: x.vendor) if by == "vendor" else (lambda x: x.announcer)
    )
    groups: dict[str, list[Launch]] = {}
    spellings: dict[str, dict[str, int]] = {}
    for launch in sorted(launches, key=lambda x: x.id):
        raw = key_of(launch)
        folded = fold_name(raw)
        if raw is None or not folded:
            continue
        groups.setdefault(folded, []).append(launch)
        counts = spellings.setdefault(folded, {})
        shown = " ".join(raw.split())
        counts[shown] = counts.get(shown, 0) + 1
    named: list[tuple[str, list[Launch]]] = []
    for folded, members in groups.items():
        counts = spellings[folded]
        named.append((max(counts, key=lambda s: counts[s]), members))  # first inserted wins a tie
    return named
