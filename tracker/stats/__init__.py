"""The score: how late announced launches are, measured the same way everywhere.

Pure functions over domain records (``today`` is always passed in), and a thin
:class:`StatsService` that loads a guild's launches for /slips, digests and the CLI:

- score: each launch's lateness and the figures over a set of launches (:func:`compute_stats`).
- leaderboard: vendors or announcers ranked by on-time rate.
- as_of: launches as they stood on a past day, rebuilt from their history.
- words: one launch's standing and lineage in words.
- report: the figures as JSON and plain text (the CLI).
- chart: the PNG timeline (matplotlib, imported on first use only).
- service: :class:`StatsService`.

These are the rules of the score; /slips shows them in its footer (:data:`RULES`).

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

from tracker.models import Evidence  # what EvidenceFilter chooses among, at hand with it
from tracker.stats.as_of import AS_OF_KINDS, as_of
from tracker.stats.leaderboard import (
    DEFAULT_MIN_SCORED,
    GroupBy,
    Leaderboard,
    LeaderboardEntry,
    leaderboard,
)
from tracker.stats.report import to_json, to_text
from tracker.stats.score import (
    RULES,
    EvidenceFilter,
    LaunchFigure,
    LaunchScore,
    Stats,
    compute_stats,
    days_late,
    filter_launches,
    score_launch,
    state_on,
)
from tracker.stats.service import Chart, StatsService
from tracker.stats.words import evidence_words, late_words, lineage, shipped_verdict, state_words

__all__ = [
    "AS_OF_KINDS",
    "DEFAULT_MIN_SCORED",
    "RULES",
    "Chart",
    "Evidence",
    "EvidenceFilter",
    "GroupBy",
    "LaunchFigure",
    "LaunchScore",
    "Leaderboard",
    "LeaderboardEntry",
    "Stats",
    "StatsService",
    "as_of",
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
