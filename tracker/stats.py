"""The score: how late announced launches are, measured the same way everywhere.

Pure functions over domain records (``today`` is always passed in), and at the end a thin
:class:`StatsService` that loads a guild's launches for /slips, digests and the CLI. These are
the rules of the score; /slips shows them in its footer (:data:`RULES`).

- **First promise.** A launch's lateness is measured against the window end of its first
  announcement (``Launch.first_window_end``). Re-announcements and revivals are its lineage and
  never reset it; how the launch did against its latest window is scored apart, as "kept the
  latest promise" (shipped on or before the latest window end).
- **Signed days late.** days_late = shipped_on - first window end: negative means early. A launch
  still out past its first window end has a running days_late = today - first window end,
  computed when read. A cancelled launch has no days_late, nor has one not yet past its first
  window end.
- **Month precision.** A day known only to the month counts from the month's first day, so its
  lateness is "at least" the figure shown.
- **Scored launches** = shipped + cancelled + still out past their first window end. Launches
  not yet due are not scored. on-time rate = shipped with days_late <= 0 / scored.
- **Median days late** is over the late ones: shipped late and still-out overdue (running
  figure). The **worst slip** is the largest days_late among them, marked "still out" when it
  is (ties: the earlier first window end, then the lower id).
- **Time multiplier** = the median, over launches shipped late, of (shipped_on - announced_on) /
  (first window end - announced_on); launches whose promised span is zero days are left out.
- **Slips** = how many re-announcements or revivals moved the window end later; restating the
  same window, or an earlier one, is kept in the lineage but is not a slip.
- **Leaderboard**: by vendor or announcer, over scored launches, at least 3 scored (by default);
  ranked by on-time rate, then median days late (lower first), then name.
- **Evidence**: rumours are tracked and alerted like the rest but left out of every figure unless
  asked for (evidence "all"); official and reported launches always count.
- **Grace** days delay a server's alerts, never the score: nothing here reads a deadline.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from tracker import deadlines
from tracker.clock import Clock
from tracker.errors import InvalidInput
from tracker.models import EventKind, Evidence, Launch, LaunchEvent, LaunchState, Precision
from tracker.ports import Store
from tracker.text import lateness as late_words
from tracker.text import plural

__all__ = [
    "DEFAULT_MIN_SCORED",
    "RULES",
    "EvidenceFilter",
    "LaunchFigure",
    "LaunchScore",
    "Leaderboard",
    "LeaderboardEntry",
    "Stats",
    "StatsService",
    "compute_stats",
    "days_late",
    "evidence_words",
    "filter_launches",
    "late_words",
    "leaderboard",
    "lineage",
    "score_launch",
    "shipped_verdict",
    "state_on",
    "state_words",
    "to_json",
    "to_text",
]

DEFAULT_MIN_SCORED = 3

GroupBy = Literal["vendor", "announcer"]
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


_REDATED = (EventKind.REANNOUNCED, EventKind.REVIVED)
_OUTCOMES = (EventKind.SHIPPED, EventKind.CANCELLED, EventKind.REVIVED)
# The history kinds :func:`as_of` reads.
AS_OF_KINDS = (EventKind.REANNOUNCED, EventKind.REVIVED, EventKind.SHIPPED, EventKind.CANCELLED)


def _stored_day(value: object) -> dt.date | None:
    """A day stored in an event's data: "2025-02-17", or "2025-02" for a month (its 1st)."""
    if not isinstance(value, str):
        return None
    try:
        if len(value) == 7:
            return dt.date.fromisoformat(value + "-01")
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _event_day(launch: Launch, event: LaunchEvent) -> dt.date:
    """The calendar day an event of the history happened on (what was said, not when typed)."""
    data = event.data
    if event.kind in _REDATED:
        said = _stored_day(data.get("announced_on"))
        if said is not None:
            return said
    if event.kind is EventKind.SHIPPED:
        shipped = _stored_day(data.get("shipped_on")) or launch.shipped_on
        if shipped is not None:
            return shipped
    if event.kind is EventKind.CANCELLED:
        cancelled = _stored_day(data.get("cancelled_on"))
        if cancelled is not None:
            return cancelled
    return event.at.astimezone(dt.UTC).date()


def as_of(launch: Launch, events: Iterable[LaunchEvent], day: dt.date) -> Launch | None:
    """*launch* as it stood at the end of *day*, rebuilt from its history; None when it had
    not been announced yet.

    A launch shipped, cancelled, re-dated or revived after *day* is shown as it was before:
    open (upcoming, or slipped past the window it then had), with the window and slip count of
    its last promise on or before *day*. The first promise never changes, so lateness as of
    *day* follows the same rules as today's (``python bot.py stats --today`` uses this)."""
    if launch.announced_on > day:
        return None
    history = sorted(
        (e for e in events if e.kind in AS_OF_KINDS),
        key=lambda e: (_event_day(launch, e), e.at, e.id),
    )
    past = [e for e in history if _event_day(launch, e) <= day]
    redates = [e for e in history if e.kind in _REDATED]
    window_end, slips = launch.window_end, launch.slip_count
    if redates:
        said = [e for e in past if e.kind in _REDATED]
        if said:
            window_end = _stored_day(said[-1].data.get("window_end")) or launch.window_end
            slips = int(said[-1].data.get("slip_count", launch.slip_count))
        else:
            window_end, slips = launch.first_window_end, 0
    state: LaunchState | None = None  # None: open
    shipped_on: dt.date | None = None
    cancelled_on: dt.date | None = None
    if any(e.kind in _OUTCOMES for e in history):
        for event in past:
            if event.kind is EventKind.SHIPPED:
                state, shipped_on = LaunchState.SHIPPED, _event_day(launch, event)
            elif event.kind is EventKind.CANCELLED:
                state = LaunchState.CANCELLED
                cancelled_on = _stored_day(event.data.get("cancelled_on"))
            elif event.kind is EventKind.REVIVED:
                state, cancelled_on = None, None
        if state is LaunchState.SHIPPED and launch.state is LaunchState.SHIPPED:
            shipped_on = launch.shipped_on  # the record's own day (and precision)
    elif launch.state is LaunchState.SHIPPED and (
        launch.shipped_on is None or launch.shipped_on <= day
    ):
        state, shipped_on = LaunchState.SHIPPED, launch.shipped_on
    elif launch.state is LaunchState.CANCELLED and (
        launch.cancelled_on is None or launch.cancelled_on <= day
    ):
        state, cancelled_on = LaunchState.CANCELLED, launch.cancelled_on
    if state is None:
        state = LaunchState.SLIPPED if day > window_end else LaunchState.UPCOMING
    return dataclasses.replace(
        launch,
        state=state,
        window_end=window_end,
        slip_count=slips,
        shipped_on=shipped_on,
        cancelled_on=cancelled_on,
        days_late=(shipped_on - launch.first_window_end).days if shipped_on else None,
    )


def state_on(launch: Launch, today: dt.date) -> LaunchState:
    """The launch's state as of *today*: an open launch past its latest window end is slipped
    even if the sweep has not run yet (grace only delays the alert)."""
    if launch.state in (LaunchState.UPCOMING, LaunchState.SLIPPED):
        return LaunchState.SLIPPED if today > launch.window_end else LaunchState.UPCOMING
    return launch.state


def shipped_verdict(launch: Launch) -> str:
    """How a shipped launch did, in words: "48 days late", or for a re-dated one "48 days late
    against the first promise (2024-12-31), on time against the latest (2025-02-28)"."""
    assert launch.shipped_on is not None
    month = launch.outcome_precision is Precision.MONTH
    first = late_words((launch.shipped_on - launch.first_window_end).days, at_least=month)
    if launch.window_end == launch.first_window_end:
        return first
    latest = late_words((launch.shipped_on - launch.window_end).days, at_least=month)
    return (
        f"{first} against the first promise ({launch.first_window_end.isoformat()}), "
        f"{latest} against the latest ({launch.window_end.isoformat()})"
    )


def state_words(launch: Launch, today: dt.date) -> str:
    """A launch's standing on *today* in words, lateness always against the first promise and
    computed now (never a stored milestone figure): "shipped 2025-02-17 (48 days late)",
    "slipped (61 days late so far)", "cancelled (day unknown)", "upcoming"."""
    month = launch.outcome_precision is Precision.MONTH
    if launch.state is LaunchState.SHIPPED and launch.shipped_on is not None:
        late = (launch.shipped_on - launch.first_window_end).days
        shown = launch.outcome_precision.show(launch.shipped_on)
        return f"shipped {shown} ({late_words(late, at_least=month)})"
    if launch.state is LaunchState.CANCELLED:
        if launch.cancelled_on is None:
            return "cancelled (day unknown)"
        return f"cancelled {launch.outcome_precision.show(launch.cancelled_on)}"
    state = state_on(launch, today).value
    running = days_late(launch, today)
    if running is None:
        return state
    return f"{state} ({plural(running, 'day')} late so far)"


def lineage(launch: Launch, events: Iterable[LaunchEvent], today: dt.date) -> str:
    """Every promise of a launch in order and how it ended, e.g. 'promised "end of 2024"
    (2024-12-31) → re-dated "February 2025" (2025-02-28) → shipped 2025-02-17: 48 days late
    against the first promise (2024-12-31), 11 days early against the latest (2025-02-28)'."""
    steps: list[str] = []
    for event in sorted(events, key=lambda e: (e.at, e.id)):
        data = event.data
        window, end = data.get("window"), data.get("window_end")
        if event.kind is EventKind.CREATED and window:
            steps.append(f'promised "{window}" ({end})' if end else f'promised "{window}"')
        elif event.kind in (EventKind.REANNOUNCED, EventKind.REVIVED) and window:
            verb = "re-dated" if event.kind is EventKind.REANNOUNCED else "revived"
            steps.append(f'{verb} "{window}" ({end})' if end else f'{verb} "{window}"')
        elif event.kind is EventKind.CANCELLED:
            day = data.get("cancelled_on")
            steps.append(f"cancelled {day}" if day else "cancelled (day unknown)")
    if not steps:  # imported without its history: only the first promise is known
        steps.append(f"promised by {launch.first_window_end.isoformat()}")
    if launch.state is LaunchState.SHIPPED and launch.shipped_on is not None:
        shown = launch.outcome_precision.show(launch.shipped_on)
        steps.append(f"shipped {shown}: {shipped_verdict(launch)}")
    elif not launch.state.resolved:
        steps.append(state_words(launch, today))
    return " → ".join(steps)


def evidence_words(launch: Launch) -> str:
    """ "" for an official promise, else " · reported" or " · rumour" (shown beside it)."""
    return "" if launch.evidence is Evidence.OFFICIAL else f" · {launch.evidence.value}"


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
    """How *launch* stands on *today* under the rules in this module's docstring."""
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
        return late_words(self.days_late, at_least=self.at_least, still_out=self.still_out)


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
    time_multiplier: float | None  # median; see the module docstring
    time_multiplier_count: int  # launches it is the median of
    slips: int  # total slips over the scored launches
    still_late: tuple[LaunchFigure, ...]  # overdue open, most late first
    launches: tuple[LaunchScore, ...]  # every launch counted (by id)


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


def _fold(text: str | None) -> str | None:
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
    want_vendor = _fold(vendor)
    want_announcer = _fold(announcer)
    return [
        launch
        for launch in launches
        if (want_vendor is None or _fold(launch.vendor) == want_vendor)
        and (want_announcer is None or _fold(launch.announcer) == want_announcer)
        and (evidence == "all" or launch.evidence is not Evidence.RUMOUR)
    ]


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

    worst: LaunchFigure | None = None
    if late:
        top = min(late, key=lambda s: (-(s.days_late or 0), s.first_window_end, s.launch_id))
        worst = _figure(top)

    ratios: list[float] = []
    for score in shipped_late:
        launch = by_id[score.launch_id]
        promised = (launch.first_window_end - launch.announced_on).days
        if promised <= 0 or launch.shipped_on is None:
            continue  # a zero (or nonsensical) promised span has no meaningful multiple
        ratios.append((launch.shipped_on - launch.announced_on).days / promised)

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
        worst=worst,
        time_multiplier=_median(ratios),
        time_multiplier_count=len(ratios),
        slips=sum(s.slips for s in scored),
        still_late=tuple(
            _figure(s) for s in sorted(overdue, key=lambda s: (-(s.days_late or 0), s.launch_id))
        ),
        launches=tuple(scores),
    )


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
    key_of: Callable[[Launch], str | None] = (
        (lambda x: x.vendor) if by == "vendor" else (lambda x: x.announcer)
    )
    groups: dict[str, list[Launch]] = {}
    spellings: dict[str, dict[str, int]] = {}
    for launch in sorted(filter_launches(launches, evidence=evidence), key=lambda x: x.id):
        raw = key_of(launch)
        folded = _fold(raw)
        if raw is None or not folded:
            continue
        groups.setdefault(folded, []).append(launch)
        counts = spellings.setdefault(folded, {})
        shown = " ".join(raw.split())
        counts[shown] = counts.get(shown, 0) + 1

    ranked: list[tuple[tuple[float, float, str], LeaderboardEntry]] = []
    too_few: list[str] = []
    for folded, members in groups.items():
        counts = spellings[folded]
        name = max(counts, key=lambda s: counts[s])  # first inserted wins a tie
        record = compute_stats(members, today, evidence="all")
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


def to_json(result: Stats, board: Leaderboard) -> dict[str, object]:
    """The figures as one JSON-ready object (``python bot.py stats --json``): exactly the keys
    today, scored, on_time, shipped_late, overdue_open, cancelled, on_time_rate,
    median_days_late, time_multiplier, worst, leaderboard, launches."""
    worst = result.worst
    return {
        "today": result.today.isoformat(),
        "scored": result.scored,
        "on_time": result.on_time,
        "shipped_late": result.shipped_late,
        "overdue_open": result.overdue_open,
        "cancelled": result.cancelled,
        "on_time_rate": result.on_time_rate,
        "median_days_late": result.median_days_late,
        "time_multiplier": result.time_multiplier,
        "worst": None
        if worst is None
        else {
            "product": worst.product,
            "vendor": worst.vendor,
            "days_late": worst.days_late,
            "still_out": worst.still_out,
        },
        "leaderboard": [
            {"vendor": e.name, "scored": e.scored, "on_time": e.on_time, "rate": e.on_time_rate}
            for e in board.entries
        ],
        "launches": [
            {
                "product": s.product,
                "vendor": s.vendor,
                "state": s.state.value,
                "first_window_end": s.first_window_end.isoformat(),
                "latest_window_end": s.latest_window_end.isoformat(),
                "days_late": s.days_late,
                "slips": s.slips,
                "evidence": s.evidence.value,
            }
            for s in result.launches
        ],
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _days(value: float | None) -> str:
    if value is None:
        return "—"
    shown = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{shown} day{'' if shown == '1' else 's'}"


def to_text(result: Stats, board: Leaderboard) -> str:
    """The figures of /slips stats as plain text (the CLI without --json)."""
    scope = ", ".join(
        part
        for part in (
            f"vendor {result.vendor}" if result.vendor else "",
            f"announcer {result.announcer}" if result.announcer else "",
            "rumours included" if result.evidence == "all" else "",
        )
        if part
    )
    lines = [
        f"Score as of {result.today.isoformat()}" + (f" ({scope})" if scope else ""),
        f"{plural(result.total, 'launch')}: {result.scored} scored, "
        f"{result.not_yet_due} not yet due"
        + (
            f", {plural(result.rumours_left_out, 'rumour')} left out"
            if result.rumours_left_out
            else ""
        ),
        f"On time: {_pct(result.on_time_rate)} ({result.on_time} of {result.scored})",
        f"Shipped late: {result.shipped_late}; still out past the first promise: "
        f"{result.overdue_open}; cancelled: {result.cancelled}",
        f"Median late: {_days(result.median_days_late)}",
        "Time multiplier: "
        + (
            "—"
            if result.time_multiplier is None
            else f"x{result.time_multiplier:.2f} (median of {result.time_multiplier_count})"
        ),
        f"Kept the latest promise: {_pct(result.kept_latest_rate)} ({result.kept_latest})",
        f"Slips: {result.slips}",
    ]
    if result.worst is not None:
        worst = result.worst
        lines.append(f"Worst slip: {worst.product} ({worst.vendor}), {worst.words()}")
    if board.entries:
        lines.append(f"Leaderboard (at least {board.min_scored} scored):")
        lines += [
            f"  {e.rank}. {e.name}: {_pct(e.on_time_rate)} on time ({e.on_time}/{e.scored})"
            for e in board.entries
        ]
    lines.append("Rules: " + RULES)
    return "\n".join(lines)


class StatsService:
    """Loads a guild's launches and computes its record, leaderboards and timeline chart."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def _today(self, guild_id: int) -> dt.date:
        config = await self.store.read.guilds.get_guild(guild_id)
        try:
            tz = deadlines.zone(config.timezone)
        except InvalidInput:
            tz = deadlines.zone("UTC")
        return deadlines.local_today(self.clock.now(), tz)

    async def stats(
        self,
        guild_id: int,
        *,
        vendor: str | None = None,
        announcer: str | None = None,
        evidence: EvidenceFilter = "counted",
        today: dt.date | None = None,
    ) -> Stats:
        """The guild's score (/slips stats, the CLI) as of *today* (default: the guild's
        calendar day now), optionally for one vendor and/or announcer."""
        day = today or await self._today(guild_id)
        launches = await self._launches_on(guild_id, day)
        # The pure rules, unchanged, in a worker thread: a server with 20,000 launches does not
        # stall every other server's commands and alerts meanwhile.
        return await asyncio.to_thread(
            compute_stats, launches, day, vendor=vendor, announcer=announcer, evidence=evidence
        )

    async def leaderboard(
        self,
        guild_id: int,
        *,
        by: GroupBy = "vendor",
        min_scored: int = DEFAULT_MIN_SCORED,
        evidence: EvidenceFilter = "counted",
        today: dt.date | None = None,
        vendor: str | None = None,
        announcer: str | None = None,
    ) -> Leaderboard:
        """The guild's vendors (or announcers) ranked by on-time rate (/slips leaderboard),
        optionally over the launches of one vendor and/or announcer only."""
        if not 1 <= min_scored <= 1000:
            raise InvalidInput("The minimum number of scored launches must be 1 to 1000.")
        day = today or await self._today(guild_id)
        launches = filter_launches(
            await self._launches_on(guild_id, day), vendor=vendor, announcer=announcer
        )
        return await asyncio.to_thread(
            leaderboard, launches, day, by=by, min_scored=min_scored, evidence=evidence
        )

    async def _launches_on(self, guild_id: int, day: dt.date) -> list[Launch]:
        """The guild's launches as they stood on *day*: as stored when *day* is today or later,
        else rebuilt from their history (see :func:`as_of`)."""
        launches = await self.store.read.launches.all_launches(guild_id)
        if day >= await self._today(guild_id):
            return launches
        events = await self.store.read.events.events_by_launch(guild_id, kinds=AS_OF_KINDS)

        def rewind() -> list[Launch]:
            rebuilt = (as_of(x, events.get(x.id, ()), day) for x in launches)
            return [x for x in rebuilt if x is not None]

        return await asyncio.to_thread(rewind)

    async def today(self, guild_id: int) -> dt.date:
        """The guild's calendar day now (its timezone)."""
        return await self._today(guild_id)

    async def chart(
        self,
        guild_id: int,
        *,
        vendor: str | None = None,
        announcer: str | None = None,
        since: dt.date | None = None,
        evidence: EvidenceFilter = "counted",
        title: str | None = None,
        max_rows: int = 40,
    ) -> Chart:
        """A PNG timeline of the guild's launches (/slips chart, digests), optionally only those
        announced on or after *since*. Rendering runs in a worker thread so the event loop is
        never blocked."""
        launches = await asyncio.to_thread(
            filter_launches,
            await self.store.read.launches.all_launches(guild_id),
            vendor=vendor,
            announcer=announcer,
            evidence=evidence,
        )
        if since is not None:
            launches = [launch for launch in launches if launch.announced_on >= since]
        events = await self.store.read.events.events_by_launch(
            guild_id, kinds=(EventKind.REANNOUNCED, EventKind.REVIVED)
        )
        today = await self._today(guild_id)
        heading = title or "Promised vs. delivered" + (f": {vendor}" if vendor else "")
        if since is not None and title is None:
            heading += f" (since {since:%Y-%m-%d})"

        def draw() -> bytes:
            from tracker.chart import render_timeline  # matplotlib loads on first use only

            return render_timeline(launches, events, today, title=heading, max_rows=max_rows)

        return Chart(png=await asyncio.to_thread(draw), launches=len(launches))


@dataclass(frozen=True, slots=True)
class Chart:
    """A rendered timeline and how many launches it covers (0: the "nothing to show" image)."""

    png: bytes
    launches: int
