"""Each launch's lateness and the figures over a set of launches, under the rules of the score
(tracker.stats' docstring). Pure: *today* is always passed in."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from tracker.models import Evidence, Launch, LaunchState, Precision
from tracker.records import ScoreTally
from tracker.text import lateness

__all__ = [
    "RULES",
    "EvidenceFilter",
    "LaunchFigure",
    "LaunchScore",
    "Stats",
    "compute_stats",
    "days_late",
    "filter_launches",
    "fold_name",
    "score_launch",
    "state_on",
    "stats_from_tally",
]

EvidenceFilter = Literal["counted", "all"]  # counted: official and reported (no rumours)

# The rules in one paragraph, for /slips' footer (an embed footer holds 2048 characters).
RULES = (
    "Lateness counts from the first promise (re-dating never resets it); negative = early. "
    "Scored = shipped + cancelled + still out past the first promise. On time = shipped with "
    "0 or fewer days late, over scored. Median and worst: shipped late and still-out overdue, "
    "as of today. Time multiplier: median of (shipped − announced) / (first promise − announced) "
    "over launches shipped late. Slips: re-datings that moved the window later. Month-only "
    'dates count from the 1st ("at least"). Rumours left out unless evidence:all. '
    "Grace never counts."
)


def days_late(launch: Launch, today: dt.date) -> int | None:
    """Signed days late against the first promise, as of *today*.

    Shipped: shipped_on - first window end (negative = early). Cancelled: None. Still out:
    today - first window end once that is positive (the running figure), else None."""
    if launch.state is LaunchState.SHIPPED:
        if launch.shipped_on is None:
            return launch.days_late
        return (launch.shipped_on - launch.first_window_end).days
    if launch.state is LaunchState.CANCELLED:
        return None
    running = (today - launch.first_window_end).days
    return running if running > 0 else None


def state_on(launch: Launch, today: dt.date) -> LaunchState:
    """The launch's state as of *today*: an open launch past its latest window end is slipped
    even if the sweep has not run yet (grace only delays the alert)."""
    if launch.state in (LaunchState.UPCOMING, LaunchState.SLIPPED):
        return LaunchState.SLIPPED if today > launch.window_end else LaunchState.UPCOMING
    return launch.state


@dataclass(frozen=True, slots=True)
class LaunchScore:
    """One launch as the score sees it on a given day."""

    launch_id: int
    product: str
    vendor: str
    announcer: str | None
    state: LaunchState  # as of today (see :func:`state_on`)
    evidence: Evidence
    first_window_end: dt.date
    latest_window_end: dt.date
    days_late: int | None  # signed, against the first promise; None: cancelled or not yet due
    at_least: bool  # the outcome day is known only to the month
    slips: int
    scored: bool
    still_out: bool  # open and past its first promise
    kept_latest: bool  # shipped on or before its latest window end

    @property
    def late(self) -> bool:
        """Shipped late or still out past its first promise."""
        return self.days_late is not None and self.days_late > 0


def score_launch(launch: Launch, today: dt.date) -> LaunchScore:
    """How *launch* stands on *today* under the rules in tracker.stats' docstring."""
    late = days_late(launch, today)
    state = state_on(launch, today)
    shipped = launch.state is LaunchState.SHIPPED
    still_out = not launch.state.resolved and late is not None
    return LaunchScore(
        launch_id=launch.id,
        product=launch.product,
        vendor=launch.vendor,
        announcer=launch.announcer,
        state=state,
        evidence=launch.evidence,
        first_window_end=launch.first_window_end,
        latest_window_end=launch.window_end,
        days_late=late,
        at_least=shipped and launch.outcome_precision is Precision.MONTH,
        slips=launch.slip_count,
        scored=launch.state.resolved or still_out,
        still_out=still_out,
        kept_latest=shipped
        and launch.shipped_on is not None
        and launch.shipped_on <= launch.window_end,
    )


@dataclass(frozen=True, slots=True)
class LaunchFigure:
    """One launch named in a statistic (the worst slip, a launch still out)."""

    launch_id: int
    product: str
    vendor: str
    first_window_end: dt.date
    days_late: int
    slip_count: int
    still_out: bool
    at_least: bool = False

    def words(self) -> str:
        """Its lateness in words ("48 days late", "at least 30 days late (still out)")."""
        return lateness(self.days_late, at_least=self.at_least, still_out=self.still_out)


@dataclass(frozen=True, slots=True)
class Stats:
    """The score of a set of launches on *today*. Rates and medians are None when there is
    nothing to compute them over."""

    today: dt.date
    vendor: str | None  # the filters applied, as given
    announcer: str | None
    evidence: EvidenceFilter
    total: int  # launches after the filters, in every state
    rumours_left_out: int  # rumours matching vendor/announcer, not counted (evidence "counted")
    scored: int  # shipped + cancelled + still out past the first promise
    on_time: int  # shipped with days_late <= 0
    shipped_late: int
    overdue_open: int  # still out past the first promise
    cancelled: int
    not_yet_due: int  # open and not past the first promise: not scored
    kept_latest: int  # shipped on or before their latest window end
    on_time_rate: float | None  # on_time / scored
    kept_latest_rate: float | None  # kept_latest / scored
    median_days_late: float | None  # over shipped late + overdue open
    worst: LaunchFigure | None
    time_multiplier: float | None  # median; see tracker.stats' docstring
    time_multiplier_count: int  # launches it is the median of
    slips: int  # total slips over the scored launches
    # Overdue open, most late first: all of them, or the first few when fewer were asked for
    # (overdue_open counts them all).
    still_late: tuple[LaunchFigure, ...]
    launches: tuple[LaunchScore, ...]  # every launch counted (by id); () unless asked for


def fold_name(text: str | None) -> str | None:
    """A vendor or announcer name as compared: spaces folded, case ignored (None when empty)."""
    return " ".join(text.split()).casefold() if text else None


def filter_launches(
    launches: Iterable[Launch],
    *,
    vendor: str | None = None,
    announcer: str | None = None,
    evidence: EvidenceFilter = "all",
) -> list[Launch]:
    """The launches of *vendor* and/or by *announcer* (case-insensitive; None: any); with
    evidence "counted", rumours are left out."""
    want_vendor = fold_name(vendor)
    want_announcer = fold_name(announcer)
    return [
        launch
        for launch in launches
        if (want_vendor is None or fold_name(launch.vendor) == want_vendor)
        and (want_announcer is None or fold_name(launch.announcer) == want_announcer)
        and (evidence == "all" or launch.evidence is not Evidence.RUMOUR)
    ]


def compute_stats(
    launches: Iterable[Launch],
    today: dt.date,
    *,
    vendor: str | None = None,
    announcer: str | None = None,
    evidence: EvidenceFilter = "counted",
) -> Stats:
    """The score of *launches* on *today* (the reader's calendar day), optionally only those of
    *vendor* / by *announcer*; rumours only with evidence "all"."""
    matching = filter_launches(launches, vendor=vendor, announcer=announcer)
    chosen = filter_launches(matching, evidence=evidence)
    by_id = {launch.id: launch for launch in chosen}
    scores = sorted((score_launch(x, today) for x in chosen), key=lambda s: s.launch_id)
    scored = [s for s in scores if s.scored]
    shipped = [s for s in scored if by_id[s.launch_id].state is LaunchState.SHIPPED]
    on_time = [s for s in shipped if s.days_late is not None and s.days_late <= 0]
    late = [s for s in scored if s.late]
    shipped_late = [s for s in late if not s.still_out]
    overdue = [s for s in late if s.still_out]
    cancelled = [s for s in scored if by_id[s.launch_id].state is LaunchState.CANCELLED]
    kept = [s for s in shipped if s.kept_latest]
    ratios = _time_multiples(shipped_late, by_id)
    n = len(scored)
    return Stats(
        today=today,
        vendor=vendor,
        announcer=announcer,
        evidence=evidence,
        total=len(chosen),
        rumours_left_out=len(matching) - len(chosen),
        scored=n,
        on_time=len(on_time),
        shipped_late=len(shipped_late),
        overdue_open=len(overdue),
        cancelled=len(cancelled),
        not_yet_due=len(scores) - n,
        kept_latest=len(kept),
        on_time_rate=len(on_time) / n if n else None,
        kept_latest_rate=len(kept) / n if n else None,
        median_days_late=_median([float(s.days_late or 0) for s in late]),
        worst=_worst(late),
        time_multiplier=_median(ratios),
        time_multiplier_count=len(ratios),
        slips=sum(s.slips for s in scored),
        still_late=tuple(
            _figure(s) for s in sorted(overdue, key=lambda s: (-(s.days_late or 0), s.launch_id))
        ),
        launches=tuple(scores),
    )


def stats_from_tally(
    tally: ScoreTally,
    today: dt.date,
    *,
    worst: Launch | None,
    still_late: Iterable[Launch],
    vendor: str | None = None,
    announcer: str | None = None,
    evidence: EvidenceFilter = "counted",
) -> Stats:
    """The :class:`Stats` of a tally the store computed (the same rules as
    :func:`compute_stats`), with the worst slip and the still-late launches it found; no
    per-launch scores."""
    n = tally.scored
    return Stats(
        today=today,
        vendor=vendor,
        announcer=announcer,
        evidence=evidence,
        total=tally.total,
        rumours_left_out=tally.matching - tally.total,
        scored=n,
        on_time=tally.on_time,
        shipped_late=tally.shipped_late,
        overdue_open=tally.overdue_open,
        cancelled=tally.cancelled,
        not_yet_due=tally.total - n,
        kept_latest=tally.kept_latest,
        on_time_rate=tally.on_time / n if n else None,
        kept_latest_rate=tally.kept_latest / n if n else None,
        median_days_late=_middle(tally.late_middle),
        worst=None if worst is None else _figure(score_launch(worst, today)),
        time_multiplier=_middle(tally.multiplier_middle),
        time_multiplier_count=tally.multiplier_count,
        slips=tally.slips,
        still_late=tuple(_figure(score_launch(x, today)) for x in still_late),
        launches=(),
    )


def _middle(values: tuple[float, float] | None) -> float | None:
    """A median from its middle values, as statistics.median takes it (equal when odd)."""
    if values is None:
        return None
    low, high = values
    return (float(low) + float(high)) / 2


def _worst(late: list[LaunchScore]) -> LaunchFigure | None:
    """The largest days late (ties: the earlier first window end, then the lower id)."""
    if not late:
        return None
    return _figure(min(late, key=lambda s: (-(s.days_late or 0), s.first_window_end, s.launch_id)))


def _time_multiples(shipped_late: list[LaunchScore], by_id: dict[int, Launch]) -> list[float]:
    """(shipped_on - announced_on) / (first window end - announced_on) per launch shipped late."""
    ratios: list[float] = []
    for score in shipped_late:
        launch = by_id[score.launch_id]
        promised = (launch.first_window_end - launch.announced_on).days
        if promised <= 0 or launch.shipped_on is None:
            continue  # a zero (or nonsensical) promised span has no meaningful multiple
        ratios.append((launch.shipped_on - launch.announced_on).days / promised)
    return ratios


def _figure(score: LaunchScore) -> LaunchFigure:
    assert score.days_late is not None
    return LaunchFigure(
        launch_id=score.launch_id,
        product=score.product,
        vendor=score.vendor,
        first_window_end=score.first_window_end,
        days_late=score.days_late,
        slip_count=score.slips,
        still_out=score.still_out,
        at_least=score.at_least,
    )


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None
